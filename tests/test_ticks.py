"""Ticking a box in Follow-ups.md records the answer in the note it came from.

Small vaults built in tmp_path, real files, real scans: a tick is found, recorded in the
source or person note (only the new lines differ), the item closes, and a tick that cannot be
recorded stays ticked with a warning. The last test does the same under `vaultsync watch`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import BECOME_NOBODY, utf8, wait_until
from hypothesis import given, settings
from hypothesis import strategies as st
from test_output import _reference_markers

from vaultsync.followups import item_id
from vaultsync.output import BEGIN, END
from vaultsync.render import report_json
from vaultsync.scan import ScanResult, Vault, scan
from vaultsync.ticks import _TICKED, DONE, WONT, find_ticks
from vaultsync.watch import Watcher

DAY = dt.date(2026, 11, 27)
INTRO = "Meetings/2026-11-19 Intro call with Jo.md"
ADVICE = "Meetings/2026-11-10 Advice from Ann.md"
TASKS = "Daily/2026-11-20.md"
SAM = "People/Sam Rivera.md"
GRACE = "People/Grace Liu.md"

NOTES = {
    SAM: "---\ntype: person\nemail: sam@example.org\n---\nCollege friend.\n",
    GRACE: "---\ntype: person\nkeep_in_touch: 1m  # at least\nlast_contact: 2026-09-01\n"
    "company: Kestrel\n---\nMet at a meetup.\n",
    # CRLF, a comment and odd quoting: all of it must survive byte for byte
    INTRO: '---\r\ndate: 2026-11-19\r\nwith: "[[Jo Park]]"   # the candidate\r\n'
    "introduced_by: '[[Sam Rivera]]'\r\n---\r\nGood call.\r\n",
    ADVICE: "\ufeff---\nadvice_from: Ann Lee\ndate: 2026-11-10\n---\nShe said: ship it.\n",
    TASKS: "- [ ] Report back to [[Sam Rivera]] about the offer\n",
}

INTRO_ID = item_id(INTRO, SAM)
ADVICE_ID = item_id(ADVICE, "?ann lee")
TASK_ID = item_id(TASKS, SAM)
GRACE_ID = item_id("reconnect", GRACE)


def make_vault(root: Path, notes: dict[str, str] = NOTES, config: str | None = None) -> Path:
    for rel, text in notes.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    if config is not None:
        (root / ".vaultsync.toml").write_text(config, "utf-8")
    return root


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = make_vault(tmp_path / "vault")
    scan(root, DAY)
    return root


def follow_ups(root: Path) -> str:
    return (root / "Follow-ups.md").read_bytes().decode("utf-8")


def tick(root: Path, ident: str, mark: str = "x") -> None:
    """Tick the generated line of `ident` as Obsidian would: only its box changes."""
    text = follow_ups(root)
    new, count = re.subn(rf"(?m)^- \[ \](.*\^{ident})$", rf"- [{mark}]\1", text)
    assert count == 1, f"no open line for {ident}"
    (root / "Follow-ups.md").write_bytes(new.encode("utf-8"))


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.md")}


def items(result: ScanResult) -> tuple[dict[str, Any], dict[str, Any]]:
    data = report_json(result.report)
    return {f["id"]: f for f in data["followups"]}, {f["id"]: f for f in data["closed"]}


def warnings(result: ScanResult) -> list[str]:
    return [f"{w.path}:{w.line}: {w.message}" for w in result.report.warnings]


# -- finding ticks ----------------------------------------------------------------------------


def test_find_ticks_between_the_markers_only() -> None:
    text = "\r\n".join(
        [
            "- [x] Mine, above the block ^vs-0000000001",
            BEGIN,
            "- [x] Report back to [[Sam]] on [[M]] (they introduced you) 📅 2026-11-22"
            " ^vs-aaaaaaaaaa",
            "- [X] Report back ✅ 2026-11-27 ^vs-bbbbbbbbbb ",
            "  - [-] Won't ^vs-cccccccccc ✅ 2026-11-27 (after the id)",
            "- [x] Not an id ^vs-ffffffffff0",
            "- [ ] Open ^vs-dddddddddd",
            "- [/] In progress (Tasks plugin) ^vs-eeeeeeeeee",
            "- [x] No id here",
            "- [x] Duplicate ^vs-aaaaaaaaaa",
            "- [x] Not ours ^vs-zzzzzzzzzz",
            END,
            "- [x] Mine, below ^vs-0000000002",
        ]
    )
    ticks = find_ticks(utf8(text))
    assert [(t.id, t.mark, t.line) for t in ticks] == [
        ("vs-aaaaaaaaaa", DONE, 3),
        ("vs-bbbbbbbbbb", DONE, 4),
        ("vs-cccccccccc", WONT, 5),
    ]
    assert ticks[1].text == "- [X] Report back ✅ 2026-11-27 ^vs-bbbbbbbbbb "


def test_a_block_id_written_in_a_name_is_not_the_line_s_id() -> None:
    # A name is written with `^` escaped; taken for the line's id, it sent the tick to
    # another item, whose note was edited, while this one came back unticked.
    line = (
        r"- [x] Report back to [Sam \^vs-1111111111 (old)](People/Sam.md) on [[M]] (they "
        "introduced you) ^vs-2222222222"
    )
    ticks = find_ticks(utf8(f"{BEGIN}\n{line}\n{END}\n"))
    assert [(t.id, t.line) for t in ticks] == [("vs-2222222222", 2)]


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "- [x] no markers ^vs-aaaaaaaaaa\n",
        f"{BEGIN}\n- [x] one marker ^vs-aaaaaaaaaa\n",
        f"{END}\n- [x] out of order ^vs-aaaaaaaaaa\n{BEGIN}\n",
        f"{BEGIN}\n{BEGIN}\n- [x] two begins ^vs-aaaaaaaaaa\n{END}\n",
    ],
)
def test_no_ticks_where_the_file_would_not_be_rewritten(text: str | None) -> None:
    # A tick recorded now but left in a file vaultsync refuses to write would be recorded
    # again at every scan.
    assert find_ticks(utf8(text)) == []


# -- recording --------------------------------------------------------------------------------


def test_a_tick_is_recorded_in_the_source_note_and_closes_the_item(vault: Path) -> None:
    before = snapshot(vault)
    tick(vault, INTRO_ID)
    result = scan(vault, DAY)
    assert result.recorded == [INTRO]
    after = snapshot(vault)
    assert after[INTRO] == (
        b'---\r\ndate: 2026-11-19\r\nwith: "[[Jo Park]]"   # the candidate\r\n'
        b"introduced_by: '[[Sam Rivera]]'\r\n"
        b'reported_back_to:\r\n  - "[[Sam Rivera]] 2026-11-27"\r\n---\r\nGood call.\r\n'
    )
    assert {k: v for k, v in after.items() if k not in (INTRO, "Follow-ups.md")} == {
        k: v for k, v in before.items() if k not in (INTRO, "Follow-ups.md")
    }
    open_items, closed = items(result)
    assert INTRO_ID not in open_items
    assert closed[INTRO_ID]["closed_on"] == "2026-11-27"
    assert INTRO_ID not in follow_ups(vault)  # the line went with the open item
    assert not any(w.startswith("Follow-ups.md") for w in warnings(result))
    # Nothing more to do: a second scan records nothing and writes nothing.
    again = scan(vault, DAY)
    assert not again.changed and again.recorded == []
    assert snapshot(vault) == after


def test_a_box_ticked_while_a_scan_writes_is_recorded_on_its_next_attempt(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-shot scan lets its notes go before rendering; when the output changed under it
    (here: ticked just before the scan's write compares it), it reads them all again."""
    from vaultsync import output
    from vaultsync import scan as scan_module

    writes: list[Path] = []

    def tick_then_write(path: Path, data: bytes, **kwargs: Any) -> None:
        if not writes:  # the user ticks a box on disk just before our write
            text = follow_ups(vault).replace("- [ ] Report back to", "- [x] Report back to", 1)
            (vault / "Follow-ups.md").write_text(text, "utf-8")
        writes.append(path)
        output.write_atomic(path, data, **kwargs)

    lunch = vault / "Meetings/2026-11-25 Lunch.md"  # a new item: the scan has to write
    lunch.write_text("---\ndate: 2026-11-25\nreport_back_to: '[[Sam Rivera]]'\n---\n", "utf-8")
    monkeypatch.setattr(scan_module, "write_atomic", tick_then_write)
    result = scan(vault, DAY, use_cache=False)
    assert len(writes) == 2 and result.recorded  # refused once, then written
    assert "- [x]" not in follow_ups(vault) and "2026-11-25 Lunch" in follow_ups(vault)
    assert result.report == scan(vault, DAY, dry_run=True, use_cache=False).report


