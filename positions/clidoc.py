"""Generate docs/cli.md from the commands' ``--help`` (``make docs``); a test keeps it current."""

from __future__ import annotations

import click

from positions.cli import cli


def _help(command: click.Command, path: str) -> str:
    ctx = click.Context(command, info_name=path, max_content_width=100, terminal_width=100)
    return command.get_help(ctx)


def generate() -> str:
    parts = [
        "# CLI reference",
        "",
        "Generated from `positions --help` by `make docs`; a test fails when it is out of date.",
        "Every error is one line `Error: …` on standard error and exit status 2.",
        "",
        "## positions",
        "",
        "```",
        _help(cli, "positions"),
        "```",
    ]
    assert isinstance(cli, click.Group)
    for name in sorted(cli.commands):
        command = cli.commands[name]
        parts += ["", f"## positions {name}", "", "```", _help(command, f"positions {name}"), "```"]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(generate(), end="")
