"""Writing a file the user named: whole or not at all, and never through someone else's link.

A regular file (or a new one) is written to a temporary file with a random name created
exclusively in the same folder (``O_EXCL``: a link planted at a fixed name is never followed),
flushed to the disk and renamed into place; nothing is left behind on failure. A device or a
FIFO (``/dev/stdout``, a pipe) is written directly, and a directory is refused; ``-`` is the
standard output (`STDOUT`). Every write error (a full disk, an I/O error, a closed pipe) is one
`QueryError` line.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, cast

from positions.errors import QueryError

Writer = Callable[[BinaryIO], object]

STDOUT = "-"
"""The path that names the standard output, for every ``--out`` and export path."""


def is_stdout(path: Path | str) -> bool:
    return str(path) == STDOUT


def write_file(path: Path, write: Writer | bytes, label: str = "") -> None:
    """Write ``path`` with ``write`` (given the open binary file) or the bytes given;
    ``label`` goes in front of an error (``--out: ``)."""
    writer: Writer
    if isinstance(write, bytes):
        content = write

        def write_content(handle: BinaryIO) -> object:
            return handle.write(content)

        writer = write_content
    else:
        writer = write

    def failed(reason: str) -> QueryError:
        return QueryError(f"{label}cannot write {path}: {reason}")

    if is_stdout(path):
        try:
            writer(cast(BinaryIO, _Whole(sys.stdout.buffer)))
            sys.stdout.buffer.flush()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise QueryError(f"{label}cannot write to the standard output: {reason}") from None
        return

    try:
        found = path.stat()  # follows a link: a link to a device is written through
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise failed(exc.strerror or str(exc)) from None
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise failed("is a directory")
    if found is not None and not stat.S_ISREG(found.st_mode):
        try:
            with path.open("wb") as handle:
                writer(handle)
                handle.flush()
        except OSError as exc:
            raise failed(exc.strerror or str(exc)) from None
        return
    folder = path.parent
    if not folder.is_dir():
        raise failed(f"no directory {folder}")
    try:
        descriptor, name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise failed(exc.strerror or str(exc)) from None
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            writer(handle)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.chmod(new_file_mode())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise failed(exc.strerror or str(exc)) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def new_file_mode() -> int:
    """The mode a new file gets from ``open`` under this process's umask (a temporary file is
    made 0600; a file renamed into place gets this instead)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


class _Whole:
    """A binary stream whose ``write`` writes every byte or raises: the standard output's
    buffer writes a large block to a pipe with one call, which may write part of it and
    return the count (a reader that closed the pipe then goes unnoticed)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            written = self.stream.write(view)
            if not written:
                raise OSError(errno.EPIPE, os.strerror(errno.EPIPE))
            view = view[written:]
        return len(data)

    def flush(self) -> None:
        self.stream.flush()
