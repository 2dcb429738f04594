"""The report-back rules (SPEC §5-§7): from notes and `today` to follow-ups. Pure.

One item per (source note, person). Each rule that applies adds its reason and a default
due date; closings (a `reported_back*` property, a later note that `reports_on` this one, a
ticked task) close it. Then reconnect items for people with a cadence, and the people table.

Each note's part (`Share`: its items, contacts, closings of other notes' items, warnings) is
a function of that note and the directory of link targets alone, and the report is summed
from the shares. `Ledger` keeps them, so that after an edit only the edited note, and the
notes whose links could now point elsewhere, are shared out again (the watcher's case).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .config import Config
from .model import FollowUp, Note, Person, PersonRow, Report, ScanWarning, merge_warnings
from .people import Directory, Lookups, names_of
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
class _Owed:
    """An item while its note is being read."""

    reasons: set[str] = field(default_factory=set)
    defaults: list[dt.date] = field(default_factory=list)
    task_due: list[dt.date] = field(default_factory=list)
    closings: list[dt.date | None] = field(default_factory=list)
    # Ticked tasks close an item only when no task for the same person is still open.
    open_task: bool = False
    task_closings: list[dt.date | None] = field(default_factory=list)


@dataclass(slots=True)
class _Item:
    """An item owed for one note to one person, as far as that note alone says."""

    id: str
    source: Note
    person: Person
    reasons: list[str]  # in the order of REASON_ORDER
    due: dt.date | None
    closings: tuple[dt.date | None, ...]  # by the note's properties
    open_task: bool
    task_closings: tuple[dt.date | None, ...]  # count only if nothing else closes it
    # Its follow-up as last built, when no other note closed it and its person is as named
    # here: the same on every report until its note changes, so built once.
    built: FollowUp | None = None


def latest(dates: Iterable[dt.date | None]) -> dt.date | None:
    known = [d for d in dates if d is not None]
    return max(known) if known else None


_NOBODY: Mapping[str, Person] = MappingProxyType({})
_NOTHING: Mapping[str, _Item] = MappingProxyType({})


@dataclass(slots=True)
class Share:
    """What one note adds to the report (tuples, and shared empties: there are thousands)."""

    note: Note
    interaction: bool
    items: Mapping[str, _Item]  # person key -> item owed for this note
    touches: tuple[tuple[str, dt.date], ...]  # person key, in touch on
    # `reports_on`: (the note reported on, the participants (none: everyone), the date).
    closes: tuple[tuple[str, frozenset[str], dt.date | None], ...]
    edges: tuple[tuple[Person, Person], ...]  # introducer, introduced
    warnings: tuple[ScanWarning, ...]  # the note's own, and those of reading its links
    names: tuple[str, ...]  # every name its links were looked up by
    others: Mapping[str, Person]  # the people it names who have no person note, by key


def share(note: Note, directory: Directory, config: Config, today: dt.date) -> Share | None:
    """The note's share; None for a note that adds nothing (a daily note, a document)."""
    interaction = is_interaction(note, directory)
    if not (interaction or note.links or note.tasks or note.warnings):
        return None
    lookups = Lookups()
    owed: dict[str, tuple[Person, _Owed]] = {}
    touches: list[tuple[str, dt.date]] = []
    closes: list[tuple[str, frozenset[str], dt.date | None]] = []
    named: dict[str, list[Person]] = {}

    def people(role: str) -> list[Person]:
        links = note.links.get(role)
        if not links:
            return []
        if role not in named:
            line = note.lines.get(role, 1)
            found: dict[str, Person] = {}
            for link in links:
                for person in directory.people_for(link, note.path, line, lookups):
                    found.setdefault(person.key, person)
            named[role] = list(found.values())
        return named[role]

    def item(person: Person) -> _Owed:
        if person.key not in owed:
            owed[person.key] = (person, _Owed())
        return owed[person.key][1]

    if interaction:
        if note.date is None:
            lookups.warnings.append(
                ScanWarning(
                    note.path,
                    note.lines.get("date", 1),
                    "no date: add `date: YYYY-MM-DD` or start the file name with one",
                )
            )
        if note.date is not None and note.date <= today:
            touches += ((person.key, note.date) for person in people("participants"))
        for reason, role in RULES.items():
            for person in people(role):
                it = item(person)
                it.reasons.add(reason)
                if note.date is not None:
                    it.defaults.append(note.date + dt.timedelta(days=config.due_days[reason]))

    # Every note, not only interactions: a task in a person note owes an item too, and
    # recording its tick writes `reported_back_to` into that note.
    for task in note.tasks:
        for link in task.links:
            for person in directory.people_for(
                link, note.path, task.line, lookups, persons_only=True
            ):
                it = item(person)
                it.reasons.add("task")
                if task.due is not None:
                    it.task_due.append(task.due)
                elif note.date is not None:
                    it.defaults.append(note.date + dt.timedelta(days=config.due_days["task"]))
                if task.status == OPEN:
                    it.open_task = True
                else:
                    it.task_closings.append(task.done_on)

    # With `reported_back_to` beside it, `reported_back` only dates those people: closing
    # everyone's items would drop reminders the user never answered.
    if note.reported_back and "reported_back_to" not in note.links:
        for _, it in owed.values():
            it.closings.append(note.reported_back_on)
    line = note.lines.get("reported_back_to", 1)
    for link in note.links.get("reported_back_to", ()):
        # An entry's own date (or "won't": None) beats the note's `reported_back` date.
        on = note.reported_back_dates.get(link, note.reported_back_on)
        for person in directory.people_for(link, note.path, line, lookups):
            if person.key in owed:
                owed[person.key][1].closings.append(on)
            if on is not None and on <= today:
                touches.append((person.key, on))

    # A report-back planned for later has not happened yet.
    later = note.date is not None and note.date > today
    if interaction and "reports_on" in note.links and not later:
        participants = frozenset(p.key for p in people("participants"))
        line = note.lines.get("reports_on", 1)
        for link in note.links.get("reports_on", ()):
            path = directory.note_for(link, note.path, line, lookups)
            if path is None:
                lookups.warnings.append(
                    ScanWarning(
                        note.path,
                        line,
                        f"`reports_on` names `{link.target}`, which is not a note in this vault",
                    )
                )
            else:
                closes.append((path, participants, note.date))

    edges: list[tuple[Person, Person]] = []
    if "introduced_by" in note.links:
        introduced = (
            [directory.people[note.path]]
            if note.path in directory.people
            else people("participants")
        )
        for introducer in people("introduced_by"):
            edges += ((introducer, p) for p in introduced if p.key != introducer.key)
    items = {key: _done(note, person, it) for key, (person, it) in owed.items()}
    return Share(
        note,
        interaction,
        items or _NOTHING,
        tuple(touches),
        tuple(closes),
        tuple(edges),
        (*note.warnings, *lookups.warnings),
        tuple(lookups.names),
        lookups.others or _NOBODY,
    )


