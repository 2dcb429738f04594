"""The command line (SPEC §9, §10, §8): through typer's CliRunner and as the installed
console script in a real subprocess, on small vaults built in tmp_path."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, TODAY
from typer.testing import CliRunner, Result

from vaultsync import __version__
from vaultsync.cli import app
from vaultsync.output import BEGIN, END
from vaultsync.scan import Vault

runner = CliRunner()
GUARD = 120  # seconds; a hang guard for subprocesses, not a speed requirement

BOB_SOURCE = "Meetings/2026-11-20 Coffee with Carol.md"
NOTES = {
    "People/Bob Smith.md": "---\ntags: [person]\nemail: bob@example.com\n---\n# Bob\n",
    "People/Carol Jones.md": "---\ntype: person\nkeep_in_touch: 2w\n---\n",
    BOB_SOURCE: (
        '---\npeople: ["[[Carol Jones]]"]\nintroduced_by: "[[Bob Smith]]"\n---\n'
        "Carol knows everyone in robotics.\n"
    ),
    "Meetings/2026-11-01 Advice from Dana.md": (
        '---\nadvice_from: "[[Dana]]"\noutcome: Got the offer\n---\n'
    ),
    "Meetings/2026-11-10 Intro from Eve.md": (
        '---\nintroduced_by: "[[Eve]]"\nreported_back: 2026-11-12\n---\n'
    ),
    "Meetings/2026-11-15 Lunch with Finn.md": (
        '---\npeople: ["[[Finn]]"]\n---\n- [ ] Follow up with [[Finn]] 📅 2026-11-29\n'
    ),
    "Projects/Plan.md": "No properties here.\n",
}
FOLLOWUP_KEYS = {
    "id",
    "kind",
    "person",
    "person_note",
    "source",
    "reasons",
    "due",
    "status",
    "ready",
}
TEMPLATES = sorted(p.name for p in (ROOT / "templates").glob("*.md"))


def make_vault(root: Path, notes: dict[str, str] | None = None) -> Path:
    for rel, text in (NOTES if notes is None else notes).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, "utf-8")
    return root


def tree(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under `root` with a hash of its bytes and its mtime_ns."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            out[path.relative_to(root).as_posix()] = (
                hashlib.sha256(path.read_bytes()).hexdigest(),
                path.stat().st_mtime_ns,
            )
    return out


def console_script() -> Path:
    script = Path(sys.executable).parent / "vaultsync"
    assert script.exists(), f"the console script is not installed next to {sys.executable}"
    return script


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "VAULTSYNC_TODAY"}
    env.update(extra)
    return env


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [str(console_script()), *args],
            capture_output=True,
            text=True,
            timeout=GUARD,
            check=False,
            env=env if env is not None else clean_env(),
            cwd=cwd,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`vaultsync {' '.join(args)}` hung")


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    result = runner.invoke(app, list(args), env={"VAULTSYNC_TODAY": None, **(env or {})})
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"`vaultsync {' '.join(args)}` raised {result.exception!r}\n{result.output}"
    )
    return result


def no_traceback(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text, text


# --- version and help ------------------------------------------------------------------------


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"vaultsync {__version__}"
    run = cli("--version")
    assert run.returncode == 0 and run.stdout.strip() == f"vaultsync {__version__}"


def test_help_lists_the_commands() -> None:
    run = cli("--help")
    assert run.returncode == 0, run.stderr
    for command in ("scan", "watch", "init"):
        assert command in run.stdout, f"`{command}` is missing from --help"
    result = invoke("--help")
    assert result.exit_code == 0
    assert all(command in result.stdout for command in ("scan", "watch", "init"))


def test_scan_help_mentions_its_options() -> None:
    run = cli("scan", "--help")
    assert run.returncode == 0, run.stderr
    for option in ("--today", "--dry-run", "--check", "--format", "VAULTSYNC_TODAY", "json"):
        assert option in run.stdout, f"`{option}` is missing from `scan --help`"
    result = invoke("scan", "--help")
    assert result.exit_code == 0 and "--dry-run" in result.stdout


def test_watch_and_init_help() -> None:
    watch = invoke("watch", "--help")
    assert watch.exit_code == 0 and "--polling" in watch.stdout
    init = invoke("init", "--help")
    assert init.exit_code == 0 and "templates" in init.stdout.lower()


def imported(*args: str) -> set[str]:
    """The modules a run of the console script imports, as Python's import log names them."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", str(console_script()), *args],
        capture_output=True,
        text=True,
        timeout=GUARD,
        check=True,
        env=clean_env(),
    )
    found = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines()}
    assert "vaultsync.cli" in found, run.stderr  # the log was read
    return found


