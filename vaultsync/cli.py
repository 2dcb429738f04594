"""The command line: parse arguments, call one library function, map errors to exit codes."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from . import __version__
from .errors import VaultsyncError

app = typer.Typer(
    help="Keep Follow-ups.md in your Obsidian vault: every report-back you owe the people who "
    "helped you (introductions, advice, promises), and who you have not talked to for too long.",
    epilog="\b\nExamples:\n"
    "  vaultsync init ~/Notes        add settings and note templates to a vault\n"
    "  vaultsync scan ~/Notes        write ~/Notes/Follow-ups.md and print a summary\n"
    "  vaultsync scan --check        exit 1 if Follow-ups.md is stale (pre-commit hook)\n"
    "  vaultsync scan --format json  the whole result, for scripts",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

PROGRESS_FROM = 500  # notes; smaller vaults scan faster than a progress line can be read
TOP_ITEMS = 5
TOP_WARNINGS = 10


class Format(str, Enum):
    text = "text"
    json = "json"


def _today(value: str | None) -> str | None:
    if value is not None:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD") from None
    return value


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vaultsync {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Run `vaultsync scan` in your vault folder to write Follow-ups.md there."""


VaultArg = Annotated[
    Path,
    typer.Argument(help="The vault folder (the one that holds `.obsidian/`).", show_default="."),
]


def _fail(exc: VaultsyncError) -> typer.Exit:
    typer.echo(f"vaultsync: {exc}", err=True)
    return typer.Exit(exc.exit_code)


class _Progress:
    """`Reading notes 1200/5000` on a terminal's stderr, for vaults large enough to wait on."""

    def __init__(self) -> None:
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        if total < PROGRESS_FROM:
            return
        percent = done * 100 // total
        if percent != self.shown:
            self.shown = percent
            end = "\n" if done == total else ""
            sys.stderr.write(f"\rReading notes {done}/{total} ({percent}%){end}")
            sys.stderr.flush()


@app.command()
def scan(
    vault: VaultArg = Path("."),
    today: Annotated[
        str | None,
        typer.Option(
            "--today", envvar="VAULTSYNC_TODAY", callback=_today, metavar="YYYY-MM-DD",
            help="Compute statuses as of this day instead of the real today.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Compute and report, but write nothing.")
    ] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Write nothing; exit 1 if Follow-ups.md is out of date (for pre-commit hooks).",
        ),
    ] = False,
    output_format: Annotated[
        Format, typer.Option("--format", help="`json` prints the whole result for scripts.")
    ] = Format.text,
) -> None:
    """Scan the vault and bring Follow-ups.md up to date.

    Exit codes: 0 done (warnings included), 1 --check found Follow-ups.md out of date,
    2 bad arguments or configuration, 3 Follow-ups.md holds text vaultsync does not own.
    """
    from .render import report_json
    from .scan import scan as run_scan

    day = dt.date.fromisoformat(today) if today else dt.date.today()
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        result = run_scan(vault, day, dry_run=dry_run or check, progress=progress)
    except VaultsyncError as exc:
        raise _fail(exc) from None
    if output_format is Format.json:
        typer.echo(json.dumps(report_json(result.report), ensure_ascii=False, indent=2))
    else:
        _summary(result, vault, dry_run=dry_run, check=check)
    if check and result.changed:
        raise typer.Exit(1)


def _summary(result: object, vault: Path, *, dry_run: bool, check: bool) -> None:
    from .scan import ScanResult

    assert isinstance(result, ScanResult)
    report = result.report
    name = os.path.relpath(result.output, vault) if result.output.is_relative_to(vault) else str(
        result.output
    )
    if not result.changed:
        state = "is up to date"
    elif check:
        state = "is out of date (run `vaultsync scan` to update it)"
    elif dry_run:
        state = "would change (dry run: nothing written)"
    else:
        state = "updated"
    overdue = [f for f in report.followups if f.status == "overdue"]
    typer.echo(
        f"{name} {state}: {len(report.people)} people, {report.interactions} interactions, "
        f"{len(report.followups)} open ({len(overdue)} overdue), {len(report.warnings)} warnings"
    )
    if overdue:
        typer.echo("Overdue:")
        for f in overdue[:TOP_ITEMS]:
            about = f.source.rsplit("/", 1)[-1][:-3] if f.source else "keep in touch"
            due = f.due.isoformat() if f.due else ""
            typer.echo(f"  {due}  {f.person.name} — {about} ({', '.join(f.reasons)})")
        if len(overdue) > TOP_ITEMS:
            typer.echo(f"  … and {len(overdue) - TOP_ITEMS} more in {name}")
    if report.warnings:
        typer.echo("Warnings:")
        for w in report.warnings[:TOP_WARNINGS]:
            where = f"{w.path}:{w.line}" if w.line else w.path
            typer.echo(f"  {where}: {w.message}")
        if len(report.warnings) > TOP_WARNINGS:
            more = len(report.warnings) - TOP_WARNINGS
            typer.echo(f"  … and {more} more (`--format json` lists them all)")


@app.command()
def init(vault: VaultArg = Path(".")) -> None:
    """Add a commented .vaultsync.toml and the note templates (person, meeting, introduction,
    advice request) to the vault. Never overwrites a file that exists."""
    from .scaffold import init_vault

    try:
        created, kept = init_vault(vault)
    except VaultsyncError as exc:
        raise _fail(exc) from None
    for path in created:
        typer.echo(f"created {path}")
    for path in kept:
        typer.echo(f"kept    {path} (exists)")


def main() -> None:
    app(prog_name="vaultsync")