def _done(note: Note, person: Person, it: _Owed) -> _Item:
    due = note.report_back_by or (
        min(it.task_due) if it.task_due else min(it.defaults, default=None)
    )
    return _Item(
        item_id(note.path, person.key),
        note,
        person,
        [r for r in REASON_ORDER if r in it.reasons],
        due,
        tuple(it.closings),
        it.open_task,
        tuple(it.task_closings),
    )


def _signature(note: Note) -> tuple[object, ...]:
    """What other notes' shares may depend on: how links find this note, and the person it is."""
    return (note.aliases, note.keywords, note.name, note.email, note.cadence_days,
            note.last_contact)


class Ledger:
    """Every note's share, kept current: `update` shares out again only the notes that
    changed, and the notes whose links named them (or could name them now)."""

    def __init__(self, notes: Iterable[Note], config: Config, today: dt.date) -> None:
        self.config = config
        self._build(notes, today)

    def _build(self, notes: Iterable[Note], today: dt.date) -> None:
        self.today = today
        self.notes = {note.path: note for note in sorted(notes, key=lambda n: n.path)}
        self.directory = Directory(self.notes.values(), self.config)
        self.shares: dict[str, Share] = {}
        self.readers: dict[str, set[str]] = {}  # name looked up -> the notes that did
        # Running totals of the shares, so that a report need not visit every note:
        self.interactions = 0
        self.contacts: dict[str, dict[dt.date, int]] = {}  # person key -> day -> notes
        self.owing: set[str] = set()  # notes with items
        self.rest: set[str] = set()  # notes with warnings, closings, edges or others
        for path in self.notes:
            self._share(path)

    def _share(self, path: str) -> None:
        old = self.shares.pop(path, None)
        if old is not None:
            self._count(old, -1)
        note = self.notes.get(path)
        new = None if note is None else share(note, self.directory, self.config, self.today)
        if new is not None:
            self.shares[path] = new
            self._count(new, 1)

    def _count(self, part: Share, sign: int) -> None:
        path = part.note.path
        for name in part.names:
            if sign > 0:
                self.readers.setdefault(name, set()).add(path)
            else:
                self.readers[name].discard(path)
        self.interactions += sign * part.interaction
        for key, day in part.touches:
            days = self.contacts.setdefault(key, {})
            days[day] = days.get(day, 0) + sign
            if not days[day]:
                del days[day]
                if not days:
                    del self.contacts[key]
        rest = part.warnings or part.others or part.closes or part.edges
        for paths, has in ((self.owing, part.items), (self.rest, rest)):
            if sign > 0 and has:
                paths.add(path)
            else:
                paths.discard(path)

    def update(self, notes: Mapping[str, Note], today: dt.date) -> None:
        """Bring the shares in line with `notes` (the vault's notes now) and `today`."""
        if today != self.today:  # every due date's status may change: start over
            self._build(notes.values(), today)
            return
        changed = [path for path, note in notes.items() if self.notes.get(path) is not note]
        changed += self.notes.keys() - notes.keys()
        again = set(changed)
        for path in changed:
            old, new = self.notes.get(path), notes.get(path)
            if old is not None and new is not None and _signature(old) == _signature(new):
                self.notes[path] = self.directory.notes[path] = new
                continue
            # It comes, goes, or changes as a link target or a person: every note that
            # looked up one of its names may now find another note, or another person.
            for note in (old, new):
                for name in names_of(note) if note is not None else ():
                    again |= self.readers.get(name, set())
            if old is not None:
                self.directory.remove(path)
                del self.notes[path]
            if new is not None:
                self.directory.add(new)
                self.notes[path] = new
        for path in sorted(again):
            self._share(path)

    def report(self) -> Report:
        """The sum of the shares. No order to keep: each step below is a set, a maximum,
        or sorted at the end."""
        shares, today, horizon = self.shares, self.today, self.config.horizon_days
        # A person without a person note is found by each note that names them; the
        # spelling shown is the first in alphabetical order, whichever notes changed last.
        others: dict[str, Person] = {}
        warnings: list[ScanWarning] = []
        remote: dict[tuple[str, str], list[dt.date | None]] = {}
        edges: dict[tuple[str, str], tuple[Person, Person]] = {}
        for part in map(shares.__getitem__, self.rest):
            for key, person in part.others.items():
                known = others.get(key)
                if known is None or (person.name, person.display) < (known.name, known.display):
                    others[key] = person
            warnings += part.warnings
            for path, participants, date in part.closes:
                target = shares.get(path)
                for key in target.items if target is not None else ():
                    if not participants or key in participants:
                        remote.setdefault((path, key), []).append(date)
        for part in map(shares.__getitem__, self.rest):
            for introducer, person in part.edges:
                edges[(introducer.key, person.key)] = (
                    others.get(introducer.key, introducer),
                    others.get(person.key, person),
                )
        contact = {key: max(days) for key, days in self.contacts.items()}

        def touch(key: str, date: dt.date | None) -> None:
            if date is not None and date <= today and (key not in contact or date > contact[key]):
                contact[key] = date

        open_items: list[FollowUp] = []
        closed: list[FollowUp] = []
        for source in self.owing:
            for key, item in shares[source].items.items():
                person = others.get(key, item.person)
                extra = remote.get((source, key))
                if extra is None and person is item.person:
                    if item.built is None:
                        item.built = _followup(item, person, [], today, horizon)
                    followup = item.built
                else:
                    followup = _followup(item, person, extra or [], today, horizon)
                    for on in extra or ():
                        touch(key, on)
                if followup.status == "closed":
                    closed.append(followup)
                    touch(key, followup.closed_on)
                else:
                    open_items.append(followup)
        report = Report(
            today=today,
            followups=open_items,
            closed=closed,
            people=[],
            warnings=merge_warnings(warnings),
            interactions=self.interactions,
            introductions=[edges[k] for k in sorted(edges)],
            notes=len(self.notes),
        )
        _finish(report, {**self.directory.people, **others}, contact, horizon)
        return report


