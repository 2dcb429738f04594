"""The ledger kept note by note (the watcher's) reports exactly what a full computation does.

Random sequences of edits, new notes, deletions and renames of the sample vault, aimed at
what ties notes together: aliases and names that start or stop matching links, notes that
become or stop being people, `reports_on` closings of other notes' items, unresolved names.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from conftest import SAMPLE_VAULT, TODAY
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultsync import render
from vaultsync.config import Config
from vaultsync.ledger import Ledger, _Ordered, compute
from vaultsync.model import Note
from vaultsync.notes import NoteReader
from vaultsync.render import Kept, render_block

DAY = dt.date.fromisoformat(TODAY)
CONFIG = Config()
READER = NoteReader(CONFIG)
SAMPLE = {
    path.relative_to(SAMPLE_VAULT).as_posix(): path.read_bytes()
    for path in sorted(SAMPLE_VAULT.rglob("*.md"))
    if path.name != "Follow-ups.md"
}
TEXTS = [
    *SAMPLE.values(),
    b"---\ntype: person\naliases: [Sam, Jordan]\n---\n",
    b'---\ndate: 2026-11-20\nparticipants: ["[[Sam Rivera]]"]\n'
    b'report_back_to: "[[Jordan Okafor]]"\n---\n',
    b'---\ndate: 2026-11-21\nreports_on: "[[2026-11-19 Intro call with Jordan Okafor]]"\n'
    b'participants: ["[[Sam Rivera]]"]\n---\n',
    b"- [ ] Report back to [[Nobody Yet]] \xf0\x9f\x93\x85 2026-12-01\n",
    b"---\ntags: [person]\nlast_contact: 2026-11-01\ncadence: 2w\nname: Renamed\n---\n",
    b'---\nintroduced_by: "[[Dana Whitfield]]"\nparticipants: [[Wei Zhang]]\n'
    b"date: 2026-11-02\n---\n",
    b'---\nreport_back_to: "nobody yet, sam rivera"\ndate: 2026-11-03\n---\n',
    b'---\nreport_back_to: "Nobody Yet"\nadvice_from: "[[Sam]]"\ndate: 2026-11-04\n---\n',
    b'---\nreported_back_to: ["[[Sam Rivera]] 2026-11-22"]\nreport_back_to: "[[Sam Rivera]]"\n'
    b"date: 2026-11-19\n---\n",
    b'---\nadvice_from: "[[Marcus Lee]]"\noutcome: true\ndate: 2026-08-01\n---\n',
    b"---\naliases: [Marcus Lee]\ncadence: 1w\n---\n",
    b"",
    # A name typed composed, and an alias stored decomposed (as macOS may write it):
    '---\ndate: 2026-11-05\nreport_back_to: "[[Zo\u00eb]]"\n---\n'.encode(),
    '---\ntype: person\naliases: [Zoe\u0308]\n---\n'.encode(),
]
PATHS = [
    *SAMPLE,
    "People/Sam.md",
    "Sam Rivera.md",
    "Nobody Yet.md",
    "nobody yet.md",
    "Archive/Marcus Lee.md",
    "Meetings/2026-11-25 New.md",
    "Meetings/2026-11-19 Intro call with Jordan Okafor.md",
    "People/Zoe\u0308.md",  # decomposed
]

# (path, text index or None to delete it)
STEPS = st.lists(
    st.tuples(st.sampled_from(PATHS), st.none() | st.integers(0, len(TEXTS) - 1)),
    min_size=1,
    max_size=8,
)


def sample_notes() -> dict[str, Note]:
    return {path: READER.parse(path, raw) for path, raw in SAMPLE.items()}


@settings(max_examples=150, deadline=None)
@given(steps=STEPS, later=st.booleans())
def test_the_ledger_reports_what_a_full_computation_does(
    steps: list[tuple[str, int | None]], later: bool
) -> None:
    notes = sample_notes()
    ledger = Ledger(notes.values(), CONFIG, DAY)
    for path, text in steps:
        if text is None:
            notes.pop(path, None)
        else:
            notes[path] = READER.parse(path, TEXTS[text])
        day = DAY + dt.timedelta(days=3 if later and text == 0 else 0)
        ledger.update(notes, day, [path])
        assert ledger.report() == compute(notes.values(), CONFIG, day)


@settings(max_examples=100, deadline=None)
@given(batches=st.lists(STEPS, min_size=1, max_size=4))
def test_a_batch_of_changes_at_once_reports_what_a_full_computation_does(
    batches: list[list[tuple[str, int | None]]],
) -> None:
    """As the watcher updates: several notes changed, each share taken back before any of
    the changes is made in the directory."""
    notes = sample_notes()
    ledger = Ledger(notes.values(), CONFIG, DAY)
    for batch in batches:
        for path, text in batch:
            if text is None:
                notes.pop(path, None)
            else:
                notes[path] = READER.parse(path, TEXTS[text])
        ledger.update(notes, DAY, [path for path, _ in batch])
        assert ledger.report() == compute(notes.values(), CONFIG, DAY)


def test_an_edit_shares_out_only_what_it_touches() -> None:
    """An edit that changes no name or person re-reads one note's share, not the vault's."""
    notes = sample_notes()
    ledger = Ledger(notes.values(), CONFIG, DAY)
    path = "Meetings/2026-11-19 Intro call with Jordan Okafor.md"
    notes[path] = READER.parse(path, SAMPLE[path].replace(b"Sam Rivera", b"Wei Zhang"))
    assert ledger.update(notes, DAY, [path]) == [path]
    assert ledger.report() == compute(notes.values(), CONFIG, DAY)


@pytest.mark.parametrize(("typed", "stored"), [("NFC", "NFD"), ("NFD", "NFC")])
def test_a_new_note_is_found_by_the_links_typed_before_it_however_accents_are_stored(
    typed: str, stored: str
) -> None:
    tea, zoe = "Meetings/2026-11-05 Tea.md", unicodedata.normalize(stored, "People/Zoë.md")
    link = unicodedata.normalize(typed, "Zoë")
    notes = {tea: READER.parse(tea, f"---\nreport_back_to: '[[{link}]]'\n---\n".encode())}
    ledger = Ledger(notes.values(), CONFIG, DAY)
    notes[zoe] = READER.parse(zoe, b"---\ntype: person\n---\n")
    ledger.update(notes, DAY, [zoe])
    assert [f.person.key for f in ledger.report().followups] == [zoe]
    assert ledger.report() == compute(notes.values(), CONFIG, DAY)


def test_a_person_found_by_a_decomposed_alias_can_be_deleted() -> None:
    tea, zoey = "Meetings/2026-11-05 Tea.md", "People/Zoey.md"
    notes = {
        tea: READER.parse(tea, TEXTS[-2]),  # `[[Zoë]]`, composed
        zoey: READER.parse(zoey, "---\ntype: person\naliases: [Zoe\u0308]\n---\n".encode()),
    }
    ledger = Ledger(notes.values(), CONFIG, DAY)
    assert [f.person.key for f in ledger.report().followups] == [zoey]
    del notes[zoey]  # its alias must leave the index with it
    ledger.update(notes, DAY, [zoey])
    assert [f.person.key for f in ledger.report().followups] == ["?zoë"]
    assert ledger.report() == compute(notes.values(), CONFIG, DAY)


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["add", "remove", "unsorted", "read"]), st.integers(0, 30)),
        max_size=80,
    )
)
def test_an_ordered_list_reads_in_key_order_however_it_was_changed(
    steps: list[tuple[str, int]],
) -> None:
    """Patched in place (a few changes) or sorted again (after many), the same order."""
    ordered: _Ordered[str] = _Ordered()
    expected: dict[tuple[object, ...], str] = {}
    for op, n in steps:
        key = (n % 3 == 0, f"name {n % 7}", n)
        if op == "add" and key not in expected:
            ordered.add(key, f"value {n}")
            expected[key] = f"value {n}"
        elif op == "remove" and key in expected:
            ordered.remove(key)
            del expected[key]
        elif op == "unsorted":
            ordered.unsorted()
        elif op == "read":
            assert ordered.values() == [expected[k] for k in sorted(expected)]
    assert ordered.values() == [expected[k] for k in sorted(expected)]


def test_a_new_spelling_of_a_person_without_a_note_reaches_every_item_for_them() -> None:
    """The spelling shown is the first in alphabetical order: a note that brings an earlier
    one renames the person on the items of notes that did not change."""
    notes = sample_notes()
    first = "Meetings/2026-11-25 New.md"
    owed = b'---\nreport_back_to: "nobody yet"\ndate: 2026-11-03\n---\n'
    notes[first] = READER.parse(first, owed)
    ledger = Ledger(notes.values(), CONFIG, DAY)
    second = "Meetings/2026-11-26 Later.md"
    advised = b'---\nadvice_from: "[[Nobody Yet]]"\ndate: 2026-11-04\n---\n'
    notes[second] = READER.parse(second, advised)
    ledger.update(notes, DAY, [second])
    report = ledger.report()
    assert report == compute(notes.values(), CONFIG, DAY)
    shown = {f.source: f.person.name for f in report.followups if f.person.key == "?nobody yet"}
    assert shown == {first: "Nobody Yet", second: "Nobody Yet"}


@settings(max_examples=100, deadline=None)
@given(steps=STEPS, marks=st.lists(st.sampled_from([" ", "x", "-"]), min_size=1, max_size=5))
def test_lines_kept_between_renders_are_the_lines_a_fresh_render_writes(
    steps: list[tuple[str, int | None]], marks: list[str]
) -> None:
    """The watcher renders each report with the lines of the last one; the follow-ups and
    rows that come back unchanged, or with another tick mark, must still read as new."""
    notes = sample_notes()
    ledger = Ledger(notes.values(), CONFIG, DAY)
    kept = Kept()
    for number, (path, text) in enumerate(steps):
        if text is None:
            notes.pop(path, None)
        else:
            notes[path] = READER.parse(path, TEXTS[text])
        ledger.update(notes, DAY, [path])
        report = ledger.report()
        ticked = {
            f.id: marks[(number + i) % len(marks)] for i, f in enumerate(report.followups)
        }
        assert render_block(report, ticked=ticked, kept=kept) == render_block(report, ticked=ticked)


def test_a_render_after_one_edit_formats_only_that_notes_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What makes a watcher's edit cheap in a large vault: the other lines are not formatted
    again, only found."""
    notes = sample_notes()
    ledger = Ledger(notes.values(), CONFIG, DAY)
    kept = Kept()
    path = "Meetings/2026-11-25 New.md"

    def meet(day: str) -> None:
        text = f'---\ndate: {day}\nreport_back_to: "[[Sam Rivera]]"\n---\n'
        notes[path] = READER.parse(path, text.encode())
        ledger.update(notes, DAY, [path])

    meet("2026-11-20")
    report = ledger.report()
    assert render_block(report, kept=kept) == render_block(report)
    made: list[object] = []
    for name in ("task_line", "row_line"):
        real = getattr(render, name)
        monkeypatch.setattr(render, name, lambda of, *a, real=real: made.append(of) or real(of, *a))
    render_block(report, kept=kept)
    assert made == []  # the same report again: every line is kept
    meet("2026-11-21")
    render_block(ledger.report(), kept=kept)
    sources = {getattr(of, "source", None) for of in made}
    assert made and sources <= {path, None} and len(made) <= 3  # its item, and Sam's row


