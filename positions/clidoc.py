"""Generate docs/cli.md from the commands' ``--help`` (``make docs``); a test keeps it current."""

from __future__ import annotations

import click

from positions.cli import cli


def _help(command: click.Command, path: str) -> str:
    """The help of ``command`` as ``positions`` prints it: in a context made with the group's
    settings (``-h`` too), as a real invocation makes it (click keeps the help option it first
    made on the command, so a context without them would depend on what ran before)."""
    root = click.Context(cli, info_name="positions", terminal_width=100, **cli.context_settings)
    if command is cli:
        return cli.get_help(root)
    ctx = click.Context(command, info_name=path.rsplit(" ", 1)[-1], parent=root)
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
