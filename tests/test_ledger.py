"""The ledger kept note by note (the watcher's) reports exactly what a full computation does.

Random sequences of edits, new notes, deletions and renames of the sample vault, aimed at
what ties notes together: aliases and names that start or stop matching links, notes that
become or stop being people, `reports_on` closings of other notes' items, unresolved names.
"""

from __future__ import annotations

import datetime as dt

from conftest import SAMPLE_VAULT, TODAY
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultsync.config import Config
from vaultsync.followups import Ledger, compute
from vaultsync.model import Note
from vaultsync.notes import NoteReader

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
        ledger.update(notes, day)
        assert ledger.report() == compute(notes.values(), CONFIG, day)


def test_an_edit_shares_out_only_what_it_touches() -> None:
    """An edit that changes no name or person re-reads one note's share, not the vault's."""
    notes = sample_notes()
    ledger = Ledger(notes.values(), CONFIG, DAY)
    before = dict(ledger.shares)
    path = "Meetings/2026-11-19 Intro call with Jordan Okafor.md"
    notes[path] = READER.parse(path, SAMPLE[path].replace(b"Sam Rivera", b"Wei Zhang"))
    ledger.update(notes, DAY)
    again = {p for p, part in ledger.shares.items() if part is not before[p]}
    assert again == {path}
    assert ledger.report() == compute(notes.values(), CONFIG, DAY)