def test_lines_of_follow_ups_gone_are_let_go() -> None:
    """Each report built anew has none of the last one's objects: the lines kept must not
    grow with every render the watcher makes."""
    notes = sample_notes()
    kept = Kept()
    for _ in range(20):
        report = compute(notes.values(), CONFIG, DAY)
        render_block(report, kept=kept)
        used = len(report.followups) + len(report.people)
        assert len(kept._kept) <= used + used // 8 + 64


def test_names_typed_and_deleted_while_watching_are_not_kept() -> None:
    """Saving a link a letter at a time must not leave every prefix of the name behind."""
    notes = sample_notes()
    ledger = Ledger(notes.values(), CONFIG, DAY)
    owed, readers = set(ledger.owed), set(ledger.readers)
    path = "Meetings/2026-11-25 New.md"
    for end in range(1, len("Samantha Rivera") + 1):
        text = f'---\ndate: 2026-11-20\nreport_back_to: "[[{"Samantha Rivera"[:end]}]]"\n---\n'
        notes[path] = READER.parse(path, text.encode())
        ledger.update(notes, DAY, [path])
    del notes[path]
    ledger.update(notes, DAY, [path])
    assert set(ledger.owed) == owed and set(ledger.readers) == readers
    assert ledger.report() == compute(notes.values(), CONFIG, DAY)
