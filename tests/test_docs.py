"""The README against the program: every option it names is one the command takes, every
setting it names is one the configuration knows, and the reverse."""

from __future__ import annotations

import dataclasses
import re

import pytest
from conftest import ROOT
from typer.testing import CliRunner

from vaultsync.cli import app
from vaultsync.config import Config

README = (ROOT / "README.md").read_text("utf-8")
OPTION = r"(?<![\w-])--[a-z][a-z-]*(?![\w-])"
runner = CliRunner()


def _table(first_cell: str) -> list[tuple[str, str]]:
    """(first cell, whole row) of the README's table rows whose first cell matches."""
    return [
        (m.group(1), m.group(0))
        for m in re.finditer(rf"^\| `({first_cell})`.*$", README, re.MULTILINE)
    ]


def _commands() -> dict[str, set[str]]:
    """Each command of the README's table, with the options named on its rows."""
    found: dict[str, set[str]] = {}
    command = ""
    for line in README.splitlines():
        row = re.match(r"^\| `(vaultsync [a-z]+|  --[a-z-]+)", line)
        if not row:
            continue
        if row.group(1).startswith("vaultsync"):
            command = row.group(1).split()[1]
            found[command] = set()
        found[command].update(re.findall(OPTION, line))
    return found


COMMANDS = _commands()


def test_the_readme_lists_every_command() -> None:
    help_text = runner.invoke(app, ["--help"]).stdout
    commands = help_text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"^  ([a-z]+) ", commands, re.MULTILINE))
    assert listed and listed <= set(COMMANDS), listed - set(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_the_readme_names_every_option_and_no_other(command: str) -> None:
    result = runner.invoke(app, [command, "-h"])
    assert result.exit_code == 0, result.output
    taken = set(re.findall(OPTION, result.stdout)) - {"--help"}
    assert COMMANDS[command] == taken, f"README against `vaultsync {command} --help`"


def test_the_settings_table_is_the_configuration() -> None:
    documented = {re.sub(r"[\[\]]", "", cell) for cell, _ in _table(r"\[?[a-z_]+\]?")}
    fields = {f.name for f in dataclasses.fields(Config)}
    assert documented == fields


def test_the_sample_vault_holds_the_templates_init_copies() -> None:
    shipped = sorted((ROOT / "templates").glob("*.md"))
    assert [p.name for p in shipped] == sorted(
        p.name for p in (ROOT / "sample_vault/Templates").glob("*.md")
    )
    for path in shipped:
        assert (ROOT / "sample_vault/Templates" / path.name).read_bytes() == path.read_bytes()
