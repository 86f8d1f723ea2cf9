"""Vega-Lite specifications drawn as SVG by vl-convert: the one call the timelines' pictures
make, here or in a worker process (`Workers`) that draws a large report's timelines while the
report goes on reading. A worker is ``python -m positions.drawing``: it reads one
specification a line (JSON) on its standard input and answers each with ``OK <length>`` or
``ERROR <length>`` and that many bytes (the SVG, or the error's message) on its standard
output. This module imports nothing else of the package, so that a worker starts quickly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any


def svg(spec: dict[str, Any]) -> bytes:
    """A specification (its texts made visible already) drawn as an SVG document."""
    import vl_convert as vlc

    return str(vlc.vegalite_to_svg(spec)).encode("utf-8")


class DrawingError(Exception):
    """A worker could not draw a specification, or stopped."""


class Workers:
    """Worker processes that draw specifications (each driven by a thread of this process
    that waits on its pipes, so this process's own work goes on meanwhile)."""

    def __init__(self, count: int) -> None:
        self._count = count
        self._local = threading.local()
        self._started: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(max_workers=count, thread_name_prefix="drawing")

    def submit(self, spec: dict[str, Any]) -> Future[bytes]:
        line = json.dumps(spec, ensure_ascii=True, separators=(",", ":")).encode("ascii")
        return self._threads.submit(self._draw, line)

    def _draw(self, line: bytes) -> bytes:
        try:
            worker = getattr(self._local, "worker", None)
            if worker is None:
                worker = self._local.worker = self._start()
            assert worker.stdin is not None
            assert worker.stdout is not None
            worker.stdin.write(line + b"\n")
            worker.stdin.flush()
            return _answer(worker.stdout)
        except (OSError, ValueError) as exc:
            raise DrawingError(f"the drawing process stopped ({exc})") from None

    def _start(self) -> subprocess.Popen[bytes]:
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        worker = subprocess.Popen(
            [sys.executable, "-m", "positions.drawing"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        with self._lock:
            self._started.append(worker)
        return worker

    def close(self) -> None:
        """Stop the workers (each finishes what it was drawing)."""
        self._threads.shutdown(wait=True, cancel_futures=True)
        for worker in self._started:
            if worker.stdin is not None:
                worker.stdin.close()
            if worker.stdout is not None:
                worker.stdout.close()
            worker.wait()


def _answer(stream: IO[bytes]) -> bytes:
    head = stream.readline().split()
    if len(head) != 2 or head[0] not in (b"OK", b"ERROR") or not head[1].isdigit():
        raise DrawingError("the drawing process stopped")
    body = stream.read(int(head[1]))
    if head[0] == b"ERROR":
        raise DrawingError(body.decode("utf-8", "replace"))
    return body


def serve(source: IO[bytes], sink: IO[bytes]) -> None:
    """A worker's loop: a specification a line in, an answer out, until the input ends."""
    for line in source:
        try:
            body, status = svg(json.loads(line)), b"OK"
        except Exception as exc:  # the message goes back to the report, on one line
            lines = str(exc).strip().splitlines()[:2] or [type(exc).__name__]
            body, status = " ".join(line.strip() for line in lines).encode("utf-8"), b"ERROR"
        sink.write(b"%s %d\n" % (status, len(body)) + body)
        sink.flush()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
