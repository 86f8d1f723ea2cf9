"""pydantic's validation errors in the words of the format: what a field expects and, where it
can be told, how to fix what was written (docs/errors.md lists them).

`message` takes one error of ``ValidationError.errors()`` and the model the error's location
starts from (a scenario file's, or one statement's for a spreadsheet row), so that an unknown
field can be matched against the fields its record takes.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any

from pydantic import BaseModel

from positions.hints import did_you_mean

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
SLUG_PATTERN = "'^[a-z0-9][a-z0-9_.-]{0,99}$'"
URL_PATTERN = r"'^https?://\S+$'"
LANGUAGE_PATTERN = "'^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'"
LANGUAGE = re.compile(LANGUAGE_PATTERN[1:-1])
DATE_ERRORS = frozenset(
    {"date_from_datetime_parsing", "date_parsing", "date_type", "date_from_datetime_inexact"}
)
NUMBER_ERRORS = frozenset({"int_parsing", "float_parsing", "int_type", "float_type"})
FORMS = frozenset({(f, tag) for f in ("party", "by") for tag in ("one", "list")})
"""The tags of a field written in one of two forms (`codebook.PartyOrParties`): not part of
where an error lies."""
DATED = frozenset({"on"})
"""Fields that take ``before DATE`` as well as a date."""


def location(error: Any) -> tuple[Any, ...]:
    """Where an error lies, as the file's author sees it: a date's inner field (``on.day``)
    and the member of a union of numbers (``capability.int``) are the field itself."""
    loc = tuple(error["loc"])
    loc = tuple(step for n, step in enumerate(loc) if not (n and (loc[n - 1], step) in FORMS))
    if len(loc) >= 2 and loc[-2] in DATED and loc[-1] in ("day", "before"):
        loc = loc[:-1]
    if len(loc) >= 2 and loc[-1] in ("int", "float") and error["type"] in NUMBER_ERRORS:
        loc = loc[:-1]
    return loc


def message(error: Any, model: type[BaseModel]) -> str:
    """The message of one pydantic error, in the format's words."""
    kind = error["type"]
    msg = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    ctx = error.get("ctx") or {}
    given = error.get("input")
    loc = location(error)
    field = next((step for step in reversed(loc) if isinstance(step, str)), "")
    if loc and loc[-1] == "[key]" and kind == "string_type":
        shown = str(given).lower() if isinstance(given, bool) else given
        return (
            f"a name must be text, not {shown}: write it in quotes ('{shown}'), since YAML reads "
            "true, false, null and numbers unquoted as other things"
        )
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else ""
        known = fields_at(model, loc[:-1])
        hint = did_you_mean(name, known) if known else ""
        return f"unknown field{hint or ' (see docs/format.md for the fields a record takes)'}"
    if kind == "missing":
        return "required field is missing"
    held = f"{len(given):,}" if isinstance(given, list | tuple | dict) else None
    if kind == "too_long" and "max_length" in ctx:
        return f"holds {held or 'more'} items; at most {ctx['max_length']:,} are allowed"
    if kind == "too_short" and "min_length" in ctx:
        return f"holds {held or 'fewer'} item(s); at least {ctx['min_length']:,} are needed"
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "may not be empty"
    if kind in ("enum", "literal_error") and "expected" in ctx:
        choices = re.findall(r"'([^']*)'", str(ctx["expected"]))
        text = str(given)
        return f"expected one of {', '.join(choices)}, not {text!r}" + did_you_mean(text, choices)
    if kind in DATE_ERRORS:
        return _date(given, before=field in DATED)
    if kind == "string_pattern_mismatch":
        return _pattern(msg, str(given))
    if kind in NUMBER_ERRORS:
        return f"expected a number, not {given!r}"
    if kind in ("bool_parsing", "bool_type"):
        return f"expected true or false, not {given!r}"
    if kind in ("greater_than_equal", "greater_than") and ("ge" in ctx or "gt" in ctx):
        return f"must be at least {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than") and ("le" in ctx or "lt" in ctx):
        return f"must be at most {ctx.get('le', ctx.get('lt'))}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        if ctx.get("class_name") == "Source":
            return (
                f"a source is a mapping such as {{outlet: CNN, url: https://…}}, or a URL; "
                f"not {given!r}"
            )
        return f"expected a mapping of fields (name: value), not {given!r}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, not {given!r}"
    if kind in ("string_type",):
        return f"expected text, not {given!r}"
    return msg


def _date(given: Any, before: bool) -> str:
    text = str(given)
    forms = "YYYY-MM-DD (or before YYYY-MM-DD)" if before else "YYYY-MM-DD"
    if DAY.match(text):
        return f"{text!r} is not a day of the calendar"
    return f"expected a date as {forms}, not {text!r}"


def _pattern(msg: str, given: str) -> str:
    if msg.endswith(SLUG_PATTERN):
        lower = given.lower()
        if lower != given and SLUG.match(lower):
            return f"ids are lower case: write {lower!r}"
        return (
            "an id takes lower-case letters, digits, '_', '-' and '.', "
            "starting with a letter or digit"
        )
    if msg.endswith(URL_PATTERN):
        return url_problem(given)
    if msg.endswith(LANGUAGE_PATTERN):
        first, *rest = given.split("-")
        fixed = "-".join([first.lower(), *rest])
        fix = f": write {fixed!r}" if fixed != given and LANGUAGE.match(fixed) else ""
        return f"expected a language tag such as 'ru', 'uk' or 'pt-BR' (BCP 47){fix}"
    return msg


def url_problem(given: str) -> str:
    """What is wrong with a URL that is not ``http(s)://`` and free of spaces."""
    fix = ""
    if given and not re.search(r"\s", given) and "://" not in given:
        fix = f": write 'https://{given}'"
    return f"a url starts with http:// or https:// and holds no spaces{fix}"


def fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The fields of the record at ``loc`` inside ``model`` (none when it is not a record)."""
    kind: Any = model
    for step in loc:
        kind = _record(kind)
        if isinstance(step, int):
            kind = _item(kind)
        elif isinstance(kind, type) and issubclass(kind, BaseModel) and step in kind.model_fields:
            kind = kind.model_fields[step].annotation
        else:
            return []
    kind = _record(kind)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return list(kind.model_fields)
    return []


def _record(kind: Any) -> Any:
    """``kind`` without ``Annotated`` and ``None``: the record type of an optional field."""
    while typing.get_origin(kind) is typing.Annotated:
        kind = typing.get_args(kind)[0]
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        members = [_record(k) for k in typing.get_args(kind) if k is not type(None)]
        records = [k for k in members if isinstance(k, type) and issubclass(k, BaseModel)]
        return records[0] if len(records) == 1 else (members[0] if members else kind)
    return kind


def _item(kind: Any) -> Any:
    """The type of a list's or tuple's items."""
    args = typing.get_args(_record(kind))
    return args[0] if args else None
