"""`vaultsync watch` against real observers on real folders: no mocked watchdog.

Each test copies the sample vault into a temporary folder, runs a `Watcher` in a background
thread (or `vaultsync watch` as a subprocess, for the signal tests), changes files the way
editors and sync clients do, and waits, with a timeout, for Follow-ups.md to equal what a
fresh `scan` writes. The autouse fixture of conftest.py fails any test that leaves a thread
running, so every watcher here is stopped.

The short soak runs by default; the long one (thousands of operations) only when the
environment variable VAULTSYNC_SOAK=1 is set (it is also marked `slow`):
    VAULTSYNC_SOAK=1 python -m pytest tests/test_watch.py -k long_soak
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import BECOME_NOBODY, NOBODY, SAMPLE_VAULT, TODAY, wait_until

from vaultsync.errors import VaultGone, VaultsyncError
from vaultsync.output import BEGIN, END
from vaultsync.scan import Vault, scan
from vaultsync.watch import RELOADED, Change, Watcher

DAY = dt.date.fromisoformat(TODAY)
QUIET = 0.1
TIMEOUT = 15.0
OUTPUT = "Follow-ups.md"
LONG_AGO = 1_700_000_000


# -- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    shutil.copytree(SAMPLE_VAULT, root, ignore=shutil.ignore_patterns(OUTPUT))
    return root


def index(root: Path) -> str:
    try:
        return (root / OUTPUT).read_text("utf-8")
    except FileNotFoundError:
        return ""


def expected(root: Path, day: dt.date = DAY) -> str:
    """What a fresh `vaultsync scan` would leave in Follow-ups.md now."""
    return scan(root, day, dry_run=True).text


def settles(root: Path, day: dt.date = DAY) -> bool:
    """Follow-ups.md ends up exactly as a fresh scan writes it."""
    return wait_until(lambda: index(root) == expected(root, day))


@contextmanager
def watching(root: Path, **options: Any) -> Iterator[Watcher]:
    """A Watcher running in a background thread, ready, and stopped (and joined) at the end."""
    options.setdefault("quiet_period", QUIET)
    options.setdefault("today", lambda: DAY)
    watcher = Watcher(root, **options)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            watcher.run()
        except BaseException as exc:  # handed to the test's thread below
            errors.append(exc)

    thread = threading.Thread(target=run, name="watcher-under-test")
    thread.start()
    try:
        assert wait_until(lambda: watcher.ready.is_set() or not thread.is_alive())
        if errors:
            raise errors[0]
        yield watcher
    finally:
        watcher.stop()
        thread.join(TIMEOUT)
    assert not thread.is_alive(), "the watcher did not stop"
    if errors:
        raise errors[0]


def quiet_for(watcher: Watcher, seconds: float = 1.0) -> tuple[int, int]:
    """Let the watcher idle, then say how many (updates, writes) it has made."""
    time.sleep(seconds)
    return watcher.updates, watcher.writes


def meeting(
    person: str = "Zed Newman", introducer: str = "Ben Adler", day: str = "2026-11-20"
) -> str:
    return (
        f'---\ndate: {day}\npeople: "[[{person}]]"\nintroduced_by: "[[{introducer}]]"\n---\n'
        f"Met {person}.\n"
    )


# -- the ways editors and sync clients save a note ----------------------------------------


def in_place(path: Path, text: str) -> None:  # Obsidian, most editors
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def write_then_rename(path: Path, text: str) -> None:  # VS Code, sync clients, atomic savers
    temp = path.with_name(f".{path.name}.tmp{random.randrange(10**6)}")
    temp.write_text(text, "utf-8")
    os.replace(temp, path)


def vim(path: Path, text: str) -> None:  # swap file, `4913` probe, backup by rename, new file
    swap = path.with_name(f".{path.name}.swp")
    swap.write_bytes(b"vim swap")
    probe = path.with_name("4913")
    probe.write_bytes(b"")
    probe.unlink()
    backup = path.with_name(path.name + "~")
    if path.exists():
        os.rename(path, backup)
    path.write_text(text, "utf-8")
    backup.unlink(missing_ok=True)
    swap.unlink()


def delete_then_create(path: Path, text: str) -> None:
    path.unlink(missing_ok=True)
    path.write_text(text, "utf-8")


SAVES = [in_place, write_then_rename, vim, delete_then_create]


# -- tests ------------------------------------------------------------------------------------


def test_first_scan_writes_the_index_and_its_own_write_wakes_nothing(vault: Path) -> None:
    with watching(vault) as watcher:
        assert index(vault) == expected(vault)
        assert watcher.writes == 1
        assert quiet_for(watcher) == (0, 1), "the watcher reacted to its own write"
    assert not list(vault.glob(".vaultsync-*.tmp"))


@pytest.mark.parametrize("save", SAVES, ids=lambda f: f.__name__)
def test_every_save_pattern_updates_the_index(
    vault: Path, save: Callable[[Path, str], None]
) -> None:
    existing = vault / "Meetings" / "2026-10-02 Coffee with Ben Adler.md"
    new = vault / "Meetings" / "2026-11-20 Intro to Zed.md"
    with watching(vault) as watcher:
        save(new, meeting())  # a new note
        assert wait_until(lambda: "Intro to Zed" in index(vault))
        assert settles(vault)
        save(existing, existing.read_text("utf-8").replace("reported_back: true\n", ""))
        assert settles(vault)
        assert "Coffee with Ben Adler" in index(vault)
        updates, writes = quiet_for(watcher, 0.5)
        assert quiet_for(watcher, 0.5) == (updates, writes), "the watcher keeps updating"
    assert not list(vault.rglob(".vaultsync-*.tmp"))


def test_editor_temp_hidden_and_other_files_wake_nothing(vault: Path) -> None:
    with watching(vault) as watcher:
        meetings = vault / "Meetings"
        for name in (".x.md.swp", "x.md~", "4913", "#x.md#", ".#x.md", "x.md.tmp",
                     "x.md.crdownload", "x.md.part", "~$x.docx", "picture.png"):
            (meetings / name).write_bytes(b"---\npeople: [[Zed]]\n---\n")
        (vault / ".obsidian" / "workspace.json").write_text("{}", "utf-8")
        (vault / ".trash" / "2026-11-20 Gone.md").write_text(meeting(), "utf-8")
        (vault / "Templates" / "New template.md").write_text(meeting(), "utf-8")
        (vault / ".vaultsync-leftover.tmp").write_text("x", "utf-8")
        assert quiet_for(watcher) == (0, 1)


def test_reading_notes_is_not_an_event(vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening and reading files (the watcher's own reads, a search, a backup) is not even
    asked of the kernel: the first read of a large vault would make two events a note."""
    seen: list[str] = []
    handle = Watcher._on_event

    def spy(self: Watcher, event: Any) -> None:
        seen.append(event.event_type)
        handle(self, event)

    monkeypatch.setattr(Watcher, "_on_event", spy)
    with watching(vault):
        for _ in range(3):
            for note in vault.rglob("*.md"):
                note.read_bytes()
        in_place(vault / "Meetings" / "2026-11-20 Intro to Zed.md", meeting())
        assert settles(vault)
    assert seen and {"opened", "closed_no_write"}.isdisjoint(seen)


