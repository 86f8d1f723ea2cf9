"""Scenario files: YAML (or JSON) holding a negotiation's definition and/or its statements.

Loading is strict and located: every problem is reported as ``FILE:LINE: what is wrong``, all
files are read and checked before anything is written, and YAML features that serve no purpose
here (aliases, duplicate keys, the ``yes``/``no``/``on``/``off`` booleans) are refused.
See docs/format.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from positions import messages
from positions.codebook import (
    Amendment,
    Correction,
    Development,
    Issue,
    Party,
    PartyOrParties,
    Proposal,
    Salience,
    Slug,
    Sources,
    Speaker,
    StatedOn,
    StatementCoding,
    Text,
)
from positions.drafts import Located, Scenario, StatementDraft
from positions.errors import Origin, Problem, ScenarioError

MAX_FILE_BYTES = 64 * 1024 * 1024


# ---------------------------------------------------------------------------------------------
# The file's records, as an analyst writes them


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class StatementInput(StatementCoding):
    """A statement as an analyst writes it: ``by`` a speaker or a party."""

    by: Slug | None = None
    party: PartyOrParties | None = None
    """The party it is made for, or a list of the parties that made it together."""


class DevelopmentInput(_Input):
    id: Slug | None = None
    on: StatedOn
    what: Text
    sources: Sources = ()

    def to_development(self) -> Development:
        dev_id = self.id
        if dev_id is None:
            digest = hashlib.sha256(f"{self.on}|{self.what}".encode()).hexdigest()[:12]
            dev_id = f"dev-{digest}"
        return Development(id=dev_id, on=self.on, what=self.what, sources=self.sources)


class ScenarioFile(_Input):
    negotiation: Slug
    title: Text | None = None
    parties: tuple[Party, ...] = ()
    speakers: tuple[Speaker, ...] = ()
    issues: tuple[Issue, ...] = ()
    proposals: tuple[Proposal, ...] = ()
    statements: tuple[StatementInput, ...] = ()
    developments: tuple[DevelopmentInput, ...] = ()
    salience: tuple[Salience, ...] = ()
    corrections: tuple[Correction, ...] = ()
    amendments: tuple[Amendment, ...] = ()


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (YAML or JSON) as `parse_scenario` reads it, for
    editors that check and complete a file while it is written. It says what each field
    takes; the rules between records (an id defined before it is used, a position on its
    issue's scale) are the import's to check."""
    schema = ScenarioFile.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "positions scenario file",
        "description": "A negotiation's codebook and the statements made in it (docs/format.md).",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


# ---------------------------------------------------------------------------------------------
# A strict YAML loader that remembers lines


class _Map(dict[Any, Any]):
    line: int
    key_lines: dict[Any, int]


class _List(list[Any]):
    line: int
    item_lines: list[int]