def test_a_cancelled_tick_is_recorded_as_wont(vault: Path) -> None:
    tick(vault, ADVICE_ID, "-")
    result = scan(vault, DAY)
    assert (vault / ADVICE).read_bytes() == (
        "\ufeff---\nadvice_from: Ann Lee\ndate: 2026-11-10\n"
        'reported_back_to:\n  - "[[Ann Lee]] won\'t"\n---\nShe said: ship it.\n'
    ).encode()
    _, closed = items(result)
    assert closed[ADVICE_ID]["closed_on"] is None


def test_a_tick_closes_a_task_item_without_touching_the_body(vault: Path) -> None:
    tick(vault, TASK_ID)
    result = scan(vault, DAY)
    assert (vault / TASKS).read_bytes() == (
        b'---\nreported_back_to:\n  - "[[Sam Rivera]] 2026-11-27"\n---\n'
        b"- [ ] Report back to [[Sam Rivera]] about the offer\n"
    )
    _, closed = items(result)
    assert closed[TASK_ID]["closed_on"] == "2026-11-27"


@pytest.mark.parametrize("created", ["Ann Lee.md", "People/Ann Lee.md"])
def test_a_tick_survives_the_persons_note_being_created_before_it_is_recorded(
    vault: Path, created: str
) -> None:
    """Clicking the unresolved link `[[Ann Lee]]` in Obsidian creates her note, which gives
    her items new ids; the box ticked under the old one is still hers."""
    tick(vault, ADVICE_ID)
    (vault / created).parent.mkdir(parents=True, exist_ok=True)
    (vault / created).write_text("", "utf-8")
    result = scan(vault, DAY)
    assert '"[[Ann Lee]] 2026-11-27"' in (vault / ADVICE).read_text("utf-8")
    _, closed = items(result)
    assert closed[item_id(ADVICE, created)]["closed_on"] == "2026-11-27"
    assert not warnings(result) and "Ticked, not recorded" not in follow_ups(vault)