@pytest.mark.parametrize("polling", [False, True], ids=["native", "polling"])
def test_a_change_of_permissions_reads_the_note_again(vault: Path, polling: bool) -> None:
    """A note made readable again (or its times set) changes no byte but must be read."""
    note = vault / "Meetings" / "2026-10-02 Coffee with Ben Adler.md"
    with watching(vault, polling=polling, poll_interval=0.1) as watcher:
        assert quiet_for(watcher, 0.3) == (0, 1)
        note.chmod(0o600)
        assert wait_until(lambda: watcher.updates >= 1)
        updates = watcher.updates
        os.utime(note, (LONG_AGO, LONG_AGO))
        assert wait_until(lambda: watcher.updates > updates)


def test_moves_of_notes(vault: Path) -> None:
    note = vault / "Meetings" / "2026-11-20 Intro to Zed.md"
    note.write_text(meeting(), "utf-8")
    with watching(vault):
        assert "Intro to Zed" in index(vault)
        renamed = note.with_name("2026-11-20 Zed intro call.md")
        os.rename(note, renamed)
        assert settles(vault)
        assert "Zed intro call" in index(vault) and "Intro to Zed" not in index(vault)
        (vault / "Calls").mkdir()
        moved = vault / "Calls" / renamed.name
        os.rename(renamed, moved)
        assert settles(vault)
        assert "Calls/2026-11-20 Zed intro call" in index(vault)
        os.rename(moved, vault / ".trash" / moved.name)  # Obsidian's delete
        assert settles(vault)
        assert "Zed intro call" not in index(vault)
        os.rename(vault / ".trash" / moved.name, moved)  # and its undo
        assert settles(vault)
        assert "Zed intro call" in index(vault)


@pytest.mark.parametrize("polling", [False, True], ids=["native", "polling"])
def test_folder_rename_and_edit(vault: Path, polling: bool) -> None:
    with watching(vault, polling=polling, poll_interval=0.1) as watcher:
        before = index(vault)
        os.rename(vault / "Meetings", vault / "Meetings 2026")
        assert settles(vault)
        assert "Meetings 2026/" in index(vault) and index(vault) != before
        assert "[[Meetings/" not in index(vault)
        note = vault / "Meetings 2026" / "2026-11-20 Intro to Zed.md"
        in_place(note, meeting())
        assert settles(vault)
        assert "Meetings 2026/2026-11-20 Intro to Zed" in index(vault)
        os.rename(vault / "Meetings 2026", vault / "Old")
        assert settles(vault)
        assert watcher.writes >= 3


