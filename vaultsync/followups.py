"""The report-back rules (SPEC §5-§7): from one note to its share of the follow-ups. Pure.

One item per (source note, person). Each rule that applies adds its reason and a default
due date; closings (a `reported_back*` property, a later note that `reports_on` this one, a
ticked task) close it. Reconnects come from people with a cadence.

Each note's part (`Share`: its items, contacts, closings of other notes' items, warnings) is
a function of that note and the directory of link targets alone; `ledger` sums the shares
into the report and keeps the sum current as notes change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .config import Config
from .links import fold
from .model import FollowUp, FrozenList, Note, Person, ScanWarning
from .people import Directory, Lookups
from .tasks import CANCELLED, OPEN

# Rule -> the role whose property names the people owed, in the order reasons are listed.
RULES = {"introduction": "introduced_by", "advice": "advice_from", "explicit": "report_back_to"}
REASON_ORDER = ("introduction", "advice", "explicit", "task")
# The roles that date something by the note's date: contact, a due date, a closing.
DATED_ROLES = ("participants", *RULES.values(), "reports_on")


def days_after(day: dt.date, days: int) -> dt.date:
    """`day` plus `days`, or the last day there is: a note dated 9999-12-30, or a cadence of
    8000 years, must not stop a scan."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max


def status_of(due: dt.date | None, today: dt.date, horizon_days: int) -> str:
    if due is None:
        return "undated"
    if due < today:
        return "overdue"
    if due <= days_after(today, horizon_days):
        return "due"
    return "upcoming"


def item_id(*parts: str) -> str:
    """Stable across runs and machines: it names the pair, not the line or the run."""
    return "vs-" + hashlib.sha1("\0".join(parts).encode("utf-8")).hexdigest()[:10]


def is_interaction(note: Note, directory: Directory) -> bool:
    if note.path in directory.person_notes:
        return False
    # `note.links` holds only the participant and helper roles, and only when non-empty.
    return bool(note.links) or note.reported_back or note.report_back_by is not None


Order = tuple[bool, dt.date, str, str, str]  # see `order`


@dataclass(slots=True)
class _Owed:
    """An item while its note is being read."""

    reasons: set[str] = field(default_factory=set)
    defaults: list[dt.date] = field(default_factory=list)
    task_due: list[dt.date] = field(default_factory=list)
    open_due: list[dt.date] = field(default_factory=list)  # of the tasks still open
    closings: list[dt.date | None] = field(default_factory=list)
    wont: bool = False  # a "won't": closed, but not reported back
    # Ticked tasks close an item only when no task for the same person is still open.
    open_task: bool = False
    task_closings: list[dt.date | None] = field(default_factory=list)
    task_wont: bool = False  # a cancelled task


@dataclass(slots=True)
class Item:
    """An item owed for one note to one person, as far as that note alone says."""

    id: str
    source: Note
    person: Person
    reasons: list[str]  # in the order of REASON_ORDER
    due: dt.date | None
    closings: tuple[dt.date | None, ...]  # by the note's properties
    wont: bool  # closed by the note's properties without reporting back
    open_task: bool
    task_closings: tuple[dt.date | None, ...]  # count only if nothing else closes it
    task_wont: bool  # a cancelled task: closed without reporting back, as tasks go


def order(f: FollowUp, today: dt.date) -> Order:
    """Where a follow-up goes in its list: by due date (undated last), then person, then note."""
    return (f.due is None, f.due or today, fold(f.person.name), f.person.key, f.source or "")


def latest(dates: Iterable[dt.date | None]) -> dt.date | None:
    known = [d for d in dates if d is not None]
    return max(known) if known else None


_NOBODY: Mapping[str, Person] = MappingProxyType({})
_NOTHING: Mapping[str, Item] = MappingProxyType({})