def test_a_tick_kept_unrecorded_keeps_its_box_under_the_new_id(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault", config="record_ticks = false\n")
    scan(root, DAY)
    tick(root, ADVICE_ID)
    (root / "Ann Lee.md").write_text("", "utf-8")
    scan(root, DAY)
    assert re.search(rf"(?m)^- \[x\] .*\^{item_id(ADVICE, 'Ann Lee.md')}$", follow_ups(root))


def test_a_tick_in_a_note_without_a_date_brings_no_warning(vault: Path) -> None:
    """The `reported_back_to` a tick writes makes the note an interaction (SPEC §5), but one
    whose date nothing uses: no "no date" warning the user did nothing to earn."""
    project = "Projects/Launch.md"
    make_vault(vault, {project: "# Launch\n- [ ] Report back to [[Sam Rivera]] 📅 2026-12-01\n"})
    scan(vault, DAY)
    tick(vault, item_id(project, SAM))
    result = scan(vault, DAY)
    assert b'"[[Sam Rivera]] 2026-11-27"' in (vault / project).read_bytes()
    assert not [w for w in warnings(result) if w.startswith(project)]


@pytest.mark.parametrize("before_the_id", [False, True])  # the Tasks plugin writes it before
@pytest.mark.parametrize(
    ("done", "recorded"), [("2026-11-25", "2026-11-25"), ("2026-12-25", "2026-11-27")]
)
def test_a_tick_is_recorded_on_the_day_the_tasks_plugin_wrote(
    vault: Path, done: str, recorded: str, before_the_id: bool
) -> None:
    """Ticked on a phone and synced days later, with its ✅ date (after the id, or before):
    that day, unless it is still to come."""
    text = follow_ups(vault)
    ticked = rf"- [x]\1✅ {done} \2" if before_the_id else rf"- [x]\1\2 ✅ {done}"
    new, count = re.subn(rf"(?m)^- \[ \](.*)(\^{INTRO_ID})$", ticked, text)
    assert count == 1
    (vault / "Follow-ups.md").write_bytes(new.encode("utf-8"))
    scan(vault, DAY)
    assert f'"[[Sam Rivera]] {recorded}"'.encode() in (vault / INTRO).read_bytes()


def test_a_tick_names_a_person_by_path_only_when_another_note_has_their_name(
    tmp_path: Path,
) -> None:
    notes = {
        "People/Sam Rivera.md": "---\ntype: person\n---\n",
        "Clients/sam rivera.md": "---\ntype: person\n---\n",  # the same name, to a link
        "People/Ann Lee.md": "---\ntype: person\n---\n",
        "Meetings/2026-11-20 Intro.md": (
            '---\nintroduced_by: ["[[People/Sam Rivera]]", "[[Ann Lee]]"]\n---\n'
        ),
    }
    root = make_vault(tmp_path / "vault", notes)
    scan(root, DAY)
    for person in ("People/Sam Rivera.md", "People/Ann Lee.md"):
        tick(root, item_id("Meetings/2026-11-20 Intro.md", person))
    scan(root, DAY)
    recorded = (root / "Meetings/2026-11-20 Intro.md").read_text("utf-8")
    assert '\n  - "[[People/Sam Rivera]] 2026-11-27"\n' in recorded
    assert '\n  - "[[Ann Lee]] 2026-11-27"\n' in recorded


def test_a_done_date_in_a_name_is_not_the_day_it_was_ticked(vault: Path) -> None:
    project = "Projects/Retro ✅ 2026-03-02.md"
    make_vault(vault, {project: "# Retro\n- [ ] Report back to [[Sam Rivera]] 📅 2026-12-01\n"})
    scan(vault, DAY)
    tick(vault, item_id(project, SAM))
    scan(vault, DAY)
    assert b'"[[Sam Rivera]] 2026-11-27"' in (vault / project).read_bytes()


def test_a_reconnect_tick_sets_last_contact_on_the_person(vault: Path) -> None:
    assert GRACE_ID in follow_ups(vault)
    tick(vault, GRACE_ID)
    result = scan(vault, DAY)
    assert (vault / GRACE).read_bytes() == (
        b"---\ntype: person\nkeep_in_touch: 1m  # at least\nlast_contact: 2026-11-27\n"
        b"company: Kestrel\n---\nMet at a meetup.\n"
    )
    open_items, _ = items(result)
    assert GRACE_ID not in open_items
    people = {p["person"]: p for p in report_json(result.report)["people"]}
    assert people["Grace Liu"]["last_contact"] == "2026-11-27"


def test_a_reconnect_cannot_be_cancelled_the_tick_stays_with_a_warning(vault: Path) -> None:
    tick(vault, GRACE_ID, "-")
    before = snapshot(vault)
    result = scan(vault, DAY)
    assert snapshot(vault) == before  # nothing written anywhere
    assert "- [-] Reconnect with [[People/Grace Liu|Grace Liu]]" in follow_ups(vault)
    assert any("Reconnect with Grace Liu" in w and "keep_in_touch" in w for w in warnings(result))


def test_several_ticks_in_one_note_and_elsewhere(vault: Path) -> None:
    tick(vault, INTRO_ID)
    tick(vault, ADVICE_ID)
    tick(vault, TASK_ID, "-")
    result = scan(vault, DAY)
    assert result.recorded == sorted([INTRO, ADVICE, TASKS])
    open_items, closed = items(result)
    assert {INTRO_ID, ADVICE_ID, TASK_ID} <= closed.keys()
    assert not {INTRO_ID, ADVICE_ID, TASK_ID} & open_items.keys()


def test_a_note_that_cannot_be_edited_keeps_the_tick_and_says_why(vault: Path) -> None:
    # Broken YAML: the reader still finds the body's task, but the front matter cannot be
    # edited safely, so the tick waits for the user to fix it.
    broken = b"---\ndate: [2026-11-20\n---\n- [ ] Report back to [[Sam Rivera]] soon\n"
    (vault / TASKS).write_bytes(broken)
    scan(vault, DAY)
    tick(vault, TASK_ID)
    result = scan(vault, DAY)
    assert (vault / TASKS).read_bytes() == broken
    assert re.search(rf"(?m)^- \[x\] .*\^{TASK_ID}$", follow_ups(vault))
    assert any(
        w.startswith(f"{TASKS}:0: ") and "not valid YAML" in w and "stays ticked" in w
        for w in warnings(result)
    )
    # Once fixed, the next scan records it.
    (vault / TASKS).write_bytes(broken.replace(b"[2026-11-20", b"2026-11-20"))
    result = scan(vault, DAY)
    assert result.recorded == [TASKS]
    assert TASK_ID in items(result)[1]
    assert TASK_ID not in follow_ups(vault)


@pytest.mark.parametrize("how", ["read-only", "hard link"])
def test_a_note_a_rewrite_would_change_keeps_the_tick(vault: Path, how: str) -> None:
    """A rewrite replaces the file: through a read-only note (the folder allows it), and
    apart from the note's other hard links. Neither may happen behind the user's back."""
    note = vault / INTRO
    if how == "read-only":
        note.chmod(0o444)
    else:
        os.link(note, vault / "Intro elsewhere.txt")
    tick(vault, INTRO_ID)
    before = snapshot(vault)
    result = scan(vault, DAY)
    assert {k: v for k, v in snapshot(vault).items() if k != "Follow-ups.md"} == {
        k: v for k, v in before.items() if k != "Follow-ups.md"
    }
    assert re.search(rf"(?m)^- \[x\] .*\^{INTRO_ID}$", follow_ups(vault))
    assert any(w.startswith(f"{INTRO}:0: ") and how in w for w in warnings(result))


def test_a_last_contact_that_is_not_a_date_is_not_overwritten(vault: Path) -> None:
    note = vault / GRACE
    written = note.read_bytes().replace(b"2026-09-01", b"2026-09-01 (coffee at Blue Bottle)")
    note.write_bytes(written)
    scan(vault, DAY)
    tick(vault, GRACE_ID)
    result = scan(vault, DAY)
    assert note.read_bytes() == written
    assert any(w.startswith(f"{GRACE}:0: ") and "not a date" in w for w in warnings(result))


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file away needs root"
)
def test_a_recorded_note_keeps_its_owner_and_attributes(vault: Path) -> None:
    """vaultsync run as root (a container, a service) must leave the user's note theirs."""
    note = vault / INTRO
    os.chown(note, 65534, 65534)
    with contextlib.suppress(OSError):  # a file system without user attributes
        os.setxattr(note, "user.colour", b"red")
    attributes = os.listxattr(note)
    tick(vault, INTRO_ID)
    assert scan(vault, DAY).recorded == [INTRO]
    kept = note.stat()
    assert (kept.st_uid, kept.st_gid) == (65534, 65534)
    assert os.listxattr(note) == attributes
    assert all(os.getxattr(note, name) == b"red" for name in attributes if name == "user.colour")


