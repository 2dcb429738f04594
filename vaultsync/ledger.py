"""The report as the sum of every note's share, kept current note by note.

`Ledger.update` (the watcher's case) shares out again only the notes that changed and those
whose links may now point elsewhere, then redoes only the items and the people those shares
touch: after one edit in a vault of 50,000 notes, a few items, not 20,000.

The shares themselves are not kept (at 50,000 notes, 20 MB): a share is a function of its
note, the directory and today, so the one counted for a note is made again when it is taken
back, before the directory changes.

What couples one note's share to the others is kept here as running totals: the spelling
shown for a person without a note, the closings that `reports_on` notes send to the notes
they report on, the days each person was in touch, the introductions and the warnings.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Hashable, Iterable, Mapping
from typing import Generic, TypeVar

from .config import Config
from .followups import Item, Order, Share, followup, latest, order, reconnect, share
from .links import Paths, drop_path, fold, paths_of, put_path
from .model import FollowUp, Note, Person, PersonRow, Report, ScanWarning, merge_warnings
from .people import Directory, names_of

K = TypeVar("K", bound=Hashable)
V = TypeVar("V", bound=Hashable)
T = TypeVar("T")
Rank = tuple[str, str]  # a row's place in the people table: name, then key
Closing = tuple[frozenset[str], dt.date | None]  # `reports_on`: participants (none: all), date
# An item's follow-up, where it goes, and the days it puts its person in touch.
Placed = tuple[Order, FollowUp, tuple[dt.date, ...]]
MANY = 64  # changes past which a list is sorted again rather than patched


class _Ordered(Generic[T]):
    """Values under unique keys, read in key order. A few changes at a time are patched in
    place; after `unsorted()`, the values are sorted once when next read."""

    __slots__ = ("_keys", "_sorted", "_values")

    def __init__(self) -> None:
        self._values: dict[tuple[object, ...], T] = {}
        # The keys in order, and their values beside them: reading is a copy of a list, not
        # a loop over 20,000 pairs on every report.
        self._keys: list[tuple[object, ...]] = []
        self._sorted: list[T] | None = []

    def unsorted(self) -> None:
        self._sorted = None

    def add(self, key: tuple[object, ...], value: T) -> None:
        self._values[key] = value
        if self._sorted is not None:
            at = bisect_left(self._keys, key)
            self._keys.insert(at, key)
            self._sorted.insert(at, value)

    def remove(self, key: tuple[object, ...]) -> None:
        del self._values[key]
        if self._sorted is not None:
            at = bisect_left(self._keys, key)
            del self._keys[at], self._sorted[at]

    def values(self) -> list[T]:
        if self._sorted is None:
            self._keys = sorted(self._values)
            self._sorted = [self._values[key] for key in self._keys]
        return self._sorted.copy()


def _add(counts: dict[V, int], value: V, sign: int) -> None:
    """Count one more (or one fewer) note that gives `value`; none left, it is gone."""
    count = counts.get(value, 0) + sign
    if count:
        counts[value] = count
    else:
        del counts[value]


def _tally(table: dict[K, dict[V, int]], key: K, value: V, sign: int) -> None:
    """`_add` under `key`; with nothing left under it, the key goes too (or every name ever
    typed while watching would stay)."""
    values = table.setdefault(key, {})
    _add(values, value, sign)
    if not values:
        del table[key]


def signature(note: Note) -> tuple[object, ...]:
    """What other notes' shares may depend on: how links find this note, and the person it is."""
    return (note.aliases, note.keywords, note.name, note.email, note.cadence_days,
            note.last_contact)


