"""`positions schema`: the JSON Schema an editor checks scenario files with accepts every file the
import accepts (the fixtures, the documented examples, any generated scenario) and refuses the
mistakes it can see (a misspelt field, a value outside a choice, a malformed date)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings

from positions.scenario import parse_scenario, parse_text
from tests.runner import ROOT, run_cli
from tests.strategies import codebook, statements

SCHEMA = json.loads(run_cli("schema").out)
CHECKER = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
FILES = sorted([*(ROOT / "fixtures").glob("*.yaml"), *(ROOT / "docs" / "examples").glob("*.yaml")])


def as_editor_reads(data: Any) -> Any:
    """The file as a YAML editor's checker sees it: dates are strings."""
    return json.loads(json.dumps(data, default=str))


def problems(data: Any) -> list[str]:
    return sorted(error.message for error in CHECKER.iter_errors(as_editor_reads(data)))


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_shipped_scenario_file_is_valid_under_the_schema(path: Path) -> None:
    parse_scenario(path.read_text(encoding="utf-8"), path.name)  # the import takes it
    # read as YAML 1.2 reads it (an editor's checker too): `on` is a key, not true
    assert problems(parse_text(path.read_text(encoding="utf-8"))) == []


@settings(max_examples=20)
@given(stmts=statements())
def test_every_generated_scenario_the_import_accepts_is_valid_under_the_schema(
    stmts: list[dict[str, Any]],
) -> None:
    data = {
        **codebook(),
        "negotiation": "generated",
        "statements": [{k: v for k, v in s.items() if not k.startswith("_")} for s in stmts],
    }
    parse_scenario(json.dumps(data, default=str), "generated.json")
    assert problems(data) == []


def test_the_short_forms_of_a_date_a_source_and_conditions_are_valid() -> None:
    statement = {
        "id": "s1",
        "by": "alpha",
        "quote": "q",
        "issue": "water",
        "position": "share_all",
        "verdict": "accept_with_conditions",
        "proposal": "plan-a",
    }
    for on, sources, conditions in (
        ("2026-01-02", {"outlet": "Wire"}, "a condition"),
        ("before 2026-01-02", [{"outlet": "Wire", "url": "https://example.org/a"}], ["a", "b"]),
        ({"before": "2026-01-02"}, {"outlet": "Wire"}, []),
        ("2026-01-02", "https://www.example.org/a", []),
        ("2026-01-02", ["https://example.org/a", {"outlet": "Wire"}], []),
    ):
        found = {**statement, "on": on, "sources": sources, "conditions": conditions}
        assert problems({**codebook(), "statements": [found]}) == [], on


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sorces": [{"outlet": "Wire"}]}, "Additional properties are not allowed ('sorces'"),
        ({"confidence": "certain"}, "'certain' is not one of ['high', 'medium', 'low']"),
        ({"on": "13/01/2026"}, "'13/01/2026' is not valid under any of the given schemas"),
        ({"salience": 120}, "120 is not valid under any of the given schemas"),
    ],
)
def test_a_mistake_an_editor_can_see_is_refused(change: dict[str, Any], message: str) -> None:
    statement: dict[str, Any] = {"id": "s1", "on": "2026-01-02", "by": "alpha", "quote": "q"}
    statement |= {"sources": {"outlet": "Wire"}, "issue": "water", "position": "share_all"}
    assert problems({**codebook(), "statements": [statement]}) == []
    found = problems({**codebook(), "statements": [{**statement, **change}]})
    assert any(message in line for line in found), found


def test_a_new_file_replays_imports_and_names_every_field_a_file_may_hold(
    tmp_path: Path,
) -> None:
    path = tmp_path / "talks.yaml"
    made = run_cli("new", str(path))
    assert (made.code, made.err) == (0, "")
    assert made.out == f"Wrote {path}: edit it, then check it with `positions replay`.\n"
    text = path.read_text(encoding="utf-8")
    assert problems(parse_text(text)) == []
    assert run_cli("replay", str(path)).code == 0
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert run_cli("--store", url, "import", str(path)).code == 0
    # every field of every record, written or commented out, so that none is a surprise
    defs = SCHEMA["$defs"]
    for record in ("Party", "Speaker", "Issue", "ScalePoint", "Proposal", "StatementInput"):
        for field in defs[record]["properties"]:
            assert re.search(rf"^[ #-]*{field}:", text, re.M), (record, field)
    for record in ("DevelopmentInput", "Salience", "Correction", "Source"):
        for field in defs[record]["properties"]:
            assert re.search(rf"\b{field}\b", text), (record, field)
    for key in SCHEMA["properties"]:
        assert re.search(rf"^#? ?{key}:", text, re.M), key


def test_new_never_replaces_a_file_and_writes_to_the_standard_output_on_dash(
    tmp_path: Path,
) -> None:
    path = tmp_path / "talks.yaml"
    path.write_text("mine", encoding="utf-8")
    refused = run_cli("new", str(path))
    assert (refused.code, refused.out) == (2, "")
    assert refused.err == f"Error: {path} already exists: give the name of a new file\n"
    assert path.read_text(encoding="utf-8") == "mine"
    shown = run_cli("new", "-")
    assert shown.code == 0 and shown.out.startswith("# yaml-language-server: $schema=")