# Scans a vault as nobody and prints its warnings; a dry run first, as root, imports every
# module the scan needs while the interpreter's files are still readable.
AS_NOBODY = f"""
import datetime as dt, json, os, sys
from pathlib import Path
import platformdirs, vaultsync.record
from vaultsync.scan import scan
root, day = Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2])
scan(root, day, dry_run=True, use_cache=False)
{BECOME_NOBODY}
result = scan(root, day)
print(json.dumps([f"{{w.path}}:{{w.line}}: {{w.message}}" for w in result.report.warnings]))
"""


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="runs vaultsync as nobody, from root"
)
def test_a_note_whose_owner_cannot_be_kept_keeps_the_tick(world_readable_dir: Path) -> None:
    """Rewritten by another user, a note shared through a folder would become theirs."""
    root = make_vault(world_readable_dir / "vault")
    scan(root, DAY)
    tick(root, INTRO_ID)
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o777 if path.is_dir() else 0o666)
    before = (root / INTRO).read_bytes()
    env = {**os.environ, "XDG_CACHE_HOME": str(root / ".cache")}
    done = subprocess.run(
        [sys.executable, "-c", AS_NOBODY, str(root), DAY.isoformat()],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    said = json.loads(done.stdout)
    assert (root / INTRO).read_bytes() == before and (root / INTRO).stat().st_uid == 0
    assert any(w.startswith(f"{INTRO}:0: ") and "owner or group" in w for w in said), said
    assert re.search(rf"(?m)^- \[x\] .*\^{INTRO_ID}$", follow_ups(root))


def test_a_note_gone_since_it_was_read_keeps_the_tick(vault: Path) -> None:
    # What the watcher meets: its notes were read, then the source was deleted.
    loaded = Vault(vault)
    loaded.load()
    tick(vault, INTRO_ID)
    (vault / INTRO).unlink()
    result = loaded.write(DAY)
    assert re.search(rf"(?m)^- \[x\] .*\^{INTRO_ID}$", follow_ups(vault))
    assert any(w.startswith(f"{INTRO}:0: ") and "gone" in w for w in warnings(result))
    assert not (vault / INTRO).exists()


def test_a_tick_whose_item_is_gone_is_kept_as_written(vault: Path) -> None:
    tick(vault, INTRO_ID)
    ticked = next(line for line in follow_ups(vault).split("\n") if INTRO_ID in line)
    renamed = vault / "Meetings/2026-11-19 Intro call with Jo Park.md"
    (vault / INTRO).rename(renamed)  # renamed before the tick was recorded
    result = scan(vault, DAY)
    text = follow_ups(vault)
    assert "## Ticked, not recorded\n" + ticked + "\n" in text
    assert any(w.startswith("Follow-ups.md:") and INTRO_ID in w for w in warnings(result))
    assert renamed.read_bytes() == NOTES[INTRO].encode()
    # The user deletes the line: it is gone for good.
    (vault / "Follow-ups.md").write_bytes(text.replace(ticked + "\n", "").encode())
    assert "Ticked, not recorded" not in scan(vault, DAY).text


def test_a_tick_on_an_item_closed_meanwhile_is_dropped(vault: Path) -> None:
    tick(vault, INTRO_ID)
    closed_by_hand = NOTES[INTRO].replace("---\r\nGood", "reported_back: 2026-11-26\r\n---\r\nGood")
    (vault / INTRO).write_bytes(closed_by_hand.encode())
    before = (vault / INTRO).read_bytes()
    result = scan(vault, DAY)
    assert (vault / INTRO).read_bytes() == before  # closed already: not recorded again
    assert INTRO_ID not in follow_ups(vault)
    assert items(result)[1][INTRO_ID]["closed_on"] == "2026-11-26"


def test_record_ticks_off_leaves_ticks_and_notes_alone(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault", config="record_ticks = false\n")
    scan(root, DAY)
    assert "Ticks are not recorded" in follow_ups(root)
    tick(root, INTRO_ID)
    tick(root, ADVICE_ID, "-")
    before = snapshot(root)
    result = scan(root, DAY)
    assert snapshot(root) == before
    assert not result.changed
    off = [w for w in warnings(result) if "record_ticks = false" in w]
    assert len(off) == 2
    assert all(w.startswith("Follow-ups.md:") for w in off)


@pytest.mark.parametrize("check", [False, True])
def test_dry_run_and_check_record_nothing_but_report_a_change(vault: Path, check: bool) -> None:
    tick(vault, INTRO_ID)
    before = snapshot(vault)
    result = scan(vault, DAY, dry_run=True)
    assert snapshot(vault) == before
    assert result.changed  # `--check` exits 1: the ticks are still to be recorded
    assert re.search(rf"(?m)^- \[x\] .*\^{INTRO_ID}$", result.text)
    assert result.recorded == []


# -- under `vaultsync watch` ----------------------------------------------------------------


@contextmanager
def watching(root: Path) -> Iterator[Watcher]:
    watcher = Watcher(root, quiet_period=0.1, today=lambda: DAY)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            watcher.run()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, name="tick-watcher")
    thread.start()
    try:
        assert wait_until(lambda: watcher.ready.is_set() or not thread.is_alive())
        yield watcher
    finally:
        watcher.stop()
        thread.join(15)
    assert not thread.is_alive()
    if errors:
        raise errors[0]


def test_watch_records_a_tick_and_settles_without_a_loop(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    with watching(root) as watcher:
        assert INTRO_ID in follow_ups(root)
        tick(root, INTRO_ID)
        assert wait_until(lambda: INTRO_ID not in follow_ups(root))
        note = (root / INTRO).read_bytes()
        assert note.count(b"[[Sam Rivera]] 2026-11-27") == 1
        # The note we wrote and the index we wrote come back as events: they must settle
        # into no further write, and the note must not be recorded twice.
        time.sleep(1.0)
        writes = watcher.writes
        time.sleep(1.0)
        assert watcher.writes == writes
        assert (root / INTRO).read_bytes() == note
        assert follow_ups(root) == scan(root, DAY, dry_run=True).text


def test_a_weekly_reconnect_tick_is_used_up_not_recorded_again(tmp_path: Path) -> None:
    """A cadence within the week brings the reconnect straight back, due a week later: the
    tick was recorded and must not be recorded again at the next day's scan."""
    notes = {GRACE: "---\ntype: person\nkeep_in_touch: weekly\nlast_contact: 2026-11-01\n---\n"}
    root = make_vault(tmp_path / "vault", notes)
    scan(root, DAY)
    tick(root, GRACE_ID)
    result = scan(root, DAY)
    open_items, _ = items(result)
    assert open_items[GRACE_ID]["due"] == "2026-12-04"
    assert "- [ ] Reconnect" in follow_ups(root) and "- [x]" not in follow_ups(root)
    scan(root, DAY + dt.timedelta(days=3))
    assert b"last_contact: 2026-11-27\n" in (root / GRACE).read_bytes()


def test_a_reconnect_ticked_the_day_of_a_meeting_is_used_up_too(tmp_path: Path) -> None:
    """Met today, a weekly reconnect is listed all the same, due a week on, and the tick moves
    nothing: it stayed ticked with a warning, to be recorded the next day as a contact then."""
    notes = {
        GRACE: "---\ntype: person\nkeep_in_touch: weekly\n---\n",
        f"Meetings/{DAY} 1-1 with Grace.md": '---\npeople: ["[[Grace Liu]]"]\n---\n',
    }
    root = make_vault(tmp_path / "vault", notes)
    scan(root, DAY)
    tick(root, GRACE_ID)
    result = scan(root, DAY)
    assert warnings(result) == []
    assert "- [ ] Reconnect" in follow_ups(root) and "- [x]" not in follow_ups(root)
    scan(root, DAY + dt.timedelta(days=1))
    assert b"2026-11-28" not in (root / GRACE).read_bytes()


def test_ticks_are_found_after_a_byte_order_mark(vault: Path) -> None:
    tick(vault, INTRO_ID)
    path = vault / "Follow-ups.md"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = scan(vault, DAY)
    _, closed = items(result)
    assert INTRO_ID in closed
    assert path.read_bytes().startswith(b"\xef\xbb\xbf%% vaultsync:begin %%")


# find_ticks finds the markers through their text; the line-by-line reading it replaced is
# the reference, line numbers included.

def _reference_ticks(text: str) -> list[tuple[str, str, int, str]]:
    lines = text.split("\n")
    begins, ends = _reference_markers(lines)
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        return []
    found: dict[str, tuple[str, str, int, str]] = {}
    for number in range(begins[0] + 1, ends[0]):
        line = lines[number].rstrip("\r")
        match = _TICKED.fullmatch(line)
        if match and match.group(2) not in found:
            mark = WONT if match.group(1) == "-" else DONE
            found[match.group(2)] = (match.group(2), mark, number + 1, line)
    return list(found.values())


_LINES = st.sampled_from(
    ["", " ", "a", "\ufeff", BEGIN, END, f" {BEGIN} ", "- [x] Done ^vs-0123456789",
     "- [-] No ^vs-abcdefabcd", "  * [X] Done ^vs-0123456789", "- [ ] Open ^vs-1111111111",
     "- [x] Done ^vs-0123456789\r", "\u2028- [x] x ^vs-2222222222"]
)
_ENDS = st.sampled_from(["\n", "\r\n"])


def _file(lines: list[tuple[str, str]]) -> str:
    return "".join(line + end for line, end in lines)


# A block, with lines before, inside and after it; or lines of anything.
_FILES = st.one_of(
    st.builds(
        lambda before, inside, after, ends: _file(before)
        + BEGIN + ends[0] + _file(inside) + END + ends[1] + _file(after),
        st.lists(st.tuples(_LINES, _ENDS), max_size=3),
        st.lists(st.tuples(_LINES, _ENDS), max_size=6),
        st.lists(st.tuples(_LINES, _ENDS), max_size=3),
        st.tuples(_ENDS, st.sampled_from(["", "\n", "\r\n"])),
    ),
    st.lists(st.tuples(_LINES, _ENDS), max_size=10).map(_file),
)


@settings(max_examples=1500, deadline=None)
@given(_FILES)
def test_ticks_are_found_as_the_line_by_line_reading_found_them(text: str) -> None:
    found = [(t.id, t.mark, t.line, t.text) for t in find_ticks(utf8(text))]
    assert found == _reference_ticks(text)
