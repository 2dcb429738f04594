"""The command line: parse arguments, call one library function, map errors to exit codes."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import __version__
from .errors import UsageError, VaultsyncError

if TYPE_CHECKING:
    from .scan import ScanResult

app = typer.Typer(
    help="Keep Follow-ups.md in your Obsidian vault: every report-back you owe the people who "
    "helped you (introductions, advice, promises), and who you have not talked to for too long.",
    epilog="\b\nExamples:\n"
    "  vaultsync init ~/Notes        add settings and note templates to a vault\n"
    "  vaultsync scan ~/Notes        write ~/Notes/Follow-ups.md and print a summary\n"
    "  vaultsync scan --check        exit 1 if Follow-ups.md is stale (pre-commit hook)\n"
    "  vaultsync scan --format json  the whole result, for scripts",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

PROGRESS_FROM = 500  # notes; smaller vaults scan faster than a progress line can be read
TOP_ITEMS = 5


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


def _today_option(help_text: str) -> Any:
    return typer.Option(
        "--today", envvar="VAULTSYNC_TODAY", callback=_today, metavar="YYYY-MM-DD", help=help_text
    )


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
        str | None, _today_option("Compute statuses as of this day instead of the real today.")
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
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Read every note, ignoring (and not updating) the cache of unchanged notes.",
        ),
    ] = False,
) -> None:
    """Scan the vault and bring Follow-ups.md up to date.

    Exit codes: 0 done (warnings included), 1 --check found Follow-ups.md out of date,
    2 bad arguments or configuration, 3 Follow-ups.md holds text vaultsync does not own.
    """
    from .scan import scan as run_scan

    day = dt.date.fromisoformat(today) if today else dt.date.today()
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        result = run_scan(
            vault, day, dry_run=dry_run or check, progress=progress, use_cache=not no_cache
        )
    except VaultsyncError as exc:
        raise _fail(exc) from None
    try:
        if output_format is Format.json:
            from .render import report_json

            typer.echo(json.dumps(report_json(result.report), ensure_ascii=False, indent=2))
        else:
            _summary(result, vault, dry_run=dry_run, check=check)
    except OSError as exc:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # or Python's last flush would fail again
        os.close(devnull)
        # The reader stopped early (`vaultsync scan --check | head -1`): the rest is not
        # wanted, and the exit code must still say what the scan found, not 1 for "stale".
        # Any other failure (a full disk) is an error: 2, not that 1 either.
        if not isinstance(exc, BrokenPipeError):
            raise _fail(VaultsyncError(f"cannot print the result: {exc.strerror or exc}")) from None
    if check and result.changed:
        raise typer.Exit(1)


def _summary(result: ScanResult, vault: Path, *, dry_run: bool, check: bool) -> None:
    report = result.report
    name = os.path.relpath(result.output, vault)  # the output is always inside the vault
    if not result.changed:
        state = "is up to date"
    elif check:
        state = "is out of date (run `vaultsync scan` to update it)"
    elif dry_run:
        state = "would change (dry run: nothing written)"
    else:
        state = "updated"
    overdue = [f for f in report.followups if f.status == "overdue"]
    people = _count(len(report.people), "person", "people")
    meetings = _count(report.interactions, "interaction", "interactions")
    warnings = _count(len(report.warnings), "warning", "warnings")
    typer.echo(
        f"{name} {state}: {people}, {meetings}, "
        f"{len(report.followups)} open ({len(overdue)} overdue), {warnings}"
    )
    if result.recorded:
        typer.echo("Ticks recorded in:")
        for path in result.recorded:
            typer.echo(f"  {path}")
    if overdue:
        typer.echo("Overdue:")
        for f in overdue[:TOP_ITEMS]:
            about = f.source.rsplit("/", 1)[-1][:-3] if f.source else "keep in touch"
            due = f.due.isoformat() if f.due else ""
            typer.echo(f"  {due}  {f.person.name} — {about} ({', '.join(f.reasons)})")
        if len(overdue) > TOP_ITEMS:
            typer.echo(f"  … and {len(overdue) - TOP_ITEMS} more in {name}")
    if report.warnings:
        from .model import listed

        typer.echo("Warnings:")
        for line in listed(report.warnings):
            typer.echo(f"  {line}")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@app.command()
def done(
    item: Annotated[
        str,
        typer.Argument(
            metavar="ID|PERSON",
            help="The item's id (the `^vs-…` at the end of its line in Follow-ups.md) or the "
            "person's name.",
        ),
    ],
    source: Annotated[
        str | None,
        typer.Option(
            "--source", metavar="NOTE",
            help="The note the report-back is owed for (path or file name), when the person "
            "has several open items.",
        ),
    ] = None,
    vault: Annotated[
        Path, typer.Option("--vault", help="The vault folder.", show_default=".")
    ] = Path("."),
    today: Annotated[
        str | None, _today_option("Record it as of this day instead of the real today.")
    ] = None,
    wont: Annotated[
        bool, typer.Option("--wont", help="Record that you won't report back (closes it).")
    ] = False,
) -> None:
    """Record a report-back (or a reconnect's contact) as done today, as ticking its box in
    Follow-ups.md does, then update Follow-ups.md.

    Exit codes: 0 recorded (or already closed), 2 no item or several match (they are
    listed), 3 its note cannot be edited safely (the message says why).
    """
    from .ticks import describe
    from .ticks import done as run_done

    day = dt.date.fromisoformat(today) if today else dt.date.today()
    try:
        result = run_done(vault, item, day, source=source, wont=wont)
    except VaultsyncError as exc:
        raise _fail(exc) from None
    what = describe(result.followup)
    if result.note is None:
        closed = result.followup.closed_on
        typer.echo(f"already closed{f' on {closed.isoformat()}' if closed else ''}: {what}")
        return
    typer.echo(f"recorded in {result.note}: {what}" + (" (you won't)" if wont else ""))
    if result.scan is not None and result.scan.changed:
        typer.echo(f"updated {result.scan.output.name}")


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


@app.command()
def watch(
    vault: VaultArg = Path("."),
    polling: Annotated[
        bool,
        typer.Option(
            "--polling",
            help="Look for changes every second instead of using the system's file events "
            "(for network and some container file systems, or when the inotify limit is hit).",
        ),
    ] = False,
    quiet_period: Annotated[
        float,
        typer.Option(
            "--quiet-period", min=0.0, max=60.0, metavar="SECONDS",
            help="Wait until no file changed for this long before updating.",
        ),
    ] = 0.3,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Log only problems.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log every file event too.")
    ] = False,
) -> None:
    """Scan, then keep Follow-ups.md current as notes change, until Ctrl-C (or SIGTERM).

    Logs one line per update. Exit codes as for `scan`; 0 when stopped by a signal.
    """
    import logging
    import signal
    import threading

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Only set the event: a handler that did more could deadlock the interrupted loop.
        # Set before the watcher's imports: a service stopped as it starts still exits 0.
        signal.signal(signum, lambda *_: stop.set())

    from .watch import watch as run_watch

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    logger = logging.getLogger("vaultsync")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("watchdog").addHandler(handler)  # its warnings, with their time too
    try:
        run_watch(vault, polling=polling, quiet_period=quiet_period, stop_event=stop)
    except VaultsyncError as exc:
        raise _fail(exc) from None


class Platform(str, Enum):
    linux = "linux"
    macos = "macos"


@app.command()
def service(
    vault: VaultArg = Path("."),
    install: Annotated[
        bool, typer.Option("--install", help="Write the service file (never over another one).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --install: replace a different service file.")
    ] = False,
    platform: Annotated[
        Platform | None,
        typer.Option("--platform", help="Which kind of service (default: this system's)."),
    ] = None,
) -> None:
    """Print a systemd user unit (Linux) or a launchd agent (macOS) that runs `vaultsync watch`
    for this vault in the background; `--install` writes it and prints how to start it."""
    from .service import install_service, service_for

    if force and not install:
        raise _fail(UsageError("`--force` goes with `--install` (without it, nothing is written)"))
    try:
        svc = service_for(vault, platform=platform.value if platform else None)
        if not install:
            typer.echo(svc.text, nl=False)
            typer.echo(f"# vaultsync service --install writes this to {svc.path}", err=True)
            return
        state = install_service(svc, force=force)
    except VaultsyncError as exc:
        raise _fail(exc) from None
    typer.echo(f"{state} {svc.path}")
    typer.echo("Start it now and at every login, check it, read its log:")
    for command in svc.commands:
        typer.echo(f"  {command}")


def main() -> None:
    app(prog_name="vaultsync")
