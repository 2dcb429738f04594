"""The data that flows through the pipeline: notes as read, people, follow-ups, the report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from .links import Link

if TYPE_CHECKING:
    from .tasks import Task

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


def _refuse(*_: object, **__: object) -> NoReturn:
    raise TypeError("shared by many notes: not to be changed")


class Frozen(dict[K, V]):
    """A dict that refuses changes, so that one stands for every equal one: of 50,000 notes,
    most have no keywords and no closings, and their `lines` take 31 forms (20 MB of dicts).
    Pickled as itself: notes come pickled from the second reading process."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> str | tuple[type[Frozen[K, V]], tuple[dict[K, V]]]:
        return "NO_MAPPING" if self is NO_MAPPING else (type(self), (dict(self),))


class FrozenList(list[T]):
    """A list that refuses changes: the one empty list of warnings that notes share."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = clear = extend = insert = pop = remove = reverse = sort = _refuse

    def __reduce__(self) -> str | tuple[type[FrozenList[T]], tuple[list[T]]]:
        return "NO_WARNINGS" if self is NO_WARNINGS else (type(self), (list(self),))


NO_MAPPING: Frozen[Any, Any] = Frozen()
NO_WARNINGS: FrozenList[Any] = FrozenList()


# What a note that could not be read says: gone meanwhile, or refused, or a disk error.
UNREAD = ("disappeared while being read", "cannot read this note")


@dataclass(frozen=True, slots=True)
class ScanWarning:
    """Something in a note that the user may want to fix; `line` is 1-based, 0 for the file."""

    path: str
    line: int
    message: str

    @property
    def unread(self) -> bool:
        """Whether it says that its note could not be read."""
        return self.message.startswith(UNREAD)

    def __reduce__(self) -> tuple[type[ScanWarning], tuple[object, ...]]:  # see `Note`'s
        return type(self), tuple(map(self.__getattribute__, self.__slots__))


TOP_WARNINGS = 10  # listed at once, by the summary of a scan and by the watcher's log


def listed(warnings: list[ScanWarning]) -> list[str]:
    """The first warnings as `path:line: message` (`path: message` for the whole file), then
    how many more there are."""
    lines = [
        f"{w.path}:{w.line}: {w.message}" if w.line else f"{w.path}: {w.message}"
        for w in warnings[:TOP_WARNINGS]
    ]
    if len(warnings) > TOP_WARNINGS:
        more = len(warnings) - TOP_WARNINGS
        lines.append(f"… and {more} more (`vaultsync scan --format json` lists them all)")
    return lines


def merge_warnings(*groups: list[ScanWarning]) -> list[ScanWarning]:
    """Warnings from several steps, each once, in the order of the output: path, line."""
    merged = {w for group in groups for w in group}
    return sorted(merged, key=lambda w: (w.path, w.line, w.message))


@dataclass(slots=True)
class Note:
    """What one note says, as far as report-backs go; it depends on this note alone, so a
    changed note can be read again and swapped in without touching the others."""

    path: str  # vault-relative, with `/`
    links: dict[str, tuple[Link, ...]] = field(default_factory=dict)  # role -> references
    keywords: dict[str, frozenset[str]] = field(default_factory=dict)  # type, tags, categories
    aliases: tuple[str, ...] = ()
    name: str | None = None
    email: str | None = None
    company: str | None = None
    cadence_days: int | None = None
    last_contact: dt.date | None = None
    date: dt.date | None = None  # `date`, else the date the file name starts with
    report_back_by: dt.date | None = None
    reported_back: bool = False
    reported_back_on: dt.date | None = None
    # `reported_back_to` entries that carry their own closing: `"[[Sam]] 2026-11-24"` maps
    # Sam's link to that date, `"[[Sam]] won't"` to None; entries without either are absent.
    reported_back_dates: dict[Link, dt.date | None] = field(default_factory=dict)
    outcome: bool = False
    has_properties: bool = False
    tasks: tuple[Task, ...] = ()
    lines: dict[str, int] = field(default_factory=dict)  # role -> line of its property
    warnings: list[ScanWarning] = field(default_factory=list)

    def __reduce__(self) -> tuple[type[Note], tuple[object, ...]]:
        """Notes, and their links, tasks and warnings, come pickled from the second reading
        process. Built again by their `__init__`, they are taken in in under half the time of
        pickle's own way, which for the frozen ones looks up their fields for every object."""
        return type(self), tuple(map(self.__getattribute__, self.__slots__))

    def shared(self, seen: dict[Any, Any]) -> Note:
        """The note as kept once read: its mappings, lists and dates each the one equal to it
        in `seen` (read only), an empty one the one shared by every note."""
        self.links = self.links or NO_MAPPING
        self.keywords = _frozen(seen, self.keywords)
        self.lines = _frozen(seen, self.lines)
        self.reported_back_dates = _frozen(seen, self.reported_back_dates)
        self.warnings = self.warnings or NO_WARNINGS
        if self.date is not None:  # 45,000 dates, 10,000 days
            self.date = seen.setdefault(self.date, self.date)
        if self.report_back_by is not None:
            self.report_back_by = seen.setdefault(self.report_back_by, self.report_back_by)
        return self

    @property
    def stem(self) -> str:
        return self.path.rsplit("/", 1)[-1][:-3]

    @property
    def folder(self) -> str:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""

    @property
    def unread(self) -> bool:
        """Whether reading it failed: worth trying again, even with its size and mtime as
        they were (a permission put right moves neither)."""
        return len(self.warnings) == 1 and self.warnings[0].unread


def _frozen(seen: dict[Any, Any], mapping: dict[K, V]) -> dict[K, V]:
    """The read-only mapping equal to `mapping` kept in `seen`, made on first sight."""
    if not mapping:
        return NO_MAPPING
    key = (Frozen, *mapping.items())
    found: dict[K, V] | None = seen.get(key)
    if found is None:
        found = seen[key] = Frozen(mapping)
    return found


@dataclass(frozen=True, slots=True)
class Person:
    """Someone the user owes or meets: a person note, or an unresolved link to one."""

    key: str  # the note's path, or `?` and the `links.fold` of the target for one without
    name: str  # file name without `.md`, or the link target as written
    note: str | None
    display: str  # `name:` of the note, else `name`
    email: str | None = None
    cadence_days: int | None = None
    last_contact: dt.date | None = None  # the manual last-contact property


@dataclass(slots=True)
class FollowUp:
    id: str
    kind: str  # "report-back" or "reconnect"
    person: Person
    source: str | None
    reasons: list[str]
    due: dt.date | None
    status: str  # overdue, due, upcoming, undated, or closed
    ready: bool = False
    closed_on: dt.date | None = None
    wont: bool = False  # closed only by "won't" (or a cancelled task): not reported back


@dataclass(slots=True)
class PersonRow:
    person: Person
    last_contact: dt.date | None
    open: int
    reported_back: int


@dataclass(slots=True)
class Report:
    """Everything the output is made of; a pure function of the notes, config and today."""

    today: dt.date
    followups: list[FollowUp]
    closed: list[FollowUp]
    people: list[PersonRow]
    warnings: list[ScanWarning]
    interactions: int
    introductions: list[tuple[Person, Person]]  # (introducer, introduced), for the graph
    notes: int = 0