# What help and a scan that finds nothing changed do without: loading each costs every run
# milliseconds to tens of milliseconds.
SLOW_TO_LOAD = {"rich", "markdown_it", "watchdog", "yaml"}
FOR_CHANGES_ONLY = {"vaultsync.notes", "vaultsync.tasks", "vaultsync.ledger", "vaultsync.render"}


def test_help_loads_nothing_it_does_not_print_with() -> None:
    assert imported("--help") & SLOW_TO_LOAD == set()
    assert imported("scan", "--help") & SLOW_TO_LOAD == set()


def test_a_scan_that_finds_nothing_changed_loads_no_reading_or_rendering(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    past = 1_700_000_000  # notes changed just now are read again: their mtime may not tell
    for path in root.rglob("*.md"):
        os.utime(path, (past, past))
    first = imported("scan", str(root), "--today", TODAY)
    assert FOR_CHANGES_ONLY - first == set()  # the first scan reads and renders
    again = imported("scan", str(root), "--today", TODAY)
    # Nor the parser of .vaultsync.toml, for a vault that has none.
    assert again & (SLOW_TO_LOAD | FOR_CHANGES_ONLY | {"tomllib", "tomli"}) == set()


# --- scan: write, up to date, dry run, check ---------------------------------------------------


def test_scan_writes_follow_ups_and_then_is_up_to_date(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    notes_before = tree(root)
    run = cli("scan", str(root), "--today", TODAY)
    assert run.returncode == 0, run.stderr
    assert "updated" in run.stdout
    output = root / "Follow-ups.md"
    text = output.read_text("utf-8")
    lines = text.split("\n")
    assert lines.count(BEGIN) == 1 and lines.count(END) == 1
    assert "Bob Smith]]" in text and "mailto:bob@example.com" in text
    assert {k: v for k, v in tree(root).items() if k != "Follow-ups.md"} == notes_before

    # A second scan finds nothing to change and leaves the file alone: set an old mtime so
    # that any rewrite, even of the same bytes, would show.
    os.utime(output, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    before = tree(root)
    again = cli("scan", str(root), "--today", TODAY)
    assert again.returncode == 0, again.stderr
    assert "is up to date" in again.stdout
    assert tree(root) == before
    assert output.stat().st_mtime_ns == 1_000_000_000_000_000_000


def test_scan_in_the_current_folder_by_default(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    run = cli("scan", "--today", TODAY, cwd=root)
    assert run.returncode == 0, run.stderr
    assert (root / "Follow-ups.md").is_file()


def test_summary_counts(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    result = invoke("scan", str(root), "--today", TODAY)
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    # Bob Smith, Carol Jones, Dana, Eve, Finn; 4 interactions; Bob (late), Dana and Finn
    # open, and Carol's reconnect (last contact 2026-11-20 + 2w = 2026-12-04, within the week)
    assert "5 people" in first and "4 interactions" in first, first
    assert "4 open (1 overdue)" in first and "0 warnings" in first, first
    assert "Bob Smith" in result.stdout  # the overdue item is listed


def test_summary_says_one_in_the_singular(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    root.mkdir()
    (root / "2026-11-20 Coffee.md").write_text('---\nwith: "[[Ann]]"\n---\n', "utf-8")
    (root / "Broken.md").write_text("---\nwith: [\n---\n", "utf-8")
    result = invoke("scan", str(root), "--today", TODAY, "--dry-run")
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert "1 person, 1 interaction, 0 open (0 overdue), 1 warning" in first, first


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    before = tree(root)
    result = invoke("scan", str(root), "--today", TODAY, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run" in result.stdout
    assert tree(root) == before
    assert not (root / "Follow-ups.md").exists()
    run = cli("scan", str(root), "--today", TODAY, "--dry-run")
    assert run.returncode == 0 and tree(root) == before


def test_check_exits_1_when_stale_and_0_when_current(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    before = tree(root)
    stale = cli("scan", str(root), "--today", TODAY, "--check")
    assert stale.returncode == 1, (stale.stdout, stale.stderr)
    assert "out of date" in stale.stdout
    no_traceback(stale.stderr)
    assert tree(root) == before

    assert cli("scan", str(root), "--today", TODAY).returncode == 0
    written = tree(root)
    current = cli("scan", str(root), "--today", TODAY, "--check")
    assert current.returncode == 0, (current.stdout, current.stderr)
    assert tree(root) == written

    # A note changes: stale again, and --check still writes nothing.
    (root / "Meetings/2026-11-10 Intro from Eve.md").write_text(
        '---\nintroduced_by: "[[Eve]]"\n---\n', "utf-8"
    )
    changed = tree(root)
    assert invoke("scan", str(root), "--today", TODAY, "--check").exit_code == 1
    assert tree(root) == changed
    # Another day is another index: the statuses move.
    assert invoke("scan", str(root), "--today", "2026-11-21", "--check").exit_code == 1


@pytest.mark.parametrize("output", ["text", "json"])
def test_a_reader_that_stops_early_does_not_change_the_exit_code(
    tmp_path: Path, output: str
) -> None:
    """`vaultsync scan --check | head -1`: the pipe closes before the output is printed."""
    root = make_vault(tmp_path / "vault")

    def check() -> tuple[int, str]:
        read, write = os.pipe()
        os.close(read)  # nobody will read: the first write fails
        args = ["scan", str(root), "--today", TODAY, "--check", "--format", output]
        try:
            done = subprocess.run(
                [str(console_script()), *args],
                stdout=write,
                stderr=subprocess.PIPE,
                text=True,
                timeout=GUARD,
                env=clean_env(),
                check=False,
            )
        finally:
            os.close(write)
        return done.returncode, done.stderr

    assert check() == (1, "")  # stale
    assert cli("scan", str(root), "--today", TODAY).returncode == 0
    assert check() == (0, "")  # up to date


# --- JSON -----------------------------------------------------------------------------------


def scan_json(root: Path, *extra: str) -> dict[str, object]:
    run = cli("scan", str(root), "--format", "json", *extra)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_json_shape(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    data = scan_json(root, "--today", TODAY, "--dry-run")
    assert set(data) == {"today", "followups", "closed", "people", "warnings"}
    assert data["today"] == TODAY
    followups = data["followups"]
    assert isinstance(followups, list) and followups
    for item in followups:
        assert set(item) == FOLLOWUP_KEYS, item
    closed = data["closed"]
    assert isinstance(closed, list) and closed
    for item in closed:
        assert set(item) == FOLLOWUP_KEYS | {"closed_on"}, item
        assert item["status"] == "closed"
    assert closed == [
        {
            "id": closed[0]["id"],
            "kind": "report-back",
            "person": "Eve",
            "person_note": None,
            "source": "Meetings/2026-11-10 Intro from Eve.md",
            "reasons": ["introduction"],
            "due": "2026-11-13",
            "status": "closed",
            "ready": False,
            "closed_on": "2026-11-12",
        }
    ]
    bob = [f for f in followups if f["person"] == "Bob Smith"]
    assert bob == [
        {
            "id": bob[0]["id"],
            "kind": "report-back",
            "person": "Bob Smith",
            "person_note": "People/Bob Smith.md",
            "source": BOB_SOURCE,
            "reasons": ["introduction"],
            "due": "2026-11-23",
            "status": "overdue",
            "ready": False,
        }
    ]
    dana = [f for f in followups if f["person"] == "Dana"]
    assert [(f["reasons"], f["due"], f["status"], f["ready"]) for f in dana] == [
        (["advice"], "2026-12-01", "due", True)
    ]
    for row in data["people"]:
        assert set(row) == {"person", "note", "last_contact", "open", "reported_back"}
    carol = [p for p in data["people"] if p["person"] == "Carol Jones"]
    assert carol == [
        {
            "person": "Carol Jones",
            "note": "People/Carol Jones.md",
            "last_contact": "2026-11-20",
            "open": 1,
            "reported_back": 0,
        }
    ]
    carol_reconnect = [f for f in followups if f["person"] == "Carol Jones"]
    assert carol_reconnect == [
        {
            "id": carol_reconnect[0]["id"],
            "kind": "reconnect",
            "person": "Carol Jones",
            "person_note": "People/Carol Jones.md",
            "source": None,
            "reasons": ["cadence"],
            "due": "2026-12-04",
            "status": "due",
            "ready": False,
        }
    ]
    assert data["warnings"] == []
    dues = [f["due"] for f in followups]
    assert dues == sorted(dues, key=lambda d: (d is None, d or ""))
    ids = [f["id"] for f in followups + closed]
    assert len(set(ids)) == len(ids)
    assert scan_json(root, "--today", "2026-11-21", "--dry-run")["followups"][0]["id"] in ids


def test_json_warnings_shape(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    (root / "Meetings/bad.md").write_text("---\npeople: [unclosed\n---\n", "utf-8")
    data = scan_json(root, "--today", TODAY, "--dry-run")
    bad = [w for w in data["warnings"] if w["path"] == "Meetings/bad.md"]
    assert len(bad) == 1 and set(bad[0]) == {"path", "line", "message"}
    assert isinstance(bad[0]["line"], int) and bad[0]["line"] >= 2


# --- today --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2026-13-01", "tomorrow", "27/11/2026", "", "2026-02-30"])
def test_bad_today_is_a_usage_error(tmp_path: Path, value: str) -> None:
    root = make_vault(tmp_path / "vault")
    before = tree(root)
    run = cli("scan", str(root), "--today", value)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "YYYY-MM-DD" in run.stderr or "date" in run.stderr.lower()
    no_traceback(run.stderr)
    assert tree(root) == before
    env_run = cli("scan", str(root), env=clean_env(VAULTSYNC_TODAY=value or "x"))
    assert env_run.returncode == 2, (env_run.stdout, env_run.stderr)
    no_traceback(env_run.stderr)
    assert tree(root) == before


def test_vaultsync_today_env(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    run = cli(
        "scan",
        str(root),
        "--format",
        "json",
        "--dry-run",
        env=clean_env(VAULTSYNC_TODAY="2026-11-21"),
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["today"] == "2026-11-21"
    bob = [f for f in data["followups"] if f["person"] == "Bob Smith"]
    assert [f["status"] for f in bob] == ["due"]  # 2026-11-23 is within the week
    # --today wins over the environment
    result = invoke(
        "scan",
        str(root),
        "--format",
        "json",
        "--dry-run",
        "--today",
        TODAY,
        env={"VAULTSYNC_TODAY": "2026-11-21"},
    )
    assert json.loads(result.stdout)["today"] == TODAY


# --- errors ---------------------------------------------------------------------------------


def test_missing_vault_is_one_clear_line(tmp_path: Path) -> None:
    missing = tmp_path / "no such vault"
    run = cli("scan", str(missing), "--today", TODAY)
    assert run.returncode == 2
    no_traceback(run.stderr)
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert str(missing) in run.stderr
    assert not missing.exists()
    a_file = tmp_path / "note.md"
    a_file.write_text("hello", "utf-8")
    run = cli("scan", str(a_file), "--today", TODAY)
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert a_file.read_text("utf-8") == "hello"
    assert invoke("init", str(missing)).exit_code == 2
    assert not missing.exists()


@pytest.mark.parametrize(
    "content",
    [
        b"# My own follow-ups\n\n- call mum\n",
        b"%% vaultsync:begin %%\nonly a begin\n",
        b"%% vaultsync:end %%\n%% vaultsync:begin %%\n",
        b"%% vaultsync:begin %%\n%% vaultsync:end %%\n%% vaultsync:begin %%\n%% vaultsync:end %%\n",
    ],
    ids=["no-markers", "begin-only", "reversed", "twice"],
)
def test_follow_ups_with_user_text_is_refused(tmp_path: Path, content: bytes) -> None:
    root = make_vault(tmp_path / "vault")
    output = root / "Follow-ups.md"
    output.write_bytes(content)
    before = tree(root)
    run = cli("scan", str(root), "--today", TODAY)
    assert run.returncode == 3, (run.stdout, run.stderr)
    no_traceback(run.stderr)
    assert "Follow-ups.md" in run.stderr and "vaultsync:begin" in run.stderr
    assert output.read_bytes() == content
    assert tree(root) == before
    assert not [p for p in root.iterdir() if p.name.startswith(".vaultsync-")]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "bom+\r\n"], ids=["lf", "crlf", "bom-crlf"])
def test_user_text_around_the_markers_is_kept_byte_for_byte(tmp_path: Path, newline: str) -> None:
    root = make_vault(tmp_path / "vault")
    bom = newline.startswith("bom+")
    nl = newline.removeprefix("bom+")
    above = ("\ufeff" if bom else "") + nl.join(
        ["---", "cssclasses: [wide]", "---", "# My follow-ups", "", "Written by me, \t kept. ", ""]
    )
    below = nl.join(["", "## My own notes", "- [ ] call mum", "trailing spaces   ", ""])
    old_block = nl.join([BEGIN, "stale text", END]) + nl
    output = root / "Follow-ups.md"
    output.write_bytes((above + old_block + below).encode("utf-8"))
    run = cli("scan", str(root), "--today", TODAY)
    assert run.returncode == 0, run.stderr
    new = output.read_bytes()
    head, tail = above.encode("utf-8"), below.encode("utf-8")
    assert new.startswith(head), "text above the markers changed"
    assert new.endswith(tail), "text below the markers changed"
    middle = new[len(head) : len(new) - len(tail)].decode("utf-8")
    assert middle.startswith(BEGIN + nl) and middle.endswith(END + nl)
    assert "stale text" not in middle and "Bob Smith" in middle
    if nl == "\r\n":
        assert "\n" not in middle.replace("\r\n", ""), "the block mixes line ends"
    # and again: nothing changes
    again = cli("scan", str(root), "--today", TODAY)
    assert again.returncode == 0 and "is up to date" in again.stdout
    assert output.read_bytes() == new


def test_markers_at_end_of_file_without_newline(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    output = root / "Follow-ups.md"
    output.write_bytes(f"Mine.\n{BEGIN}\n{END}".encode())
    assert cli("scan", str(root), "--today", TODAY).returncode == 0
    new = output.read_bytes().decode("utf-8")
    assert new.startswith(f"Mine.\n{BEGIN}\n") and new.endswith(END)
    assert new.count(BEGIN) == 1 and new.count(END) == 1


# --- the output file is not a note ----------------------------------------------------------


@pytest.mark.parametrize("output", [None, "Meta/Follow-ups.md", "Index/Owed.md"])
def test_follow_ups_is_not_read_as_a_note(tmp_path: Path, output: str | None) -> None:
    root = make_vault(tmp_path / "vault")
    if output:
        (root / ".vaultsync.toml").write_text(f'output = "{output}"\n', "utf-8")
    rel = output or "Follow-ups.md"
    first = cli("scan", str(root), "--today", TODAY, "--format", "json")
    assert first.returncode == 0, first.stderr
    assert (root / rel).is_file()
    # The written file has task lines with links and report-back phrases: read as a note it
    # would add follow-ups of its own.
    assert any(
        line.startswith("- [ ] Report back to [[") and "Bob Smith" in line
        for line in (root / rel).read_text("utf-8").split("\n")
    )
    second = cli("scan", str(root), "--today", TODAY, "--format", "json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == json.loads(first.stdout)
    assert not [f for f in json.loads(second.stdout)["followups"] if f["source"] == rel]
    vault = Vault(root)
    vault.load()
    assert rel not in vault.notes
    summary = invoke("scan", str(root), "--today", TODAY)
    assert "is up to date" in summary.stdout and "4 interactions" in summary.stdout


# --- init -----------------------------------------------------------------------------------


def test_init_creates_config_and_templates_in_obsidians_templates_folder(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    (root / ".obsidian").mkdir()
    (root / ".obsidian/templates.json").write_text('{"folder": "Meta/Templates"}', "utf-8")
    before = tree(root)
    assert len(TEMPLATES) == 4
    run = cli("init", str(root))
    assert run.returncode == 0, run.stderr
    after = tree(root)
    created = sorted(set(after) - set(before))
    assert created == sorted([".vaultsync.toml", *(f"Meta/Templates/{t}" for t in TEMPLATES)])
    assert {k: after[k] for k in before} == before
    for name in TEMPLATES:
        shipped = (ROOT / "templates" / name).read_bytes()
        assert (root / "Meta/Templates" / name).read_bytes() == shipped
    assert not (root / "Templates").exists()
    # Its example is the folder in use: uncommented, it changes nothing.
    config = (root / ".vaultsync.toml").read_text("utf-8")
    assert '\n# templates_folders = ["Meta/Templates"]\n' in config
    for name in ("person", "meeting", "introduction", "advice"):
        assert any(name in t.lower() for t in TEMPLATES), name

    # A second init creates nothing and changes nothing.
    second = cli("init", str(root))
    assert second.returncode == 0, second.stderr
    assert "created" not in second.stdout
    assert second.stdout.count("kept") == len(created)
    assert tree(root) == after

    # The written config is valid, and the templates are not read as notes.
    data = scan_json(root, "--today", TODAY, "--dry-run")
    assert not [f for f in data["followups"] if str(f["source"]).startswith("Meta/Templates/")]
    assert not [w for w in data["warnings"] if w["path"].startswith("Meta/Templates/")]


@pytest.mark.parametrize("core_too", [False, True])
def test_init_writes_templater_commands_into_templaters_folder(
    tmp_path: Path, core_too: bool
) -> None:
    """Templater fills in only `<% %>`: with the Templates plugin's `{{date}}` left as it was,
    every note made from them had no date, and its report-backs were undated."""
    root = make_vault(tmp_path / "vault", {})
    settings = root / ".obsidian/plugins/templater-obsidian/data.json"
    settings.parent.mkdir(parents=True)
    settings.write_text('{"templates_folder": "Templater"}', "utf-8")
    if core_too:  # its folder comes first, and the templates are for its plugin
        (root / ".obsidian/templates.json").write_text('{"folder": "Templates"}', "utf-8")
    assert cli("init", str(root)).returncode == 0
    folder = root / ("Templates" if core_too else "Templater")
    meeting = (folder / "Meeting.md").read_text("utf-8")
    if core_too:
        assert meeting == (ROOT / "templates/Meeting.md").read_text("utf-8")
        return
    assert "{{" not in meeting
    assert 'date: <% tp.date.now("YYYY-MM-DD") %>\n' in meeting
    assert "\n# <% tp.file.title %>\n" in meeting
    # As Templater fills it in: a note with a date, read without a warning.
    filled = meeting.replace('<% tp.date.now("YYYY-MM-DD") %>', "2026-11-20")
    filled = filled.replace("people: []", 'people: ["[[Dana]]"]')
    (root / "2026-11-20 Coffee.md").write_text(filled, "utf-8")
    data = scan_json(root, "--today", TODAY, "--dry-run")
    assert data["warnings"] == []
    assert [p["last_contact"] for p in data["people"]] == ["2026-11-20"]


def test_a_note_from_the_advice_template_counts_as_being_in_touch(tmp_path: Path) -> None:
    """SPEC §5: only the people a note lists under `people` (or `with`, …) were met."""
    root = tmp_path / "vault"
    root.mkdir()
    assert cli("init", str(root)).returncode == 0
    advice = (root / "Templates/Advice request.md").read_text("utf-8")
    advice = advice.replace('"{{date:YYYY-MM-DD}}"', "2026-11-20")
    for key in ("people", "advice_from"):
        advice = advice.replace(f"{key}: []", f'{key}: ["[[Marcus Lee]]"]')
    (root / "Advice from Marcus.md").write_text(advice, "utf-8")
    data = scan_json(root, "--today", TODAY, "--dry-run")
    assert [(p["person"], p["last_contact"]) for p in data["people"]] == [
        ("Marcus Lee", "2026-11-20")
    ]


def test_init_never_overwrites(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    (root / "Templates").mkdir()
    (root / "Templates/Person.md").write_text("my own person template\n", "utf-8")
    (root / ".vaultsync.toml").write_text("# mine\ngraph = false\n", "utf-8")
    result = invoke("init", str(root))
    assert result.exit_code == 0, result.output
    assert (root / "Templates/Person.md").read_text("utf-8") == "my own person template\n"
    assert (root / ".vaultsync.toml").read_text("utf-8") == "# mine\ngraph = false\n"
    assert sorted(p.name for p in (root / "Templates").iterdir()) == TEMPLATES
    assert "kept" in result.stdout and "created" in result.stdout


def init_refused(root: Path) -> str:
    """What `vaultsync init` says when it refuses: exit 2, no traceback, nothing written."""
    before = tree(root)
    run = cli("init", str(root))
    assert run.returncode == 2, (run.stdout, run.stderr)
    no_traceback(run.stderr)
    assert tree(root) == before
    return run.stderr


def test_init_with_a_broken_config(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    (root / ".vaultsync.toml").write_text('colour = "red"\nhorizon_days = "soon"\n', "utf-8")
    before = tree(root)
    said = init_refused(root)
    assert "colour" in said and "horizon_days" in said
    result = invoke("init", str(root))
    assert result.exit_code == 2
    assert tree(root) == before


@pytest.mark.parametrize(
    "setting",
    ["templates.json", "templates.json-symlink", "config"],
)
def test_init_never_writes_outside_the_vault(tmp_path: Path, setting: str) -> None:
    """SPEC §2: nothing outside the vault root is ever written, whatever a settings file
    names as the templates folder."""
    root = make_vault(tmp_path / "vault")
    (root / ".obsidian").mkdir()
    if setting == "templates.json":
        (root / ".obsidian/templates.json").write_text('{"folder": "../escaped"}', "utf-8")
    elif setting == "templates.json-symlink":
        (tmp_path / "escaped").mkdir()
        os.symlink(tmp_path / "escaped", root / "Meta")
        (root / ".obsidian/templates.json").write_text('{"folder": "Meta"}', "utf-8")
    else:
        (root / ".vaultsync.toml").write_text('templates_folders = ["../escaped"]\n', "utf-8")
    outside_before = sorted(p.name for p in tmp_path.iterdir())
    run = cli("init", str(root))
    no_traceback(run.stderr)
    assert run.returncode in (0, 2), (run.stdout, run.stderr)
    outside = tmp_path / "escaped"
    assert not outside.exists() or list(outside.iterdir()) == [], "init wrote outside the vault"
    assert sorted(p.name for p in tmp_path.iterdir()) == outside_before


def test_init_where_the_templates_folder_is_a_file_writes_nothing(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    (root / "Templates").write_text("a note without .md\n", "utf-8")
    said = init_refused(root)  # not even .vaultsync.toml is written
    assert "Templates is a file, so Templates/" in said
    assert "symbolic link" not in said


def test_init_that_cannot_write_says_so_in_one_line(tmp_path: Path) -> None:
    """A folder name the file system refuses stands in for any write error (a read-only
    folder does not stop root)."""
    root = make_vault(tmp_path / "vault")
    (root / ".obsidian").mkdir()
    (root / ".obsidian/templates.json").write_text('{"folder": "%s"}' % ("T" * 300), "utf-8")
    run = cli("init", str(root))
    assert run.returncode == 2, (run.stdout, run.stderr)
    no_traceback(run.stderr)
    assert len(run.stderr.strip().splitlines()) == 1
    assert f"cannot write {'T' * 300}/" in run.stderr
    assert "(made so far, and kept: .vaultsync.toml)" in run.stderr
    assert "run `vaultsync init` again" in run.stderr


def test_an_output_path_that_is_a_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    (root / "Follow-ups.md").mkdir(parents=True)
    run = subprocess.run(
        [str(Path(sys.executable).parent / "vaultsync"), "scan", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and "Follow-ups.md" in run.stderr


@pytest.mark.parametrize("args", [("scan",), ("scan", "--check"), ("done", "Finn", "--vault")])
def test_an_output_path_the_system_refuses_is_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """A name too long stands in for a folder on the way that cannot be searched (which
    does not stop root): it failed in the check for a symbolic link, with a traceback."""
    root = make_vault(tmp_path / "vault")
    (root / ".vaultsync.toml").write_text(f'output = "{"F" * 300}.md"\n', "utf-8")
    run = cli(*args, str(root), "--today", TODAY)
    assert run.returncode == 2, (run.stdout, run.stderr)
    no_traceback(run.stderr)
    assert len(run.stderr.strip().splitlines()) == 1
    assert f"cannot read {'F' * 300}.md: " in run.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_result_that_cannot_be_printed_is_exit_2_not_1(tmp_path: Path) -> None:
    """`--check` says 1 for "out of date": a full disk under its output must not say so."""
    root = make_vault(tmp_path / "vault")
    assert cli("scan", str(root), "--today", TODAY).returncode == 0
    for extra in ((), ("--format", "json")):
        with open("/dev/full", "w") as full:
            run = subprocess.run(
                [str(console_script()), "scan", str(root), "--check", "--today", TODAY, *extra],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                timeout=GUARD,
                check=False,
                env=clean_env(),
            )
        assert run.returncode == 2, run.stderr
        no_traceback(run.stderr)
        assert run.stderr.startswith("vaultsync: cannot print the result: ")
        assert len(run.stderr.splitlines()) == 1
