"""What the last scan read and found, kept so that the next one need not do it again.

Two files per vault in the user's cache folder, never in the vault (a sync client must not
carry them between machines). `NoteCache` keeps every note as read, keyed by its path,
size and modification time, the whole file by the vaultsync version and the configuration:
a scan reads only the notes that changed. `ResultCache` keeps the last report, keyed by all
of that plus `today`: a scan that finds nothing changed computes nothing. JSON, not pickle:
a cache file can only hold data, never run code. Nothing unexpected in one is trusted
(damage, another version, a hand edit): a damaged note is read from its file again, a
damaged file counts as empty, and the next scan writes a good one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import sys
import time
import zlib
from collections.abc import Iterator, Mapping
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from . import __version__
from .config import Config
from .links import Link
from .model import FollowUp, Note, Person, PersonRow, Report, ScanWarning
from .output import write_atomic

if TYPE_CHECKING:
    from .tasks import Task

log = logging.getLogger("vaultsync")
FORMAT = 11  # the layout of both files, and what reading and resolving give; another is ignored
RACY_NS = 2_000_000_000  # a note changed this recently may change again within its mtime tick
H = TypeVar("H")


def cache_file(root: Path, kind: str = "notes") -> Path:
    from platformdirs import user_cache_dir

    digest = hashlib.sha256(os.path.realpath(root).encode("utf-8", "surrogateescape")).hexdigest()
    return Path(user_cache_dir("vaultsync", appauthor=False)) / f"{kind}-{digest[:24]}.json"


def _date(value: Any) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(_str(value))


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return value


def _role(value: Any) -> str:
    """A property's role, or a kind word kept from `type` or `tags`: names that recur in note
    after note, each kept once (each line would bring its own copies: 9 MB at 50,000 notes)."""
    return sys.intern(_str(value))


def _once(shared: dict[H, H], value: H) -> H:
    """`value`, or the equal one decoded before: a vault names the same few people and kinds
    in note after note (at 50,000 notes, 88,000 links to a few thousand notes)."""
    return shared.setdefault(value, value)


def _links(items: Any, shared: dict[Any, Any]) -> tuple[Link, ...]:
    return tuple(_once(shared, Link(_str(target), bool(bare))) for target, bare in items)


def encode(note: Note) -> dict[str, Any]:
    """A note as JSON-ready data, without the fields that hold their default: a daily note is
    its path and date (the cache of 50,000 notes takes 15 MB instead of 26 MB)."""
    return {k: v for k, v in _data(note).items() if k == "path" or v != _DEFAULTS[k]}


def _data(note: Note) -> dict[str, Any]:
    return {
        "path": note.path,
        "links": {
            role: [[lk.target, lk.bare] for lk in links] for role, links in note.links.items()
        },
        "keywords": {role: sorted(words) for role, words in note.keywords.items()},
        "aliases": list(note.aliases),
        "name": note.name,
        "email": note.email,
        "company": note.company,
        "cadence_days": note.cadence_days,
        "last_contact": _iso(note.last_contact),
        "date": _iso(note.date),
        "report_back_by": _iso(note.report_back_by),
        "reported_back": note.reported_back,
        "reported_back_on": _iso(note.reported_back_on),
        "reported_back_dates": [
            [lk.target, lk.bare, _iso(on)] for lk, on in note.reported_back_dates.items()
        ],
        "outcome": note.outcome,
        "has_properties": note.has_properties,
        "tasks": [
            [
                t.line,
                t.text,
                t.status,
                _iso(t.due),
                _iso(t.done_on),
                [[lk.target, lk.bare] for lk in t.links],
            ]
            for t in note.tasks
        ],
        "lines": note.lines,
        "warnings": [[w.line, w.message] for w in note.warnings],
    }


def decode(data: dict[str, Any], shared: dict[Any, Any] | None = None) -> Note:
    """The note `encode` gave `data` for; raises on anything it could not have written, but
    for a field left out (it holds its default: a line's checksum tells a damaged one).
    `shared`: the links and kind words decoded so far, each kept once (see `_once`), and
    what `Note.shared` keeps once."""
    shared = {} if shared is None else shared
    path = _str(data["path"])
    data = {**_DEFAULTS, **data}
    optional = {k: None if data[k] is None else _str(data[k]) for k in ("name", "email", "company")}
    cadence = data["cadence_days"]
    return Note(
        path=path,
        links={_role(role): _links(items, shared) for role, items in data["links"].items()},
        keywords={
            _role(role): _once(shared, frozenset(map(_role, words)))
            for role, words in data["keywords"].items()
        },
        aliases=tuple(map(_str, data["aliases"])),
        cadence_days=None if cadence is None else _int(cadence),
        last_contact=_date(data["last_contact"]),
        date=_date(data["date"]),
        report_back_by=_date(data["report_back_by"]),
        reported_back=bool(data["reported_back"]),
        reported_back_on=_date(data["reported_back_on"]),
        reported_back_dates={
            _once(shared, Link(_str(target), bool(bare))): _date(on)
            for target, bare, on in data["reported_back_dates"]
        },
        outcome=bool(data["outcome"]),
        has_properties=bool(data["has_properties"]),
        tasks=_tasks(data["tasks"], shared) if data["tasks"] else (),
        lines={_role(role): _int(line) for role, line in data["lines"].items()},
        warnings=[ScanWarning(path, _int(line), _str(msg)) for line, msg in data["warnings"]],
        **optional,
    ).shared(shared)


def _tasks(items: Any, shared: dict[Any, Any]) -> tuple[Task, ...]:
    # Imported here: a scan that finds nothing changed decodes no note, and starts 2 ms sooner
    # without the task rules; at 50,000 notes, the 3,000 with tasks pay 2 µs each.
    from .tasks import Task

    return tuple(
        Task(_int(line), _str(text), _str(status), _date(due), _date(done), _links(lks, shared))
        for line, text, status, due, done, lks in items
    )


_DEFAULTS = _data(Note(""))


def _written_under(data: Any, key: str) -> bool:
    """Whether a cache file's data was written by this version's layout under `key`."""
    return bool(data["format"] == FORMAT and data["key"] == key)


def _write(path: Path, content: str | Iterator[bytes | memoryview]) -> None:
    """Write a cache file; one that cannot be written is only a slower next scan."""
    try:
        write_atomic(path, content)
    except OSError as exc:
        log.debug("cannot write the cache %s: %s", path, exc)


class NoteCache:
    """The cache of one vault under one configuration.

    A line per note, `[size, mtime_ns, path, the note's checksum]`, a tab, then the note as
    JSON (JSON escapes tabs and `\n`, so neither occurs inside either part), after a first
    line naming the format and key. `load` goes through the file once, decoding only the
    notes that kept their size and mtime, and `save` writes their lines back as the bytes
    they were read as: as one JSON value, the cache of 50,000 notes took 170 MB to load or
    to save, and an index of its lines took 15 MB.
    """

    def __init__(self, root: Path, config: Config) -> None:
        self.path = cache_file(root)
        self.key = f"{__version__}\n{config.fingerprint()}"
        self._data = b""  # the file as read
        self._runs: list[list[int]] = []  # [start, end) of each run of lines written back
        self._read: dict[str, tuple[int, int, Note]] = {}  # path -> size, mtime, note read
        self.changed = False

    def load(self, stats: Mapping[str, tuple[int, int]]) -> dict[str, Note]:
        """The cached notes whose size and mtime are still those in `stats` (path -> size,
        mtime_ns). The lines of the others are left out of the next `save`; one gone, cached
        twice or damaged is a reason for one."""
        try:
            return self._take(self.path.read_bytes(), stats)
        except FileNotFoundError:
            return {}
        except Exception as exc:
            log.debug("ignoring the cache %s: %s", self.path, exc)
            self._data, self._runs = b"", []
            self.changed = True
            return {}

    def _take(self, data: bytes, stats: Mapping[str, tuple[int, int]]) -> dict[str, Note]:
        """`load` from the file's bytes; raises if the file is not one of ours."""
        first = data.index(b"\n")
        if not _written_under(json.loads(data[:first]), self.key):
            raise ValueError("written by another version or configuration")
        notes: dict[str, Note] = {}
        shared: dict[Any, Any] = {}  # see `_once`
        start = first + 1
        while start < len(data):
            end = data.index(b"\n", start) + 1
            tab = data.index(b"\t", start, end)
            size, mtime_ns, rel, check = json.loads(data[start:tab])
            rel, found, check = _str(rel), (_int(size), _int(mtime_ns)), _int(check)
            if rel not in stats or rel in notes:  # gone, or cached twice
                self.changed = True
            elif stats[rel] == found:  # else it changed since: read again, it is `put`
                note = self._note(rel, data[tab + 1 : end - 1], check, shared)
                if note is None:  # damaged
                    self.changed = True
                elif self._runs and self._runs[-1][1] == start:
                    notes[rel] = note
                    self._runs[-1][1] = end
                else:
                    notes[rel] = note
                    self._runs.append([start, end])
            start = end
        self._data = data
        return notes

    def _note(self, rel: str, data: bytes, check: int, shared: dict[Any, Any]) -> Note | None:
        try:
            if zlib.crc32(data) != check:
                raise ValueError("damaged (its checksum differs)")
            note = decode(json.loads(data), shared)
        except Exception as exc:
            log.debug("ignoring the cached %s: %s", rel, exc)
            return None
        return note if note.path == rel and not note.unread else None

    def put(self, rel: str, size: int, mtime_ns: int, note: Note) -> None:
        """Cache a note read from its file (not one `load` gave), unless its mtime cannot
        vouch for it yet, or it could not be read: a permission put right moves no mtime."""
        if not note.unread and time.time_ns() - mtime_ns > RACY_NS:
            self._read[rel] = (size, mtime_ns, note)
            self.changed = True

    def save(self) -> None:
        """Write the cache, if anything in it changed."""
        if self.changed:
            _write(self.path, self._chunks())

    def _chunks(self) -> Iterator[bytes | memoryview]:
        yield json.dumps({"format": FORMAT, "key": self.key}).encode() + b"\n"
        data = memoryview(self._data)
        for start, end in self._runs:
            yield data[start:end]
        for rel, (size, mtime_ns, note) in self._read.items():
            body = _dumps(encode(note)).encode("utf-8", "surrogateescape")
            head = json.dumps([size, mtime_ns, rel, zlib.crc32(body)], ensure_ascii=False)
            yield head.encode("utf-8", "surrogateescape") + b"\t" + body + b"\n"


def _person(data: Any) -> Person:
    key, name, note, display, email, cadence, last = data
    return Person(
        key=_str(key),
        name=_str(name),
        note=None if note is None else _str(note),
        display=_str(display),
        email=None if email is None else _str(email),
        cadence_days=None if cadence is None else _int(cadence),
        last_contact=_date(last),
    )


def _followup_data(f: FollowUp) -> list[Any]:
    return [
        f.id, f.kind, f.person.key, f.source, f.reasons, _iso(f.due), f.status, f.ready,
        _iso(f.closed_on), f.wont,
    ]


def encode_report(report: Report) -> Iterator[str]:
    """A report as JSON text, a part at a time (at 50,000 notes, the whole text and the lists
    it is made from would add 15 MB to a scan's peak); each person once, named by key where
    it recurs."""
    people: dict[str, Person] = {}
    for person in (
        *(f.person for f in report.followups),
        *(f.person for f in report.closed),
        *(row.person for row in report.people),
        *(p for pair in report.introductions for p in pair),
    ):
        people.setdefault(person.key, person)
    yield '{"today":' + _dumps(report.today.isoformat())
    for name, rows in (
        (
            "persons",
            (
                [p.key, p.name, p.note, p.display, p.email, p.cadence_days, _iso(p.last_contact)]
                for p in people.values()
            ),
        ),
        ("followups", map(_followup_data, report.followups)),
        ("closed", map(_followup_data, report.closed)),
        (
            "people",
            (
                [row.person.key, _iso(row.last_contact), row.open, row.reported_back]
                for row in report.people
            ),
        ),
        ("warnings", ([w.path, w.line, w.message] for w in report.warnings)),
        ("introductions", ([a.key, b.key] for a, b in report.introductions)),
    ):
        yield f',"{name}":['
        comma = ""
        while batch := list(islice(rows, 1000)):
            yield comma + _dumps(batch)[1:-1]
            comma = ","
        yield "]"
    yield f',"interactions":{report.interactions},"notes":{report.notes}}}'


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def decode_report(data: dict[str, Any]) -> Report:
    """The report `encode_report` gave `data` for; raises on anything it could not have written."""
    people = {person.key: person for person in map(_person, data["persons"])}
    days: dict[Any, dt.date | None] = {None: None}  # a vault has few distinct dates

    def day(value: Any) -> dt.date | None:
        found = days.get(value)
        if found is None and value is not None:
            found = days[value] = _date(value)
        return found

    def followup(item: Any) -> FollowUp:
        fid, kind, key, source, reasons, due, status, ready, closed_on, wont = item
        return FollowUp(
            _str(fid),
            _str(kind),
            people[key],
            None if source is None else _str(source),
            list(map(_str, reasons)),
            day(due),
            _str(status),
            ready is True,
            day(closed_on),
            wont is True,
        )

    return Report(
        today=dt.date.fromisoformat(_str(data["today"])),
        followups=list(map(followup, data["followups"])),
        closed=list(map(followup, data["closed"])),
        people=[
            PersonRow(people[key], day(last), _int(n_open), _int(n_closed))
            for key, last, n_open, n_closed in data["people"]
        ],
        warnings=[ScanWarning(_str(p), _int(line), _str(m)) for p, line, m in data["warnings"]],
        interactions=_int(data["interactions"]),
        introductions=[(people[a], people[b]) for a, b in data["introductions"]],
        notes=_int(data["notes"]),
    )


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ResultCache:
    """The last scan's report and output, valid while its `key` is: the key names everything
    the report is a function of (see `Vault.result_key`), the digest the output file's bytes."""

    def __init__(self, root: Path, key: str) -> None:
        self.path = cache_file(root, "result")
        self.key = f"{__version__}\n{key}"

    def get(self, output: bytes | None) -> Report | None:
        """The cached report, if it was computed under this key and the output file still
        holds exactly what that scan wrote (a ticked box or a hand edit is work to do)."""
        if output is None:
            return None
        try:
            data = json.loads(self.path.read_bytes())
            if not _written_under(data, self.key):
                return None
            if data["output"] != digest(output):
                return None
            report = decode_report(data["report"])
            return None if _unread(report) else report
        except FileNotFoundError:
            return None
        except Exception as exc:
            log.debug("ignoring the cached result %s: %s", self.path, exc)
            return None

    def put(self, report: Report, output: bytes) -> None:
        if _unread(report):
            return
        head = {"format": FORMAT, "key": self.key, "output": digest(output)}
        parts = chain([_dumps(head)[:-1] + ',"report":'], encode_report(report), ["}"])
        _write(self.path, (part.encode("utf-8", "surrogateescape") for part in parts))


def _unread(report: Report) -> bool:
    """Whether a note could not be read: a permission put right moves no mtime, so the key
    cannot tell that reading it again may now succeed."""
    return any(w.unread for w in report.warnings)