class LoaderError(Exception):
    """Text that is not YAML (or JSON) the strict loader takes, with the line it stops at."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _Strict(yaml.constructor.SafeConstructor):
    """The strict constructor of both loaders: mappings and lists that remember their lines;
    no merge keys, no duplicate keys, no integer too large."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if not isinstance(node, yaml.MappingNode):
            raise LoaderError(node.start_mark.line + 1, "expected a mapping")
        mapping = _Map()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise LoaderError(
                    key_node.start_mark.line + 1, "YAML merge keys (<<) are not allowed"
                )
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise LoaderError(
                    key_node.start_mark.line + 1, "a key must be a plain value"
                ) from None
            if key in mapping:
                raise LoaderError(
                    key_node.start_mark.line + 1,
                    f"duplicate key {key!r} (first at line {mapping.key_lines[key]})",
                )
            mapping.key_lines[key] = key_node.start_mark.line + 1
            mapping[key] = self.construct_object(value_node, deep=True)
        return mapping

    def construct_yaml_int(self, node: Any) -> Any:
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            raise LoaderError(node.start_mark.line + 1, "a number is too large") from None

    def construct_sequence(self, node: Any, deep: bool = False) -> Any:
        items = _List(self.construct_object(child, deep=True) for child in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [child.start_mark.line + 1 for child in node.value]
        return items


class _StrictLoader(_Strict, yaml.SafeLoader):
    """Safe loading with YAML 1.2 booleans, dates left as text, no aliases, no duplicate keys."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise LoaderError(
                event.start_mark.line + 1, "YAML aliases (*name) are not allowed in scenario files"
            )
        return super().compose_node(parent, index)


def _strict_resolvers() -> None:
    resolvers: dict[Any, Any] = {}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        resolvers[first] = [
            (tag, rx)
            for tag, rx in entries
            if tag
            not in (
                "tag:yaml.org,2002:bool",
                "tag:yaml.org,2002:timestamp",
                "tag:yaml.org,2002:int",
                "tag:yaml.org,2002:float",
            )
        ]
    _StrictLoader.yaml_implicit_resolvers = resolvers
    booleans = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
    _StrictLoader.add_implicit_resolver("tag:yaml.org,2002:bool", booleans, list("tTfF"))
    integers = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
    _StrictLoader.add_implicit_resolver("tag:yaml.org,2002:int", integers, list("-+0123456789"))
    floats = re.compile(
        r"^[-+]?(?:(?:0|[1-9][0-9]*)\.[0-9]*(?:[eE][-+]?[0-9]+)?|(?:0|[1-9][0-9]*)[eE][-+]?[0-9]+)$"
    )
    _StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", floats, list("-+0123456789"))


_strict_resolvers()


class ScenarioDumper(yaml.SafeDumper):
    """YAML written for `parse_text` to read back: it quotes a string exactly when the strict
    loader would read it as something else (``1e5``, ``true``, ``12``), because it decides so
    with the loader's own implicit resolvers."""


ScenarioDumper.yaml_implicit_resolvers = _StrictLoader.yaml_implicit_resolvers

_YAML_BREAKS = ("\x85", "\u2028", "\u2029")
"""Characters YAML reads as line breaks: in a plain or single-quoted scalar a reader folds
them into spaces, so a string holding one is written double-quoted, where they are escaped."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    if any(c in text for c in _YAML_BREAKS):
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')
    return dumper.represent_str(text)


ScenarioDumper.add_representer(str, _represent_text)


def dump_scenario(document: Any) -> str:
    """A scenario document (JSON-ready values: dates as text) as YAML that reads back as it."""
    return yaml.dump(
        document, Dumper=ScenarioDumper, sort_keys=False, allow_unicode=True, width=100
    )


class _Aliased(Exception):
    """A node was reached twice: the text uses an alias (the pure-Python loader says where)."""


class _FastStrictLoader(_Strict, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """`_StrictLoader`'s constructor and resolvers over libyaml's parser (an order of magnitude
    faster than PyYAML's own). libyaml composes aliases itself, so a node constructed twice
    stops it (`_Aliased`); anything it refuses is read again by `_StrictLoader`, which
    locates the problem. (PyYAML built without libyaml has no such parser: `parse_text` then
    reads with `_StrictLoader` alone, and this class is never used.)"""

    yaml_implicit_resolvers = _StrictLoader.yaml_implicit_resolvers

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        if node in self.constructed_objects or node in self.recursive_objects:
            raise _Aliased
        return super().construct_object(node, deep)


for _loader in (_StrictLoader, _FastStrictLoader):
    for _tag, _method in (
        ("map", "construct_mapping"),
        ("seq", "construct_sequence"),
        ("int", "construct_yaml_int"),
    ):
        _loader.add_constructor(f"tag:yaml.org,2002:{_tag}", getattr(_loader, _method))


def parse_text(text: str, fast: bool = True) -> Any:
    """Parse YAML or JSON text strictly; raise `LoaderError` with a line on failure. libyaml
    reads it when it can (`_FastStrictLoader`, unless ``fast`` is false); a text it refuses is
    read again by the pure-Python loader, so that every problem is reported the same way."""
    if fast and yaml.__with_libyaml__:
        try:
            return yaml.load(text, Loader=_FastStrictLoader)
        except (_Aliased, LoaderError, yaml.YAMLError, ValueError, TypeError, RecursionError):
            pass
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except LoaderError:
        raise
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        code = (
            exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        )
        raise LoaderError(
            line, f"holds a control character (#x{code:04x}) YAML does not allow"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or exc.context or "malformed YAML"
        raise LoaderError(line, f"malformed YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise LoaderError(1, f"malformed YAML: {exc}") from None
    except RecursionError:
        raise LoaderError(1, "the file nests too deeply") from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise LoaderError(1, f"malformed YAML: {exc}") from None


# ---------------------------------------------------------------------------------------------
# Locating validation errors


def _line_of(data: Any, loc: Iterable[Any]) -> int:
    line = getattr(data, "line", 1)
    node = data
    for step in loc:
        if isinstance(node, _Map) and step in node:
            line = node.key_lines[step]
            node = node[step]
        elif isinstance(node, _List) and isinstance(step, int) and 0 <= step < len(node):
            line = node.item_lines[step]
            node = node[step]
        else:
            break
        if isinstance(node, _Map | _List):
            line = node.line if isinstance(node, _List) else line
    return line


def _path(data: Any, loc: tuple[Any, ...]) -> str:
    out = ""
    node = data
    for step in loc:
        if step == "[key]":  # pydantic's mark of a mapping's key: the step before names it
            continue
        if isinstance(node, _Map) and not isinstance(step, str):
            break  # a key YAML read as another type: the message names it
        if isinstance(step, int):
            out += f"[{step}]"
            if isinstance(node, _List) and 0 <= step < len(node):
                node = node[step]
                if isinstance(node, _Map) and isinstance(node.get("id"), str):
                    out += f" ({node['id']})"
            else:
                node = None
        else:
            out += f".{step}" if out else str(step)
            node = node.get(step) if isinstance(node, _Map) else None
    return out


def _counted_after_failures(error: Any) -> bool:
    """A list that pydantic finds too short only because some of its items failed (it counts
    the valid items): the items' own problems say what is wrong."""
    given = error.get("input")
    wanted = (error.get("ctx") or {}).get("min_length")
    return (
        error["type"] == "too_short"
        and isinstance(given, list | tuple | dict)
        and isinstance(wanted, int)
        and len(given) >= wanted
    )


def _message(error: Any, model: type[BaseModel] = ScenarioFile) -> str:
    """A pydantic error in the format's words (`positions.messages`)."""
    return messages.message(error, model)


def _origin(path: str, item: Any) -> Origin:
    if isinstance(item, _Map):
        fields = tuple((str(k), line) for k, line in item.key_lines.items())
        return Origin(path, item.line, fields)
    return Origin(path, getattr(item, "line", 1))


def _located(path: str, raw: Any, key: str, values: tuple[Any, ...]) -> tuple[Located, ...]:
    items = raw.get(key) if isinstance(raw, _Map) else None
    if isinstance(items, _JsonList) and len(items) == len(values):
        lines: dict[int, Origin] = {}  # records on one line share its origin (a file on one)
        return tuple(
            Located(value, items.origin(path, index, lines)) for index, value in enumerate(values)
        )
    out = []
    for index, value in enumerate(values):
        item = items[index] if isinstance(items, _List) and index < len(items) else None
        out.append(Located(value, _origin(path, item)))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Loading


SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")
"""The files read as scenario files (any other suffix that is not a spreadsheet's is refused)."""


def read_scenario(path: Path) -> Scenario:
    """Read and validate one scenario file; raise `ScenarioError` naming every problem found."""
    name = str(path)
    data = read_regular_file(path, name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError([Problem(name, line, "is not valid UTF-8")]) from None
    return parse_scenario(text, name)


def read_regular_file(path: Path, name: str) -> bytes:
    """The bytes of a regular file of at most ``MAX_FILE_BYTES``, checked before it is read:
    a FIFO with no writer would wait forever, a device such as /dev/zero would never end, and a
    large sparse file would be read whole before its size was known."""

    def problem(message: str) -> ScenarioError:
        return ScenarioError([Problem(name, 0, message)])

    try:
        with open(path, "rb", opener=_opener) as handle:
            found = os.fstat(handle.fileno())
            if stat.S_ISDIR(found.st_mode):
                raise problem("is a directory, not a scenario file")
            if not stat.S_ISREG(found.st_mode):
                raise problem("is not a regular file (a device, a pipe or a socket)")
            if found.st_size > MAX_FILE_BYTES:
                raise problem(f"is larger than {MAX_FILE_BYTES // 2**20} MiB")
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise problem("no such file") from None
    except IsADirectoryError:
        raise problem("is a directory, not a scenario file") from None
    except OSError as exc:
        raise problem(f"cannot be read: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:  # it grew while it was read
        raise problem(f"is larger than {MAX_FILE_BYTES // 2**20} MiB")
    return data


def _opener(path: str, flags: int) -> int:
    """Open without waiting: a FIFO opened for reading blocks until a writer comes."""
    return os.open(path, flags | os.O_NONBLOCK)


def parse_scenario(text: str, name: str) -> Scenario:
    """Validate a scenario given as text; ``name`` is what problems are reported against.

    The text is read once, with the line of every record. A JSON document is read by the
    standard library's parser (an order of magnitude faster than YAML's), record by record
    (`_read_json`); anything it does not take as plain JSON is read by the strict YAML
    loader, which says what is wrong with its line."""
    raw: Any = None
    if text.lstrip("\ufeff \t\r\n").startswith("{"):
        raw = _read_json(text.removeprefix("\ufeff"))
    if raw is None:
        try:
            raw = parse_text(text.removeprefix("\ufeff"))
        except LoaderError as exc:
            raise ScenarioError([Problem(name, exc.line, exc.message)]) from None
    if raw is None:
        raise ScenarioError([Problem(name, 1, "is empty")])
    if not isinstance(raw, _Map):
        raise ScenarioError(
            [Problem(name, getattr(raw, "line", 1), "must be a mapping with a 'negotiation' key")]
        )
    try:
        model = ScenarioFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            if _counted_after_failures(error):
                continue  # the failing items are reported, each in its place
            loc = messages.location(error)
            found = _itemised(raw, loc)
            line = _line_of(found, loc)
            where = _path(found, loc)
            message = _message(error)
            problems.append(Problem(name, line, f"{where}: {message}" if where else message))
        raise ScenarioError(problems) from None
    return Scenario(
        path=name,
        negotiation=model.negotiation,
        title=model.title,
        origin=Origin(name, raw.key_lines.get("negotiation", 1)),
        parties=_located(name, raw, "parties", model.parties),
        speakers=_located(name, raw, "speakers", model.speakers),
        issues=_located(name, raw, "issues", model.issues),
        proposals=_located(name, raw, "proposals", model.proposals),
        statements=_located(name, raw, "statements", _drafts(model.statements)),
        developments=_located(
            name, raw, "developments", tuple(d.to_development() for d in model.developments)
        ),
        salience=_located(name, raw, "salience", model.salience),
        corrections=_located(name, raw, "corrections", model.corrections),
        amendments=_located(name, raw, "amendments", model.amendments),
    )


def _drafts(statements: tuple[StatementInput, ...]) -> tuple[StatementDraft, ...]:
    """The validated statements as the planner takes them (`drafts.StatementDraft`)."""
    return tuple(StatementDraft.of(s) for s in statements)


class _Duplicate(Exception):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Duplicate
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


_SPACE = re.compile(r"[ \t\n\r]+")


def _skip(text: str, pos: int) -> int:
    """The first position at or after ``pos`` that is not JSON whitespace."""
    found = _SPACE.match(text, pos)
    return pos if found is None else found.end()


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_reject_constant)


class _JsonMap(_Map):
    """A JSON document's top-level mapping as `_read_json` reads it: its lists are `_JsonList`s
    whose items are plain values (their lines are known, their fields' lines found on
    demand)."""

    text: str


class _JsonList(_List):
    opened: int
    """Where the list opens in the text (its ``[``)."""
    starts: list[int]
    """Where each item starts in the text (to find its fields' lines: `_JsonList.item`)."""
    ends: list[int]
    text: str

    def origin(self, path: str, index: int, lines: dict[int, Origin]) -> Origin:
        """Where item ``index`` is: its line, and for one written over several lines the line
        of each of its fields (``lines``: the origins of one line made so far, to share)."""
        line = self.item_lines[index]
        start, end = self.starts[index], self.ends[index]
        if self.text.count("\n", start, end) == 0 or not isinstance(self[index], dict):
            found = lines.get(line)
            if found is None:
                found = lines[line] = Origin(path, line)
            return found
        return Origin(path, line, _field_lines(self.text, start, line))

    def item(self, index: int) -> Any:
        """The item at ``index`` as the strict loader reads it, with the line of everything in
        it: a record that a problem is found in (read from the text already read)."""
        start, end = self.starts[index], self.ends[index]
        padded = "\n" * (self.item_lines[index] - 1) + self.text[start:end]
        try:
            return parse_text(padded)
        except LoaderError:
            return self[index]


def _read_json(text: str) -> _Map | None:
    """A JSON document whose top level is a mapping, read by the standard library's parser one
    record at a time so that each record's line (and, for a record written over several
    lines, each field's) is known; None for anything that is not plain JSON (duplicate keys,
    NaN, a top level that is not a mapping...), which the strict loader then reads or refuses
    with its line."""
    try:
        return _json_document(text)
    except (ValueError, IndexError, _Duplicate, RecursionError):
        return None


def _json_document(text: str) -> _Map:
    """`_read_json`'s walk: a ValueError (or IndexError) for text that is not plain JSON."""
    decode = _DECODER.raw_decode
    pos = _expect(text, _skip(text, 0), "{")
    document = _JsonMap()
    document.text = text
    marks: list[int] = [pos - 1]  # every offset whose line is wanted, in order
    keys: list[str] = []
    lists: list[_JsonList] = []
    pos, done = _opened(text, pos, "}")
    while not done:
        marks.append(pos)
        _expect(text, pos, '"')  # a key is a string
        key, pos = decode(text, pos)
        if key in document:
            raise _Duplicate
        keys.append(key)
        pos = _skip(text, _expect(text, _skip(text, pos), ":"))
        value: Any
        if text[pos] == "[":
            value = _JsonList()
            value.text = text
            value.starts, value.ends, value.opened = [], [], pos
            pos, closed = _opened(text, pos + 1, "]")
            while not closed:
                value.starts.append(pos)
                item, pos = decode(text, pos)
                value.append(item)
                value.ends.append(pos)
                pos, closed = _next(text, pos, "]")
            lists.append(value)
        else:
            value, pos = decode(text, pos)
        document[key] = value
        pos, done = _next(text, pos, "}")
    if _skip(text, pos) != len(text):
        raise ValueError("text after the document")
    lines = _lines_at(text, marks)
    document.line = lines[0]
    document.key_lines = {key: lines[1 + n] for n, key in enumerate(keys)}
    for items in lists:
        items.line = _lines_at(text, [items.opened])[0]
        items.item_lines = _lines_at(text, items.starts, items.opened, items.line)
    return document


def _expect(text: str, pos: int, char: str) -> int:
    """The position past ``char``, which must be at ``pos``."""
    if text[pos] != char:
        raise ValueError(f"expected {char!r}")
    return pos + 1


def _opened(text: str, pos: int, close: str) -> tuple[int, bool]:
    """Just inside an object or a list: where its first member starts, and whether it is
    empty (then the position past ``close``)."""
    pos = _skip(text, pos)
    return (pos + 1, True) if text[pos] == close else (pos, False)


def _next(text: str, pos: int, close: str) -> tuple[int, bool]:
    """After a member of an object or a list: where the next one starts, or the position past
    ``close`` and True when there is none."""
    pos = _skip(text, pos)
    if text[pos] == close:
        return pos + 1, True
    return _skip(text, _expect(text, pos, ",")), False


def _field_lines(text: str, start: int, line: int) -> tuple[tuple[str, int], ...]:
    """The line of each key of the JSON object at ``start`` (which is on ``line``)."""
    found = []
    since = start
    pos, done = _opened(text, start + 1, "}")
    while not done:
        line += text.count("\n", since, pos)
        since = pos
        key, pos = _DECODER.raw_decode(text, pos)
        found.append((key, line))
        pos = _skip(text, _expect(text, _skip(text, pos), ":"))
        _, pos = _DECODER.raw_decode(text, pos)
        pos, done = _next(text, pos, "}")
    return tuple(found)


def _lines_at(text: str, offsets: list[int], since: int = 0, line: int = 1) -> list[int]:
    """The line of each of ``offsets`` (ascending, from ``since``, which is on ``line``)."""
    found = []
    count = text.count
    for offset in offsets:
        line += count("\n", since, offset)
        since = offset
        found.append(line)
    return found


def _itemised(raw: _Map, loc: tuple[Any, ...]) -> Any:
    """``raw`` with the record a problem at ``loc`` is in read with all its lines (a JSON
    document's records carry their own line alone until one needs locating)."""
    if not isinstance(raw, _JsonMap) or len(loc) < 2:
        return raw
    items = raw.get(loc[0])
    if not isinstance(items, _JsonList) or not isinstance(loc[1], int):
        return raw
    if not 0 <= loc[1] < len(items):
        return raw
    copy = _Map(raw)
    copy.line, copy.key_lines = raw.line, raw.key_lines
    located_items = _List(items)
    located_items.line, located_items.item_lines = items.line, items.item_lines
    located_items[loc[1]] = items.item(loc[1])
    copy[loc[0]] = located_items
    return copy


def _named(scenario: Scenario, negotiation: str | None) -> Scenario:
    """A scenario file of the negotiation ``--negotiation`` names, if it names one."""
    if negotiation is not None and scenario.negotiation != negotiation:
        raise ScenarioError(
            [
                scenario.origin.problem(
                    f"negotiation {scenario.negotiation!r} is not --negotiation {negotiation!r}"
                )
            ]
        )
    return scenario


def hypothetical(scenario: Scenario) -> Scenario:
    """The scenario with every statement marked hypothetical (for what-if replays)."""
    marked = tuple(
        Located(replace(item.value, hypothetical=True), item.origin) for item in scenario.statements
    )
    return replace(scenario, statements=marked)


def read_scenarios(
    paths: Iterable[Path],
    *,
    what_if: bool = False,
    negotiation: str | None = None,
    each: Callable[[int, list[Scenario]], None] | None = None,
) -> list[Scenario]:
    """Read every file (scenario files, and spreadsheets of statements of ``negotiation``
    unless they name theirs: `positions.spreadsheet`), collecting the problems of all of
    them before raising; ``each``, if given, is told after each file how many have been read,
    with the scenarios read so far (for a progress display)."""
    from positions.spreadsheet import SUFFIXES, read_spreadsheet

    scenarios: list[Scenario] = []
    problems: list[Problem] = []
    for number, path in enumerate(paths, 1):
        suffix = path.suffix.lower()
        try:
            if suffix in SUFFIXES:
                found = read_spreadsheet(path, negotiation)
            elif suffix in SCENARIO_SUFFIXES or not suffix or path.is_dir():
                found = [_named(read_scenario(path), negotiation)]
            else:
                formats = ", ".join((*SCENARIO_SUFFIXES, *SUFFIXES))
                raise ScenarioError(
                    [
                        Problem(
                            str(path),
                            0,
                            f"is neither a scenario file nor a spreadsheet of "
                            f"statements: positions takes {formats}",
                        )
                    ]
                )
            scenarios.extend(hypothetical(s) if what_if else s for s in found)
        except ScenarioError as exc:
            problems.extend(exc.problems)
        if each is not None:
            each(number, scenarios)
    if problems:
        raise ScenarioError(problems)
    return scenarios


__all__ = [
    "Located",
    "Scenario",
    "ScenarioFile",
    "StatementInput",
    "parse_scenario",
    "read_scenarios",
]