def compute(notes: Iterable[Note], config: Config, today: dt.date) -> Report:
    return Ledger(notes, config, today).report()


def _followup(
    item: _Item, person: Person, remote: list[dt.date | None], today: dt.date, horizon: int
) -> FollowUp:
    followup = FollowUp(
        id=item.id,
        kind="report-back",
        person=person,
        source=item.source.path,
        reasons=item.reasons,
        due=item.due,
        status=status_of(item.due, today, horizon),
        ready="advice" in item.reasons and item.source.outcome,
    )
    closings = [*item.closings, *remote]
    if not closings and not item.open_task:
        closings = list(item.task_closings)
    if closings:
        followup.status = "closed"
        followup.closed_on = latest(closings)
    return followup


def _finish(
    report: Report, everyone: dict[str, Person], contact: dict[str, dt.date], horizon: int
) -> None:
    """Add the reconnects, put the items in order and fill the people table."""
    today, open_items, closed = report.today, report.followups, report.closed
    for person in everyone.values():
        if person.cadence_days is None:
            continue
        last = latest([contact.get(person.key), person.last_contact])
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
    report.people = [
        PersonRow(
            person,
            latest([contact.get(person.key), person.last_contact]),
            *counts.get(person.key, [0, 0]),
        )
        for person in everyone.values()
    ]
    report.people.sort(key=lambda row: (row.person.name.lower(), row.person.key))