def test_folders_created_with_notes_in_them(vault: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "Trip"
    (outside / "Day 1").mkdir(parents=True)
    (outside / "Day 1" / "2026-11-21 Lunch with Yan.md").write_text(meeting("Yan Li"), "utf-8")
    (outside / "2026-11-22 Dinner with Xu.md").write_text(meeting("Xu Wei"), "utf-8")
    with watching(vault):
        os.rename(outside, vault / "Trip")  # moved in from outside the vault
        assert settles(vault)
        assert "Lunch with Yan" in index(vault) and "Dinner with Xu" in index(vault)
        deep = vault / "Conference" / "Day 2" / "Sessions"
        deep.mkdir(parents=True)  # notes written at once into fresh folders
        (deep / "2026-11-23 Panel with Vic.md").write_text(meeting("Vic Oda"), "utf-8")
        shutil.copytree(vault / "Trip", vault / "Trip copy")
        assert settles(vault)
        assert "Panel with Vic" in index(vault) and "Trip copy/Day 1" in index(vault)
        shutil.rmtree(vault / "Trip")
        os.rename(vault / "Conference", tmp_path / "elsewhere" / "Conference")  # moved out
        assert settles(vault)
        assert "Trip/" not in index(vault) and "Panel with Vic" not in index(vault)


def test_deleting_and_recreating_every_note(vault: Path) -> None:
    notes = {p: p.read_bytes() for p in vault.rglob("*.md") if p.name != OUTPUT}
    with watching(vault):
        full = index(vault)
        for path in notes:
            path.unlink()
        assert settles(vault)
        assert "Report back" not in index(vault)
        for path, data in notes.items():
            path.write_bytes(data)
        assert wait_until(lambda: index(vault) == full)


def test_a_burst_of_500_notes_gives_one_or_few_writes(vault: Path) -> None:
    with watching(vault, quiet_period=0.3) as watcher:
        folder = vault / "Imported"
        folder.mkdir()
        for i in range(500):
            person = f"Person {i % 37}"
            (folder / f"2026-11-{1 + i % 28:02d} Meeting {i}.md").write_text(
                meeting(person, "Ben Adler" if i % 2 else "Aisha Karim"), "utf-8"
            )
        assert settles(vault)
        assert "Meeting 499" in index(vault)
        assert 2 <= watcher.writes <= 4, f"{watcher.writes - 1} writes for one burst"


def test_configuration_changes_are_applied_and_a_bad_one_is_kept_out(
    vault: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vaultsync")
    config = vault / ".vaultsync.toml"
    with watching(vault):
        assert "```mermaid" in index(vault)
        config.write_text("graph = false\n", "utf-8")
        assert settles(vault)
        assert "```mermaid" not in index(vault)

        good = index(vault)
        config.write_text("graph = 'maybe'\n", "utf-8")
        assert wait_until(lambda: "keeping the last good configuration" in caplog.text)
        assert "`graph` must be true or false" in caplog.text
        assert index(vault) == good
        note = vault / "Meetings" / "2026-11-20 Intro to Zed.md"
        note.write_text(meeting(), "utf-8")  # still read, under the last good configuration
        assert wait_until(lambda: "Intro to Zed" in index(vault))
        assert "```mermaid" not in index(vault)

        config.write_text('ignore = ["Meetings/**"]\n', "utf-8")
        assert settles(vault)
        assert "Intro to Zed" not in index(vault) and "```mermaid" in index(vault)

        config.unlink()
        templates = vault / ".obsidian" / "templates.json"
        templates.write_text('{"folder": "Meetings"}', "utf-8")  # Obsidian's setting moved
        assert settles(vault)
        assert "Intro to Zed" not in index(vault)
        templates.write_text('{"folder": "Templates"}', "utf-8")
        assert settles(vault)
        assert "Intro to Zed" in index(vault)


def test_a_new_day_re_renders_without_any_edit(vault: Path) -> None:
    days = [DAY]
    with watching(vault, today=lambda: days[-1]) as watcher:
        assert index(vault) == expected(vault, DAY)
        later = DAY + dt.timedelta(days=40)
        assert expected(vault, later) != index(vault)
        days.append(later)
        assert settles(vault, later)
        assert watcher.writes == 2


def test_the_users_text_outside_the_markers_is_kept(vault: Path) -> None:
    output = vault / OUTPUT
    with watching(vault) as watcher:
        text = output.read_text("utf-8")
        mine = "# My follow-ups\nWritten by me.\n\n" + text + "\n## Notes\n- call mom\n"
        output.write_text(mine, "utf-8")  # the user edits around the block
        time.sleep(0.5)
        assert output.read_text("utf-8") == mine
        assert watcher.writes == 1  # re-rendered from a fresh read: nothing to change
        inside = mine.replace(END, "- [ ] stray line typed inside the block\n" + END)
        output.write_text(inside, "utf-8")  # the block is vaultsync's: it is restored
        assert wait_until(lambda: output.read_text("utf-8") == mine)
        (vault / "Meetings" / "2026-11-20 Intro to Zed.md").write_text(meeting(), "utf-8")
        assert settles(vault)
        final = output.read_text("utf-8")
        assert final.startswith("# My follow-ups\nWritten by me.\n\n" + BEGIN)
        assert final.endswith(END + "\n\n## Notes\n- call mom\n") and "Intro to Zed" in final


def test_a_failed_update_is_logged_and_watching_goes_on(
    vault: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vaultsync")
    output = vault / OUTPUT
    with watching(vault):
        output.write_text("My own list, no markers.\n", "utf-8")
        assert wait_until(lambda: "will not touch it" in caplog.text)
        (vault / "Meetings" / "2026-11-20 Intro to Zed.md").write_text(meeting(), "utf-8")
        time.sleep(0.5)
        assert output.read_text("utf-8") == "My own list, no markers.\n"
        output.write_text(f"My own list.\n{BEGIN}\n{END}\n", "utf-8")
        assert settles(vault)
        assert output.read_text("utf-8").startswith("My own list.\n")
        assert "Intro to Zed" in index(vault)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("updated")]
    assert any("Follow-ups.md edited" in line and " open, " in line for line in lines)


def test_one_log_line_per_update(vault: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="vaultsync")
    with watching(vault):
        (vault / "Meetings" / "2026-11-20 Intro to Zed.md").write_text(meeting(), "utf-8")
        assert wait_until(lambda: "Intro to Zed" in index(vault))
        assert wait_until(lambda: "note read" in caplog.text)
    updates = [r.getMessage() for r in caplog.records if "note read" in r.getMessage()]
    assert len(updates) == 1
    assert updates[0].startswith("updated Follow-ups.md: 1 note read (Meetings/2026-11-20 Intro")
    assert updates[0].endswith(" overdue") and " open, " in updates[0]


def test_renames_that_change_only_case(vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The exact-spelling check exists for disks that ignore case (macOS, Windows); forced on
    # here, on a disk that does not, it must still give what a fresh scan gives.
    monkeypatch.setattr("vaultsync.watch.folds_case", lambda root: True)
    with watching(vault):
        os.rename(vault / "People" / "Ben Adler.md", vault / "People" / "ben adler.md")
        assert settles(vault)
        assert "People/ben adler" in index(vault)
        os.rename(vault / "Meetings", vault / "meetings")
        assert settles(vault)
        assert "[[meetings/" in index(vault) and "[[Meetings/" not in index(vault)
        in_place(vault / "meetings" / "2026-11-20 Intro to Zed.md", meeting())
        assert settles(vault)


def test_a_symbolic_link_is_not_followed(vault: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text(meeting("Hidden Person"), "utf-8")
    with watching(vault):
        (vault / "Meetings" / "2026-11-20 Linked.md").symlink_to(outside)
        (vault / "Linked folder").symlink_to(tmp_path, target_is_directory=True)
        (vault / "Meetings" / "2026-11-20 Intro to Zed.md").write_text(meeting(), "utf-8")
        assert wait_until(lambda: "Intro to Zed" in index(vault))
        assert settles(vault)
        assert "Hidden Person" not in index(vault)


def deaf() -> Any:
    """A real observer that hears nothing within a test (it looks once an hour): as if every
    event were lost, as inotify loses them in a burst of thousands."""
    from watchdog.observers.polling import PollingObserver

    return PollingObserver(timeout=3600)


def test_changes_whose_events_were_lost_are_found_by_a_walk(
    vault: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vaultsync")
    with watching(vault, observer_factory=deaf, walk_interval=3600) as watcher:
        in_place(vault / "Meetings" / "2026-11-20 Intro to Zed.md", meeting())
        (vault / "People" / "Ben Adler.md").unlink()
        # Copied with its times kept (`cp -p`, `rsync -a`): only its ctime says it changed.
        note = vault / "Meetings" / "2026-11-19 Intro call with Jordan Okafor.md"
        text, kept = note.read_text("utf-8"), note.stat()
        note.write_text(text.replace("[[Sam Rivera]]", "[[Sam Rivere]]"), "utf-8")
        os.utime(note, ns=(kept.st_atime_ns, kept.st_mtime_ns))
        time.sleep(1.0)
        assert "Intro to Zed" not in index(vault)  # nobody heard of it
        watcher.walk_interval = 0.2
        # Not `settles`: a scan that takes notes from the cache would trust the kept mtime.
        fresh = lambda: scan(vault, DAY, dry_run=True, use_cache=False).text  # noqa: E731
        assert wait_until(lambda: index(vault) == fresh())
        assert "Intro to Zed" in index(vault) and "Sam Rivere" in index(vault)
    lines = [r.getMessage() for r in caplog.records if "found by a walk" in r.getMessage()]
    assert lines and "1 note gone (People/Ben Adler.md)" in lines[0]


def test_events_watchdog_says_it_lost_are_found_by_a_walk_at_once(vault: Path) -> None:
    """inotify's queue overflows in a burst of changes; watchdog only logs it. The vault is
    walked then, not minutes later."""
    with watching(vault, observer_factory=deaf, walk_interval=3600):
        in_place(vault / "Meetings" / "2026-11-20 Intro to Zed.md", meeting())
        time.sleep(1.0)
        assert "Intro to Zed" not in index(vault)  # nobody heard of it
        logging.getLogger("watchdog.observers.inotify_c").warning(
            "Inotify queue overflowed; filesystem events were lost"
        )
        assert settles(vault) and "Intro to Zed" in index(vault)


def test_a_conflict_copy_that_comes_while_watching_is_warned_of(
    vault: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Only the walk warns of a sync conflict copy; one appearing is a reason to walk."""
    caplog.set_level(logging.INFO, logger="vaultsync")
    with watching(vault, walk_interval=3600):
        copy = "Meetings/2026-11-19 Intro call with Jordan Okafor (conflict 2026-11-29).md"
        in_place(vault / copy, meeting())
        assert wait_until(lambda: f"{copy}: sync conflict copy" in caplog.text)
        assert settles(vault)


def test_a_note_moved_into_a_new_folder_is_listed_once_before_its_old_path_is_heard(
    vault: Path,
) -> None:
    """Obsidian's "move to new folder": watchdog reports the folder at once, the note's old
    path up to half a second later (past the quiet period). Here the old path's event never
    comes: the output must not list the note's items twice meanwhile."""
    with watching(vault, observer_factory=deaf, walk_interval=3600) as watcher:
        old = "Meetings/2026-11-19 Intro call with Jordan Okafor.md"
        before = index(vault)
        (vault / "Archive").mkdir()
        (vault / old).rename(vault / "Archive" / Path(old).name)
        watcher._queue.put(Change("created", "Archive", True))  # as the observer puts it
        assert wait_until(lambda: index(vault) != before)
        assert settles(vault)


def test_a_tick_and_a_configuration_whose_events_were_lost_are_found_by_a_walk(
    vault: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A box ticked in Follow-ups.md on another device, then a new configuration, synced while
    no event came: a walk records the tick, the next reads the configuration, each once."""
    caplog.set_level(logging.INFO, logger="vaultsync")
    time.sleep(0.1)  # past the tick of the notes just copied: no walk reads them again
    with watching(vault, observer_factory=deaf, walk_interval=3600) as watcher:
        text = index(vault)
        line = next(x for x in text.splitlines() if x.startswith("- [ ] Report back"))
        item = line.rsplit("^", 1)[1]
        in_place(vault / OUTPUT, text.replace(line, line.replace("[ ]", "[x]", 1)))
        time.sleep(1.0)
        assert "[x]" in index(vault)  # nobody heard of it
        watcher.walk_interval = 0.2
        assert wait_until(lambda: item not in index(vault))
        assert settles(vault)
        assert quiet_for(watcher, 0.5) == quiet_for(watcher, 1.0)  # five walks, no news
        watcher.walk_interval = 3600
        (vault / ".vaultsync.toml").write_text("graph = false\n", "utf-8")
        time.sleep(1.0)
        assert "## Introductions" in index(vault)
        watcher.walk_interval = 0.2
        assert settles(vault)
        assert "## Introductions" not in index(vault)
        assert quiet_for(watcher, 0.5) == quiet_for(watcher, 1.0)
    assert caplog.text.count("ticks recorded in") == 1
    assert caplog.text.count(RELOADED) == 1


def late() -> Any:
    """The native observer with every event handed on 0.3 s late, as on a busy machine: a
    walk may find a change before its event comes."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    class Late(Observer):  # type: ignore[misc,valid-type]
        def schedule(self, handler: Any, *args: Any, **kwargs: Any) -> Any:
            class Slow(FileSystemEventHandler):
                def dispatch(self, event: FileSystemEvent) -> None:
                    threading.Timer(0.3, handler.dispatch, [event]).start()

            return super().schedule(Slow(), *args, **kwargs)

    return Late()


def test_a_change_whose_event_is_late_is_not_called_lost(
    vault: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The walk that finds it first waits for its event: it was late, not lost."""
    caplog.set_level(logging.INFO, logger="vaultsync")
    time.sleep(0.1)  # past the tick of the notes just copied: the first scan vouches for them
    with watching(vault, observer_factory=late, walk_interval=0.05):
        in_place(vault / "Meetings" / "2026-11-20 Intro to Zed.md", meeting())
        assert settles(vault)
        (vault / "Trips").mkdir()
        os.rename(vault / "Meetings" / "2026-11-20 Intro to Zed.md", vault / "Trips" / "Z.md")
        assert settles(vault)
    assert "Zed Newman" in index(vault)
    assert "found by a walk" not in caplog.text


BROKEN = "no `%% vaultsync:begin %%`"  # what a refused output is told with


def test_an_output_the_walk_finds_broken_is_refused_once(
    vault: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Its markers gone, the output is not rewritten: that is said once, not every walk."""
    with watching(vault, observer_factory=deaf, walk_interval=0.2) as watcher:
        in_place(vault / OUTPUT, "My own list, no markers.\n")
        assert wait_until(lambda: BROKEN in caplog.text)
        assert quiet_for(watcher, 0.5) == quiet_for(watcher, 1.0)  # five walks, no news
    assert caplog.text.count(BROKEN) == 1
    assert index(vault) == "My own list, no markers.\n"


def test_an_output_put_back_as_it_was_after_a_refusal_is_brought_up_to_date(
    vault: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Its markers broken, a new note could not be listed; the markers mended by putting the
    file back as it was, the note must be listed, not the file taken for already current."""
    caplog.set_level(logging.INFO, logger="vaultsync")
    with watching(vault):
        written = index(vault)
        in_place(vault / OUTPUT, written.replace(BEGIN, "%% vaultsync:begn %%"))
        assert wait_until(lambda: "must hold exactly one" in caplog.text)
        in_place(vault / "Meetings" / "2026-11-20 Intro to Zed.md", meeting())
        assert wait_until(lambda: caplog.text.count("must hold exactly one") == 2)
        in_place(vault / OUTPUT, written)
        assert settles(vault)
    assert "Zed Newman" in index(vault)


def test_a_new_output_refused_is_said_once(
    vault: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A configuration naming an output of the user's own: refused once, not again by walks."""
    (vault / "Mine.md").write_text("My own list, no markers.\n", "utf-8")
    with watching(vault, walk_interval=0.2) as watcher:
        (vault / ".vaultsync.toml").write_text('output = "Mine.md"\n', "utf-8")
        assert wait_until(lambda: BROKEN in caplog.text)
        assert quiet_for(watcher, 0.5) == quiet_for(watcher, 1.0)  # five walks, no news
    assert caplog.text.count(BROKEN) == 1
    assert (vault / "Mine.md").read_text("utf-8") == "My own list, no markers.\n"


def test_a_walk_reads_again_no_note_whose_event_was_heard(vault: Path) -> None:
    time.sleep(0.1)  # past the tick of the notes just copied: the first scan vouches for them
    with watching(vault, walk_interval=0.2) as watcher:
        assert quiet_for(watcher)[0] == 0  # five walks
        for i in range(3):
            in_place(vault / "Meetings" / f"2026-11-20 Intro {i}.md", meeting(f"Zed {i}"))
            assert settles(vault)
        before = watcher.updates
        time.sleep(2.5)  # ten walks, over the time the notes just written count as recent
        assert watcher.updates == before


def test_notes_read_for_a_folder_or_a_configuration_are_not_lost_to_a_walk(
    vault: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever made a note be read (its own event, its folder's, a new configuration), the
    walk knows it was read as it is now, and finds nothing lost."""
    caplog.set_level(logging.INFO, logger="vaultsync")
    trips = tmp_path / "Trips"
    trips.mkdir()
    (trips / "2026-11-20 Intro to Zed.md").write_text(meeting(), "utf-8")
    with watching(vault, walk_interval=0.2) as watcher:
        os.rename(trips, vault / "Trips")  # its notes are read for the folder's event
        assert wait_until(lambda: "Intro to Zed" in index(vault))
        assert quiet_for(watcher, 0.5) == quiet_for(watcher, 1.0)  # five walks
        (vault / ".vaultsync.toml").write_text("horizon_days = 30\n", "utf-8")
        assert wait_until(lambda: RELOADED in caplog.text)
        assert settles(vault)
        assert quiet_for(watcher, 0.5) == quiet_for(watcher, 1.0)
    assert "found by a walk" not in caplog.text


# Runs a watcher as nobody, deaf, walking the vault ten times a second, after one scan as
# root has imported every module it needs (see test_bad_input.py). Each line on its input
# says that the test changed the vault; it answers with the updates made in the two seconds
# after (a walk that finds a change waits for its late event, 1.3 s at most).
WALK_AS_NOBODY = f"""
import datetime as dt, os, sys, threading, time
from pathlib import Path
from watchdog.observers.polling import PollingObserver
from vaultsync.scan import scan
from vaultsync.watch import Watcher
root, day = Path(sys.argv[1]), dt.date.fromisoformat("{TODAY}")
scan(root, day, dry_run=True, use_cache=False)
{BECOME_NOBODY}
watcher = Watcher(root, walk_interval=0.1, today=lambda: day,
                  observer_factory=lambda: PollingObserver(timeout=3600))
thread = threading.Thread(target=watcher.run)
thread.start()
print("ready" if watcher.ready.wait(30) else "not ready", flush=True)
for line in sys.stdin:
    before = watcher.updates
    time.sleep(2.0)
    print(watcher.updates - before, flush=True)
watcher.stop()
thread.join(10)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to uid 65534 needs root")
def test_a_folder_the_walk_cannot_list_keeps_its_notes(world_readable_dir: Path) -> None:
    """A network drive that fails for a moment has not lost the notes: the output keeps them
    rather than flap, for a folder (`People`, while a new meeting elsewhere is still read) or
    for the whole vault."""
    root = world_readable_dir / "vault"
    shutil.copytree(SAMPLE_VAULT, root, ignore=shutil.ignore_patterns(OUTPUT))
    cache = world_readable_dir / "cache"
    cache.mkdir()
    for path in [root, cache, *root.rglob("*"), *cache.rglob("*")]:
        os.chown(path, NOBODY, NOBODY)
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    with subprocess.Popen(
        [sys.executable, "-c", WALK_AS_NOBODY, str(root)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd="/", env=env,
    ) as proc:  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        try:
            assert proc.stdout.readline() == "ready\n"
            first = index(root)
            answers, outputs = [], []
            zed = root / "Meetings" / "2026-11-20 Intro to Zed.md"
            for folder in (root / "People", root):
                folder.chmod(0)
                if folder != root:
                    zed.write_text(meeting(), "utf-8")
                proc.stdin.write("changed\n")
                proc.stdin.flush()
                answers.append(int(proc.stdout.readline()))
                outputs.append((root / OUTPUT).read_bytes())
            proc.stdin.close()
            assert proc.wait(TIMEOUT) == 0, proc.stderr.read() if proc.stderr else ""
        finally:
            proc.kill()
    assert answers[0] > 0 and answers[1] == 0
    after = outputs[0].decode("utf-8")
    # The people's emails come from their notes in People/; Zed's introducer is one of them.
    assert "Intro to Zed" in after and after.count("mailto:") > first.count("mailto:")
    assert outputs[1] == outputs[0]


def test_the_inotify_limit_says_what_to_do(vault: Path) -> None:
    def exhausted() -> Any:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    with pytest.raises(VaultsyncError) as caught:
        Watcher(vault, observer_factory=exhausted).run()
    message = str(caught.value)
    assert "--polling" in message and "sudo sysctl fs.inotify.max_user_watches=" in message


def test_stop_is_prompt_even_in_a_burst(vault: Path) -> None:
    with watching(vault, quiet_period=0.05) as watcher:
        for i in range(200):
            (vault / f"2026-11-20 Burst {i}.md").write_text(meeting(f"P{i}"), "utf-8")
        started = time.monotonic()
        watcher.stop()
        assert time.monotonic() - started < 2
        assert watcher.finished.is_set()
    assert not list(vault.glob(".vaultsync-*.tmp"))


# -- the command, as a real process ------------------------------------------------------------


def _vaultsync(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", "from vaultsync.cli import main; main()", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_the_watch_cleanly(vault: Path, signum: int) -> None:
    process = _vaultsync("watch", str(vault), "--quiet-period", "0.05")
    try:
        assert wait_until(lambda: (vault / OUTPUT).exists() or process.poll() is not None)
        assert process.poll() is None, process.communicate()
        for i in range(100):  # keep it busy: the signal lands during an update, or between
            (vault / f"2026-11-20 Late {i}.md").write_text(meeting(f"Q{i}"), "utf-8")
        time.sleep(0.1)
        started = time.monotonic()
        process.send_signal(signum)
        _, err = process.communicate(timeout=5)
        took = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert took < 2, f"took {took:.2f} s to stop"
    assert "Traceback" not in err and "watching" in err
    assert not list(vault.rglob(".vaultsync-*.tmp"))


def test_folders_made_with_folders_in_them_leave_the_log_quiet(vault: Path) -> None:
    """watchdog warns, with a dump of every watch, when it registers its callback again for
    a folder made with folders in it (a `git init`, a copied project): harmless, and a flood
    in a service's log."""
    process = _vaultsync("watch", str(vault), "--quiet", "--quiet-period", "0.05")
    try:
        assert wait_until(lambda: (vault / OUTPUT).exists() or process.poll() is not None)
        for i in range(30):
            (vault / f"X{i}/a/b/c/d/e/f/g").mkdir(parents=True)
        time.sleep(1)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "Warning" not in err and "Callback" not in err, err[:2000]


def test_watch_of_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    process = _vaultsync("watch", str(tmp_path / "nope"))
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "is not a folder" in err and "Traceback" not in err


# -- soak ---------------------------------------------------------------------------------------


def soak(root: Path, operations: int, seed: int) -> None:
    """Random creations, edits (every save pattern), renames and deletions of notes and folders."""
    rng = random.Random(seed)
    people = [p.stem for p in (root / "People").glob("*.md")] + ["Zed", "Yan", "Xu"]
    folders = [root / "Soak"]
    folders[0].mkdir()

    def notes() -> list[Path]:
        return [p for f in folders if f.exists() for p in f.rglob("*.md")]

    for step in range(operations):
        action = rng.random()
        existing = notes()
        folder = rng.choice([f for f in folders if f.exists()] or [root])
        if action < 0.35 or not existing:
            day = f"2026-{rng.randint(9, 12):02d}-{rng.randint(1, 28):02d}"
            path = folder / f"{day} Soak {step}.md"
            rng.choice(SAVES)(path, meeting(rng.choice(people), rng.choice(people), day))
        elif action < 0.6:
            path = rng.choice(existing)
            text = meeting(rng.choice(people), rng.choice(people))
            if rng.random() < 0.3:
                due = f"2026-12-0{rng.randint(1, 9)}"
                text += f"- [ ] report back to [[{rng.choice(people)}]] 📅 {due}\n"
            rng.choice(SAVES)(path, text)
        elif action < 0.75:
            path = rng.choice(existing)
            os.rename(path, folder / f"2026-11-{rng.randint(1, 28):02d} Renamed {step}.md")
        elif action < 0.85:
            rng.choice(existing).unlink()
        elif action < 0.92:
            new = folder / f"Sub {step}"
            new.mkdir()
            folders.append(new)
            for i in range(rng.randint(0, 5)):
                (new / f"2026-11-{i + 1:02d} In sub {step}-{i}.md").write_text(
                    meeting(rng.choice(people)), "utf-8"
                )
        elif action < 0.97 and len(folders) > 1:
            old = rng.choice(folders[1:])
            if old.exists():
                new = old.with_name(old.name + " moved")
                os.rename(old, new)
                folders = [
                    new / f.relative_to(old) if f.is_relative_to(old) else f for f in folders
                ]
        elif len(folders) > 1:
            old = rng.choice(folders[1:])
            shutil.rmtree(old, ignore_errors=True)
        if rng.random() < 0.05:
            time.sleep(rng.uniform(0.05, 0.3))  # let some batches land mid-soak


@pytest.mark.parametrize("polling", [False, True], ids=["native", "polling"])
def test_short_soak_ends_equal_to_a_fresh_scan(vault: Path, polling: bool) -> None:
    operations = 300 if not polling else 120
    with watching(vault, polling=polling, poll_interval=0.1, quiet_period=0.05) as watcher:
        soak(vault, operations, seed=7 + polling)
        assert settles(vault)
        assert watcher.writes > 1
    assert not list(vault.rglob(".vaultsync-*.tmp"))


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("VAULTSYNC_SOAK") != "1", reason="set VAULTSYNC_SOAK=1 to run")
def test_long_soak_ends_equal_to_a_fresh_scan(vault: Path) -> None:
    with watching(vault, quiet_period=0.05):
        for round_ in range(10):
            soak_root = vault / "Soak"
            if soak_root.exists():
                shutil.rmtree(soak_root)
            soak(vault, 1000, seed=100 + round_)
            assert settles(vault, DAY)


@pytest.mark.parametrize("polling", [False, True])
def test_a_vault_moved_away_stops_the_watcher_and_is_not_made_again(
    vault: Path, tmp_path: Path, polling: bool
) -> None:
    """Writing the output at the old path would make a folder there holding only it."""
    moved = tmp_path / "moved"
    with pytest.raises(VaultGone, match="moved or deleted"), watching(
        vault, polling=polling
    ) as watcher:
        vault.rename(moved)
        in_place(moved / "Meetings/2026-11-21 New.md", meeting())
        assert wait_until(watcher.finished.is_set)
    assert not vault.exists()


def test_each_warning_is_logged_once(vault: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A problem in a note, or a tick that cannot be recorded, reaches the log (the only
    place `watch` speaks): those of the first scan, then each new one once, not per update."""
    caplog.set_level(logging.INFO, logger="vaultsync")
    (vault / "Meetings/2026-11-21 Bad one.md").write_text("---\ndate: [2026\n---\n", "utf-8")
    with watching(vault):
        in_place(vault / "Meetings/2026-11-22 Bad two.md", "---\nwith: [\n---\n")
        assert wait_until(lambda: "Bad two.md" in caplog.text)
        in_place(vault / "Meetings/2026-11-23 Fine.md", meeting())
        assert wait_until(lambda: "2026-11-23 Fine.md" in caplog.text)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("Bad one.md:" in m for m in warned) == 1
    assert sum("Bad two.md:" in m for m in warned) == 1


def test_polling_follows_no_symbolic_link_to_a_folder(vault: Path, tmp_path: Path) -> None:
    """SPEC §2: not out of the vault, as a scan does not. (watchdog's own polling follows them:
    a note under a linked folder was read, and one linked from inside was listed twice.)"""
    outside = tmp_path / "outside"
    outside.mkdir()
    (vault / "Linked").symlink_to(outside, target_is_directory=True)
    (vault / "Again").symlink_to(vault / "Meetings", target_is_directory=True)
    with watching(vault, polling=True, poll_interval=0.1):
        (outside / "2026-11-21 Secret.md").write_text(meeting("Hidden Person"), "utf-8")
        time.sleep(0.5)  # heard, if it is heard, before the note below
        (vault / "Meetings" / "2026-11-22 Lunch.md").write_text(meeting(), "utf-8")
        assert wait_until(lambda: "2026-11-22 Lunch" in index(vault))
        assert "Hidden Person" not in index(vault) and "Again/" not in index(vault)
        assert index(vault) == scan(vault, DAY, dry_run=True, use_cache=False).text


def test_a_path_through_a_linked_folder_is_never_read(vault: Path, tmp_path: Path) -> None:
    """Whatever tells the watcher of such a path (not watchdog's polling, now), the note it
    names is not read: a scan would not."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "2026-11-21 Secret.md").write_text(meeting("Hidden Person"), "utf-8")
    (vault / "Linked").symlink_to(outside, target_is_directory=True)
    (vault / "Again").symlink_to(vault / "Meetings", target_is_directory=True)
    linked = ["Linked/2026-11-21 Secret.md", "Again/2026-11-19 Intro call with Jordan Okafor.md"]
    notes = Vault(vault)
    notes.load()
    notes.refresh(linked)
    assert not set(linked) & set(notes.notes)
    assert "Meetings/2026-11-19 Intro call with Jordan Okafor.md" in notes.notes


def test_polling_watch_starts_and_stops_on_a_vault_linked_into_itself(vault: Path) -> None:
    """Two links to the vault's own folder made watchdog's polling walk 2^n paths as it
    started, where no signal could stop it."""
    (vault / "Loop A").symlink_to(vault, target_is_directory=True)
    (vault / "Loop B").symlink_to(vault, target_is_directory=True)
    command = [sys.executable, "-m", "vaultsync", "watch", str(vault), "--polling"]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        timer = threading.Timer(TIMEOUT, proc.kill)  # a hang fails the test, not the suite
        timer.start()
        ready = any(" watching " in line for line in proc.stderr)
        timer.cancel()
        assert ready, "the watcher never became ready"
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(TIMEOUT)
    assert code == 0
    assert (vault / OUTPUT).exists()


def test_polling_finds_an_edit_that_kept_size_and_mtime(vault: Path) -> None:
    """The polling observer compares sizes and mtimes only; the walk compares change times."""
    with watching(vault, polling=True, walk_interval=0.3):
        note = vault / "Meetings" / "2026-11-19 Intro call with Jordan Okafor.md"
        text, kept = note.read_text("utf-8"), note.stat()
        edited = text.replace("[[Sam Rivera]]", "[[Sam Rivere]]")
        assert len(edited) == len(text)
        in_place(note, edited)
        os.utime(note, ns=(kept.st_atime_ns, kept.st_mtime_ns))
        fresh = lambda: scan(vault, DAY, dry_run=True, use_cache=False).text  # noqa: E731
        assert wait_until(lambda: index(vault) == fresh())
        assert "Sam Rivere" in index(vault)