@dataclass(slots=True)
class Share:
    """What one note adds to the report (tuples, and shared empties: there are thousands)."""

    note: Note
    interaction: bool
    items: Mapping[str, Item]  # person key -> item owed for this note
    touches: tuple[tuple[str, dt.date], ...]  # person key, in touch on
    # `reports_on`: (the note reported on, the participants (none: everyone), the date).
    closes: tuple[tuple[str, frozenset[str], dt.date | None], ...]
    edges: tuple[tuple[str, str], ...]  # introducer, introduced, by key
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
        # Only where a date is used: not for a note whose only such properties close items
        # (a box ticked for a task in an undated note writes `reported_back_to` into it);
        # nor for a `date` that is not one: reading it warned already, on its line (an
        # empty one it did not).
        line = note.lines.get("date", 1)
        if (
            note.date is None
            and any(role in note.links for role in DATED_ROLES)
            and not ("date" in note.lines and any(w.line == line for w in note.warnings))
        ):
            lookups.warnings.append(
                ScanWarning(
                    note.path,
                    line,
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
                    it.defaults.append(days_after(note.date, config.due_days[reason]))

    # Every note, not only interactions: a task in a person note owes an item too, and
    # recording its tick writes `reported_back_to` into that note.
    for task in note.tasks:
        links = task.links
        if len(links) > 1:
            # Beside a person's note, a link to a note not written yet (`on [[Hiring plan]]`)
            # names a thing, not one more person.
            found = [directory.note_for(link, note.path, task.line, lookups) for link in links]
            if any(path in directory.person_notes for path in found if path):
                links = tuple(link for link, path in zip(links, found, strict=True) if path)
        for link in links:
            for person in directory.people_for(
                link, note.path, task.line, lookups, persons_only=True
            ):
                it = item(person)
                it.reasons.add("task")
                if task.due is not None:
                    it.task_due.append(task.due)
                    if task.status == OPEN:
                        it.open_due.append(task.due)
                elif note.date is not None:
                    it.defaults.append(days_after(note.date, config.due_days["task"]))
                if task.status == OPEN:
                    it.open_task = True
                elif task.status == CANCELLED:
                    it.task_wont = True
                else:
                    it.task_closings.append(task.done_on)
                    if task.done_on is not None and task.done_on <= today:
                        # In touch that day, even with a task for them still open (the
                        # next one of a recurring task).
                        touches.append((person.key, task.done_on))

    # With `reported_back_to` beside it, `reported_back` only dates those people: closing
    # everyone's items would drop reminders the user never answered.
    if note.reported_back and "reported_back_to" not in note.links:
        for _, it in owed.values():
            it.closings.append(note.reported_back_on)
    line = note.lines.get("reported_back_to", 1)
    for link in note.links.get("reported_back_to", ()):
        # An entry's own date beats the note's `reported_back` date; "won't" is held as None.
        wont = link in note.reported_back_dates and note.reported_back_dates[link] is None
        on = note.reported_back_dates.get(link, note.reported_back_on)
        for person in directory.people_for(link, note.path, line, lookups):
            if person.key in owed:
                it = owed[person.key][1]
                if wont:
                    it.wont = True
                else:
                    it.closings.append(on)
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
            elif path == note.path:  # it would close its own items
                lookups.warnings.append(
                    ScanWarning(note.path, line, "`reports_on` names this note itself; ignored")
                )
            else:
                closes.append((path, participants, note.date))

    edges: list[tuple[str, str]] = []
    if "introduced_by" in note.links:
        introduced = (
            [directory.people[note.path]]
            if note.path in directory.people
            else people("participants")
        )
        for introducer in people("introduced_by"):
            edges += ((introducer.key, p.key) for p in introduced if p.key != introducer.key)
    items = {key: _item(note, person, it) for key, (person, it) in owed.items()}
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


def _item(note: Note, person: Person, it: _Owed) -> Item:
    # An open task's date: the done ones of a recurring task are behind it.
    dues = it.open_due or it.task_due or it.defaults
    due = note.report_back_by or min(dues, default=None)
    return Item(
        item_id(note.path, person.key),
        note,
        person,
        _reasons(it.reasons),
        due,
        tuple(it.closings),
        it.wont,
        it.open_task,
        tuple(it.task_closings),
        it.task_wont,
    )


# Each list of reasons once, read only (there are 15 at most, and 18,000 items).
_REASONS: dict[tuple[str, ...], list[str]] = {}


def _reasons(given: set[str]) -> list[str]:
    """The reasons, in the order of REASON_ORDER."""
    key = tuple(r for r in REASON_ORDER if r in given)
    found = _REASONS.get(key)
    if found is None:
        found = _REASONS[key] = FrozenList(key)
    return found


def followup(
    item: Item, person: Person, remote: list[dt.date | None], today: dt.date, horizon: int
) -> FollowUp:
    """The item's follow-up, with `person` as shown and the closings other notes send it."""
    made = FollowUp(
        id=item.id,
        kind="report-back",
        person=person,
        source=item.source.path,
        reasons=item.reasons,
        due=item.due,
        status=status_of(item.due, today, horizon),
        ready="advice" in item.reasons and item.source.outcome,
    )
    closings, wont = [*item.closings, *remote], item.wont
    if not (closings or wont or item.open_task):
        closings, wont = list(item.task_closings), item.task_wont
    if closings or wont:
        made.status = "closed"
        made.closed_on = latest(closings)
        made.wont = not closings  # a report-back, dated or not, outweighs a "won't"
    return made


def reconnect(
    person: Person, last: dt.date | None, today: dt.date, horizon: int
) -> FollowUp | None:
    """A reconnect, if `person` has a cadence and was last in touch that long ago."""
    if person.cadence_days is None:
        return None
    due = days_after(last, person.cadence_days) if last else today
    status = status_of(due, today, horizon)
    if status not in ("overdue", "due"):
        return None
    return FollowUp(
        id=item_id("reconnect", person.key),
        kind="reconnect",
        person=person,
        source=None,
        reasons=["cadence"],
        due=due,
        status=status,
    )
