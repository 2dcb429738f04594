"""`vaultsync done ID|PERSON [--source NOTE]`: a tick from the command line.

In-process through typer's runner on small vaults in tmp_path, and once as a real
subprocess for the exit code and the absence of a traceback.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from vaultsync.cli import app
from vaultsync.followups import item_id
from vaultsync.scan import scan

runner = CliRunner()
TODAY = "2026-11-27"
INTRO = "Meetings/2026-11-19 Intro call with Jo.md"
LUNCH = "Meetings/2026-11-24 Lunch with Sam.md"
ADVICE = "Meetings/2026-11-10 Advice from Ann.md"
SAM = "People/Sam Rivera.md"
GRACE = "People/Grace Liu.md"

NOTES = {
    SAM: "---\ntype: person\n---\n",
    GRACE: "---\ntype: person\nkeep_in_touch: 1m\nlast_contact: 2026-09-01\n---\n",
    INTRO: "---\r\ndate: 2026-11-19\r\nintroduced_by: '[[Sam Rivera]]'  # thanks!\r\n"
    "---\r\nBody\r\n",
    LUNCH: '---\ndate: 2026-11-24\nreport_back_to: ["[[Sam Rivera]]"]\n---\n',
    ADVICE: "---\ndate: 2026-11-10\nadvice_from: Ann Lee\n---\n",
}
INTRO_ID = item_id(INTRO, SAM)
LUNCH_ID = item_id(LUNCH, SAM)
ADVICE_ID = item_id(ADVICE, "?ann lee")
GRACE_ID = item_id("reconnect", GRACE)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    for rel, text in NOTES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(text.encode())
    scan(root, dt.date.fromisoformat(TODAY))  # `done` acts on a vault that was scanned
    return root


def done(vault: Path, *args: str) -> Result:
    return runner.invoke(app, ["done", *args, "--vault", str(vault), "--today", TODAY])


def snapshot(root: Path) -> dict[str, bytes]:
    files = (p for p in root.rglob("*.md") if p.is_file())
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


def test_done_by_id_records_and_updates_the_index(vault: Path) -> None:
    result = done(vault, INTRO_ID)
    assert result.exit_code == 0, result.output
    assert f"recorded in {INTRO}" in result.output
    assert (vault / INTRO).read_bytes() == (
        b"---\r\ndate: 2026-11-19\r\nintroduced_by: '[[Sam Rivera]]'  # thanks!\r\n"
        b'reported_back_to:\r\n  - "[[Sam Rivera]] 2026-11-27"\r\n---\r\nBody\r\n'
    )
    index = (vault / "Follow-ups.md").read_text("utf-8")
    assert INTRO_ID not in index and LUNCH_ID in index


@pytest.mark.parametrize("written", [f"^{ADVICE_ID}", "Ann Lee", "ann lee", "[[Ann Lee]]"])
def test_done_by_person_or_block_id(vault: Path, written: str) -> None:
    result = done(vault, written)
    assert result.exit_code == 0, result.output
    assert b'  - "[[Ann Lee]] 2026-11-27"\n' in (vault / ADVICE).read_bytes()


def test_several_items_of_one_person_are_listed_and_nothing_is_written(vault: Path) -> None:
    before = snapshot(vault)
    result = done(vault, "Sam Rivera")
    assert result.exit_code == 2
    assert INTRO_ID in result.output and LUNCH_ID in result.output
    assert "--source" in result.output
    assert snapshot(vault) == before


@pytest.mark.parametrize(
    "source",
    [
        LUNCH,
        "2026-11-24 Lunch with Sam",
        "2026-11-24 lunch with sam.md",
        "[[2026-11-24 Lunch with Sam]]",
        "Meetings\\2026-11-24 Lunch with Sam.md",
    ],
)
def test_source_chooses_among_a_persons_items(vault: Path, source: str) -> None:
    result = done(vault, "Sam Rivera", "--source", source)
    assert result.exit_code == 0, result.output
    assert b"[[Sam Rivera]] 2026-11-27" in (vault / LUNCH).read_bytes()
    assert (vault / INTRO).read_bytes() == NOTES[INTRO].encode()


def test_an_id_with_the_source_of_another_item_records_nothing(vault: Path) -> None:
    before = snapshot(vault)
    result = done(vault, INTRO_ID, "--source", LUNCH)
    assert result.exit_code == 2
    assert f"no open follow-up matches {INTRO_ID!r} from {LUNCH}" in result.output
    assert snapshot(vault) == before
    assert done(vault, INTRO_ID, "--source", INTRO).exit_code == 0


def test_source_given_as_a_path_from_the_current_folder(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(vault / "Meetings")
    result = done(vault, "Sam Rivera", "--source", "./2026-11-24 Lunch with Sam.md")
    assert result.exit_code == 0, result.output
    assert b"[[Sam Rivera]] 2026-11-27" in (vault / LUNCH).read_bytes()


def test_wont(vault: Path) -> None:
    result = done(vault, INTRO_ID, "--wont")
    assert result.exit_code == 0, result.output
    assert b'  - "[[Sam Rivera]] won\'t"\r\n' in (vault / INTRO).read_bytes()


def test_already_closed_is_said_and_changes_nothing(vault: Path) -> None:
    assert done(vault, INTRO_ID).exit_code == 0
    before = snapshot(vault)
    result = done(vault, INTRO_ID)
    assert result.exit_code == 0, result.output
    assert "already closed on 2026-11-27" in result.output
    assert snapshot(vault) == before


def test_a_reconnect_records_the_contact(vault: Path) -> None:
    result = done(vault, GRACE_ID)
    assert result.exit_code == 0, result.output
    assert (vault / GRACE).read_bytes() == (
        b"---\ntype: person\nkeep_in_touch: 1m\nlast_contact: 2026-11-27\n---\n"
    )
    assert GRACE_ID not in (vault / "Follow-ups.md").read_text("utf-8")
    refused = done(vault, "Grace Liu", "--wont")  # nothing open for her any more
    assert refused.exit_code == 2


def test_wont_is_refused_for_a_reconnect(vault: Path) -> None:
    before = snapshot(vault)
    result = done(vault, GRACE_ID, "--wont")
    assert result.exit_code == 2
    assert "reconnect" in result.output
    assert snapshot(vault) == before


def test_nothing_matches(vault: Path) -> None:
    before = snapshot(vault)
    result = done(vault, "Nobody Known")
    assert result.exit_code == 2
    assert "no open follow-up matches" in result.output
    assert snapshot(vault) == before


def test_a_folder_that_was_never_scanned_is_refused_before_any_note_is_read(
    vault: Path,
) -> None:
    """Run from the folder above the vault, `done` would find the vault's notes (and those
    of any copy of it there) and edit one, writing a stray Follow-ups.md beside them."""
    parent = vault.parent
    before = snapshot(parent)
    args = ["Sam Rivera", "--source", "2026-11-24 Lunch with Sam", "--vault", str(parent)]
    result = runner.invoke(app, ["done", *args, "--today", TODAY])
    assert result.exit_code == 2
    assert "holds no Follow-ups.md, so it is not a vault you scanned" in result.output
    assert snapshot(parent) == before


def test_an_output_that_cannot_be_read_is_one_line_and_edits_nothing(vault: Path) -> None:
    (vault / "Follow-ups.md").unlink()
    (vault / "Follow-ups.md").mkdir()  # unreadable as a file, even to root
    before = snapshot(vault)
    result = done(vault, LUNCH_ID)
    assert result.exit_code == 2
    assert result.output.startswith("vaultsync: cannot read Follow-ups.md: Is a directory")
    assert isinstance(result.exception, SystemExit)  # not a traceback
    assert snapshot(vault) == before


def test_a_note_that_cannot_be_edited_exits_3_and_is_untouched(vault: Path) -> None:
    # Broken YAML: the reader still finds the body's task, the front matter is not edited.
    (vault / "Meetings/Ann task.md").write_text(
        "---\ndate: [2026\n---\n- [ ] Report back to [[Ann Lee]] 📅 2026-12-01\n", "utf-8"
    )
    ident = item_id("Meetings/Ann task.md", "?ann lee")
    before = snapshot(vault)
    result = done(vault, ident)
    assert result.exit_code == 3, result.output
    assert "Meetings/Ann task.md" in result.output  # which note to fix
    assert "not valid YAML" in result.output
    assert snapshot(vault) == before


def test_the_day_comes_from_the_environment_too(vault: Path) -> None:
    result = runner.invoke(
        app, ["done", ADVICE_ID, "--vault", str(vault)], env={"VAULTSYNC_TODAY": "2026-11-30"}
    )
    assert result.exit_code == 0, result.output
    assert b"[[Ann Lee]] 2026-11-30" in (vault / ADVICE).read_bytes()


def test_done_as_a_command_exits_cleanly(vault: Path) -> None:
    env = {**os.environ, "VAULTSYNC_TODAY": TODAY}
    run = subprocess.run(
        [sys.executable, "-m", "vaultsync", "done", "Sam Rivera", "--vault", str(vault)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert re.search(r"matches 2 open follow-ups", run.stderr)
    run = subprocess.run(
        [sys.executable, "-m", "vaultsync", "done", INTRO_ID, "--vault", str(vault)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert f"recorded in {INTRO}" in run.stdout


@pytest.mark.parametrize("query", ["", " ", "^", "[[]]"])
def test_an_empty_name_matches_nothing(vault: Path, query: str) -> None:
    """A script's unset variable must never record a report-back to somebody."""
    (vault / "Meetings/2026-11-25 Call.md").write_text(
        '---\ndate: 2026-11-25\nreport_back_to: "[[Nobody Yet]]"\n---\n'
    )
    before = snapshot(vault)
    result = done(vault, query)
    assert result.exit_code == 2
    assert snapshot(vault) == before


def test_a_refused_output_is_refused_before_the_note_is_edited(vault: Path) -> None:
    (vault / "Follow-ups.md").write_text("My own list, no markers.\n")
    before = snapshot(vault)
    result = done(vault, LUNCH_ID)
    assert result.exit_code == 3
    assert snapshot(vault) == before
