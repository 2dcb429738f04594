"""The report-back rules (SPEC §5-§7): from notes and `today` to follow-ups. Pure.

One item per (source note, person). Each rule that applies adds its reason and a default
due date; closings (a `reported_back*` property, a later note that `reports_on` this one, a
ticked task) close it. Then reconnect items for people with a cadence, and the people table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from .config import Config
from .model import FollowUp, Note, Person, PersonRow, Report, ScanWarning, merge_warnings
from .people import Directory
from .tasks import OPEN

# Rule -> the role whose property names the people owed, in the order reasons are listed.
RULES = {"introduction": "introduced_by", "advice": "advice_from", "explicit": "report_back_to"}
REASON_ORDER = ("introduction", "advice", "explicit", "task")
HELPER_ROLES = (
    "introduced_by",
    "advice_from",
    "report_back_to",
    "reports_on",
    "reported_back",
    "reported_back_to",
    "report_back_by",
)


def status_of(due: dt.date | None, today: dt.date, horizon_days: int) -> str:
    if due is None:
        return "undated"
    if due < today:
        return "overdue"
    if due <= today + dt.timedelta(days=horizon_days):
        return "due"
    return "upcoming"


def item_id(*parts: str) -> str:
    """Stable across runs and machines: it names the pair, not the line or the run."""
    return "vs-" + hashlib.sha1("\0".join(parts).encode("utf-8")).hexdigest()[:10]


def is_interaction(note: Note, directory: Directory) -> bool:
    if note.path in directory.person_notes:
        return False
    return (
        "participants" in note.links
        or any(role in note.links for role in HELPER_ROLES)
        or note.reported_back
        or note.report_back_by is not None
    )


@dataclass(slots=True)
class _Item:
    source: Note
    person: Person
    reasons: set[str] = field(default_factory=set)
    defaults: list[dt.date] = field(default_factory=list)
    task_due: list[dt.date] = field(default_factory=list)
    closings: list[dt.date | None] = field(default_factory=list)
    # Ticked tasks close an item only when no task for the same person is still open.
    open_task: bool = False
    task_closings: list[dt.date | None] = field(default_factory=list)


def latest(dates: Iterable[dt.date | None]) -> dt.date | None:
    known = [d for d in dates if d is not None]
    return max(known) if known else None


class _Ledger:
    """The items being built, and who was in touch when."""

    def __init__(self, directory: Directory, today: dt.date) -> None:
        self.directory = directory
        self.today = today
        self.items: dict[tuple[str, str], _Item] = {}
        self.by_source: dict[str, list[_Item]] = {}
        self.contact: dict[str, dt.date] = {}

    def item(self, note: Note, person: Person) -> _Item:
        key = (note.path, person.key)
        if key not in self.items:
            self.items[key] = _Item(note, person)
            self.by_source.setdefault(note.path, []).append(self.items[key])
        return self.items[key]

    def people(self, note: Note, role: str) -> list[Person]:
        line = note.lines.get(role, 1)
        found: dict[str, Person] = {}
        for link in note.links.get(role, ()):
            for person in self.directory.people_for(link, note.path, line):
                found.setdefault(person.key, person)
        return list(found.values())

    def touch(self, person: Person, date: dt.date | None) -> None:
        known = self.contact.get(person.key)
        if date is not None and date <= self.today and (known is None or date > known):
            self.contact[person.key] = date


def compute(notes: Iterable[Note], config: Config, today: dt.date) -> Report:
    notes = sorted(notes, key=lambda n: n.path)
    directory = Directory(notes, config)
    ledger = _Ledger(directory, today)
    warnings: list[ScanWarning] = [w for note in notes for w in note.warnings]
    interactions = [note for note in notes if is_interaction(note, directory)]

    for note in interactions:
        if note.date is None:
            warnings.append(
                ScanWarning(
                    note.path,
                    note.lines.get("date", 1),
                    "no date: add `date: YYYY-MM-DD` or start the file name with one",
                )
            )
        for person in ledger.people(note, "participants"):
            ledger.touch(person, note.date)
        for reason, role in RULES.items():
            for person in ledger.people(note, role):
                item = ledger.item(note, person)
                item.reasons.add(reason)
                if note.date is not None:
                    item.defaults.append(note.date + dt.timedelta(days=config.due_days[reason]))

    for note in notes:
        for task in note.tasks:
            for link in task.links:
                for person in directory.people_for(link, note.path, task.line, persons_only=True):
                    item = ledger.item(note, person)
                    item.reasons.add("task")
                    if task.due is not None:
                        item.task_due.append(task.due)
                    elif note.date is not None:
                        item.defaults.append(note.date + dt.timedelta(days=config.due_days["task"]))
                    if task.status == OPEN:
                        item.open_task = True
                    else:
                        item.task_closings.append(task.done_on)

    # All notes, not only interactions: a task in a person note owes an item too, and
    # recording its tick writes `reported_back_to` into that note.
    _close_by_properties(ledger, notes)
    _close_by_later_notes(ledger, interactions)
    return _report(ledger, config, notes, interactions, warnings + directory.warnings)


def _close_by_properties(ledger: _Ledger, notes: list[Note]) -> None:
    for note in notes:
        # With `reported_back_to` beside it, `reported_back` only dates those people: closing
        # everyone's items would drop reminders the user never answered.
        if note.reported_back and "reported_back_to" not in note.links:
            for item in ledger.by_source.get(note.path, ()):
                item.closings.append(note.reported_back_on)
        line = note.lines.get("reported_back_to", 1)
        for link in note.links.get("reported_back_to", ()):
            # An entry's own date (or "won't": None) beats the note's `reported_back` date.
            on = note.reported_back_dates.get(link, note.reported_back_on)
            for person in ledger.directory.people_for(link, note.path, line):
                owed = ledger.items.get((note.path, person.key))
                if owed is not None:
                    owed.closings.append(on)
                ledger.touch(person, on)


def _close_by_later_notes(ledger: _Ledger, interactions: list[Note]) -> None:
    directory = ledger.directory
    for later in interactions:
        if later.date is not None and later.date > ledger.today:
            continue  # a report-back planned for later has not happened yet
        participants = {p.key for p in ledger.people(later, "participants")}
        for link in later.links.get("reports_on", ()):
            path = directory.note_for(link, later.path, later.lines.get("reports_on", 1))
            if path is None:
                directory.warnings.append(
                    ScanWarning(
                        later.path,
                        later.lines.get("reports_on", 1),
                        f"`reports_on` names `{link.target}`, which is not a note in this vault",
                    )
                )
                continue
            for item in ledger.by_source.get(path, ()):
                if not participants or item.person.key in participants:
                    item.closings.append(later.date)
                    ledger.touch(item.person, later.date)


def _report(
    ledger: _Ledger,
    config: Config,
    notes: list[Note],
    interactions: list[Note],
    warnings: list[ScanWarning],
) -> Report:
    today, horizon = ledger.today, config.horizon_days
    open_items: list[FollowUp] = []
    closed: list[FollowUp] = []
    for (source, person_key), item in ledger.items.items():
        due = item.source.report_back_by or (
            min(item.task_due) if item.task_due else min(item.defaults, default=None)
        )
        reasons = [r for r in REASON_ORDER if r in item.reasons]
        followup = FollowUp(
            id=item_id(source, person_key),
            kind="report-back",
            person=item.person,
            source=source,
            reasons=reasons,
            due=due,
            status=status_of(due, today, horizon),
            ready="advice" in item.reasons and item.source.outcome,
        )
        if not item.closings and not item.open_task:
            item.closings = item.task_closings
        if item.closings:
            followup.status = "closed"
            followup.closed_on = latest(item.closings)
            closed.append(followup)
            ledger.touch(item.person, followup.closed_on)
        else:
            open_items.append(followup)

    directory = ledger.directory
    for person in list(directory.people.values()):
        if person.cadence_days is None:
            continue
        last = latest([ledger.contact.get(person.key), person.last_contact])
        due = last + dt.timedelta(days=person.cadence_days) if last else today
        status = status_of(due, today, horizon)
        if status in ("overdue", "due"):
            open_items.append(
                FollowUp(
                    id=item_id("reconnect", person.key),
                    kind="reconnect",
                    person=person,
                    source=None,
                    reasons=["cadence"],
                    due=due,
                    status=status,
                )
            )

    def order(f: FollowUp) -> tuple[bool, dt.date, str, str, str]:
        return (f.due is None, f.due or today, f.person.name.lower(), f.person.key, f.source or "")

    open_items.sort(key=order)
    closed.sort(key=order)
    counts: dict[str, list[int]] = {}
    for f in open_items:
        counts.setdefault(f.person.key, [0, 0])[0] += 1
    for f in closed:
        counts.setdefault(f.person.key, [0, 0])[1] += 1
    people = [
        PersonRow(
            person,
            latest([ledger.contact.get(person.key), person.last_contact]),
            *counts.get(person.key, [0, 0]),
        )
        for person in directory.people.values()
    ]
    people.sort(key=lambda row: (row.person.name.lower(), row.person.key))

    edges: dict[tuple[str, str], tuple[Person, Person]] = {}
    for note in notes:
        introduced = (
            [directory.people[note.path]]
            if note.path in directory.people
            else ledger.people(note, "participants")
        )
        for introducer in ledger.people(note, "introduced_by"):
            for person in introduced:
                if person.key != introducer.key:
                    edges[(introducer.key, person.key)] = (introducer, person)
    warnings = merge_warnings(warnings)
    return Report(
        today=today,
        followups=open_items,
        closed=closed,
        people=people,
        warnings=warnings,
        interactions=len(interactions),
        introductions=[edges[k] for k in sorted(edges)],
        notes=len(notes),
    )