class Ledger:
    """Every note's share, and their sum as a report, kept current by `update`.

    Without `keep` (a one-shot scan), what only `update` needs is not kept: which notes
    looked up which names, where each item was placed, every day each person was in touch;
    an `update` then starts over, keeping them.
    """

    def __init__(
        self, notes: Iterable[Note], config: Config, today: dt.date, *, keep: bool = True
    ) -> None:
        self.config = config
        self.keep = keep
        self._build(notes, today)

    def _build(self, notes: Iterable[Note], today: dt.date) -> None:
        self.today = today
        self.directory = Directory(sorted(notes, key=lambda n: n.path), self.config)
        self.notes = self.directory.notes  # one table of 50,000 notes, not two
        # The items of the shares counted since the last `_settle`, by note, to place there.
        self._unplaced: dict[str, Mapping[str, Item]] = {}
        self.readers: Paths = {}  # name looked up -> the notes that did (with `keep`)
        self.interactions = 0
        # The running totals: person key -> day -> how many times they were in touch then;
        self.contacts: dict[str, dict[dt.date, int]] = {}
        self.last_contact: dict[str, dt.date] = {}  # without `keep`: only the last day
        # person without a note -> spelling -> notes that use it, and the spelling shown;
        self.spellings: dict[str, dict[Person, int]] = {}
        self.others: dict[str, Person] = {}
        self.closings: dict[str, dict[Closing, int]] = {}  # note -> the closings sent to it
        self.owed: dict[str, dict[str, int]] = {}  # person key -> notes with an item for them
        self.edges: dict[tuple[str, str], int] = {}  # (introducer, introduced) -> notes
        self.warnings: dict[ScanWarning, int] = {}
        # The report's parts, each kept in its order:
        self.placed: dict[str, tuple[tuple[str, Placed], ...]] = {}  # note -> person key, item
        self.counts: dict[str, list[int]] = {}  # person key -> [open, reported back] items
        self.reconnects: dict[str, Order] = {}  # person key -> their reconnect's place
        self.ranks: dict[str, Rank] = {}  # person key -> their row's place
        self.open: _Ordered[FollowUp] = _Ordered()
        self.closed: _Ordered[FollowUp] = _Ordered()
        self.people: _Ordered[PersonRow] = _Ordered()
        self._warnings: list[ScanWarning] | None = None  # in order; None: to sort again
        self._pairs: list[tuple[str, str]] | None = []  # the edges in order; None: to sort
        self._introductions: list[tuple[Person, Person]] | None = None  # None: to make again
        # What the next `_settle` redoes: notes whose items, and people whose row, changed;
        # people without a note whose spellings did.
        self._sources: set[str] = set()
        self._persons: set[str] = set(self.directory.people)
        self._spelled: set[str] = set()
        self._paired: set[tuple[str, str]] = set()  # edges counted up or down
        for path in self.notes:
            self._share(path, 1)
        self._settle()

    def update(
        self, notes: Mapping[str, Note], today: dt.date, paths: Iterable[str]
    ) -> list[str]:
        """Bring the shares in line with `notes` (the vault's notes now) and `today`; returns
        the notes shared out again. Only `paths` are compared: the caller knows no other note
        was touched (at 50,000 notes, comparing them all would cost 20 ms per edit)."""
        if today != self.today or not self.keep:  # every due date's status may change
            self.keep = True
            self._build(notes.values(), today)
            return list(self.notes)
        changed = [p for p in sorted(set(paths)) if self.notes.get(p) is not notes.get(p)]
        again, swapped = set(changed), {}
        for path in changed:
            old, new = self.notes.get(path), notes.get(path)
            if old is not None and new is not None and signature(old) == signature(new):
                swapped[path] = new
                continue
            # It comes, goes, or changes as a link target or a person: every note that
            # looked up one of its names may now find another note, or another person.
            for note in (old, new):
                for name in names_of(note) if note is not None else ():
                    again.update(paths_of(self.readers, name))
        shared = sorted(again)
        for path in shared:  # taken back while the directory is as it was when counted
            self._share(path, -1)
        self.notes.update(swapped)  # `self.directory.notes` too: they are one table
        for path in changed:
            if path in swapped:
                continue
            if path in self.directory.people:
                self._introductions = None  # it may be shown in the graph as it was
            if path in self.notes:
                self.directory.remove(path)
            if path in notes:
                self.directory.add(notes[path])
            self._persons.add(path)  # its row, if it is (or was) a person note
        for path in shared:
            self._share(path, 1)
        self._settle()
        return shared

    def report(self) -> Report:
        if self._warnings is None:
            self._warnings = merge_warnings(list(self.warnings))
        if self._pairs is None:
            self._pairs = sorted(self.edges)
        if self._introductions is None:
            shown = self._shown
            self._introductions = [(shown(a), shown(b)) for a, b in self._pairs]
        return Report(
            today=self.today,
            followups=self.open.values(),
            closed=self.closed.values(),
            people=self.people.values(),
            warnings=list(self._warnings),
            interactions=self.interactions,
            introductions=list(self._introductions),
            notes=len(self.notes),
        )

    # -- shares: a note's part, counted into the running totals --------------------------

    def _share(self, path: str, sign: int) -> None:
        """Count the note's share into the totals (or, with a negative sign, take it back)."""
        part = self._part(path)
        if part is None:
            return
        self._count(part, sign)
        # An item gone from a placed note is taken out when it is placed again.
        if sign > 0 and (part.items or path in self.placed):
            self._unplaced[path] = part.items

    def _part(self, path: str) -> Share | None:
        note = self.notes.get(path)
        return None if note is None else share(note, self.directory, self.config, self.today)

    def _count(self, part: Share, sign: int) -> None:
        path = part.note.path
        for name in part.names if self.keep else ():  # each once: `names` is from a set
            (put_path if sign > 0 else drop_path)(self.readers, name, path)
        self.interactions += sign * part.interaction
        for key, day in part.touches:
            self._touch(key, day, sign)
            self._persons.add(key)
        for key, person in part.others.items():
            _tally(self.spellings, key, person, sign)
            self._spelled.add(key)
        for target, participants, on in part.closes:
            _tally(self.closings, target, (participants, on), sign)
            self._sources.add(target)
        if part.items:  # items to place (or placed: to take back)
            self._sources.add(path)
        for key in part.items if self.keep else ():  # a first `_settle` places every item
            _tally(self.owed, key, path, sign)
        for edge in part.edges:
            _add(self.edges, edge, sign)
            self._paired.add(edge)
        for warning in part.warnings:
            _add(self.warnings, warning, sign)
            self._warnings = None

    # -- the report's parts: items and people, redone where the totals moved ----------------

    def _settle(self) -> None:
        for key in self._spelled:
            spellings = self.spellings.get(key)
            # Of the spellings used, the first in alphabetical order, whichever note came last.
            shown = min(spellings, key=lambda p: (p.name, p.display)) if spellings else None
            if shown != self.others.get(key):
                if shown is None:
                    del self.others[key]
                else:
                    self.others[key] = shown
                self._sources.update(self.owed.get(key, ()))
                self._persons.add(key)
                self._introductions = None
        if len(self._sources) + len(self._persons) > MANY:
            for part in (self.open, self.closed, self.people):
                part.unsorted()
        self._pair()
        for source in self._sources:
            self._place(source)
        for key in self._persons:
            self._row(key)
        self._sources, self._persons, self._spelled, self._paired = set(), set(), set(), set()

    def _pair(self) -> None:
        """Patch the introductions where an edge came or went (a note shared out again takes
        its edges back and counts them anew: most are still there)."""
        pairs = self._pairs
        if pairs is None or len(self._paired) > MANY:
            self._pairs = self._introductions = None
            return
        for edge in self._paired:
            at = bisect_left(pairs, edge)
            listed = at < len(pairs) and pairs[at] == edge
            if listed == (edge in self.edges):
                continue
            if listed:
                del pairs[at]
            else:
                pairs.insert(at, edge)
            self._introductions = None

    def _shown(self, key: str) -> Person:
        """The person as the report shows them: the spelling chosen for one without a note."""
        return self.others.get(key) or self.directory.people[key]

    def _place(self, source: str) -> None:
        """Put the note's items in the report again (they, or what closes them, changed)."""
        items = self._unplaced.pop(source, None)
        if items is None and source in self.placed:
            # Placed before, and only what closes its items (or its person's spelling)
            # changed: its share is the one counted, made again.
            part = self._part(source)
            items = part.items if part is not None else None
        for key, placed in self.placed.pop(source, ()):
            self._put(key, placed, -1)
        if not items:
            return
        today, horizon = self.today, self.config.horizon_days
        # Only a later note (SPEC §6), or one of the same day, reports on this one; one
        # without a date, or sent to a note without one, cannot be judged and counts.
        since = next(iter(items.values())).source.date
        closings = [
            (seen, on)
            for seen, on in self.closings.get(source, {})
            if on is None or since is None or on >= since
        ]
        mine: dict[str, Placed] = {}
        for key, item in items.items():
            person = self.others.get(key, item.person)
            extra = [on for seen, on in closings if not seen or key in seen]
            made = followup(item, person, extra, today, horizon)
            place = order(made, today)
            ons = [*extra, made.closed_on] if made.status == "closed" else extra
            touched = tuple(on for on in ons if on is not None and on <= today)
            mine[key] = (place, made, touched)
            self._put(key, mine[key], 1)
        if self.keep:  # a tuple, not a dict: 18,000 of them (2 MB)
            self.placed[source] = tuple(mine.items())

    def _put(self, key: str, placed: Placed, sign: int) -> None:
        place, made, touched = placed
        closed = made.status == "closed"
        part = self.closed if closed else self.open
        if sign > 0:
            part.add(place, made)
        else:
            part.remove(place)
        counts = self.counts.setdefault(key, [0, 0])
        counts[closed] += 0 if made.wont else sign  # a "won't" is no report-back
        if counts == [0, 0]:
            del self.counts[key]
        for day in touched:
            self._touch(key, day, sign)
        self._persons.add(key)

    def _touch(self, key: str, day: dt.date, sign: int) -> None:
        """The person was in touch on `day` (or, with a negative sign, no longer)."""
        if self.keep:
            _tally(self.contacts, key, day, sign)
        elif day > self.last_contact.get(key, dt.date.min):  # days are only added
            self.last_contact[key] = day

    def _row(self, key: str) -> None:
        """The person's row in the people table, and their reconnect if one is due."""
        if key in self.ranks:
            self.people.remove(self.ranks.pop(key))
        if key in self.reconnects:
            self.open.remove(self.reconnects.pop(key))
        person = self.others.get(key) or self.directory.people.get(key)
        if person is None:
            return
        days = self.contacts.get(key)
        seen = max(days) if days else self.last_contact.get(key)
        last = latest([seen, person.last_contact])
        made = reconnect(person, last, self.today, self.config.horizon_days)
        if made is not None:
            place = order(made, self.today)
            self.open.add(place, made)
            if self.keep:
                self.reconnects[key] = place
        opened, reported = self.counts.get(key, (0, 0))
        rank = (fold(person.name), key)
        self.people.add(rank, PersonRow(person, last, opened + (made is not None), reported))
        if self.keep:
            self.ranks[key] = rank


def compute(notes: Iterable[Note], config: Config, today: dt.date) -> Report:
    return Ledger(notes, config, today, keep=False).report()
