"""Notes as last read, kept between scans so that an unchanged note is not read again.

One JSON file per vault in the user's cache folder, never in the vault (a sync client must
not carry it between machines). Each note is keyed by its path, size and modification time,
the whole file by the vaultsync version and the configuration. JSON, not pickle: a cache file
can only hold data, never run code. Anything unexpected in it (damage, another version, a
hand edit) makes the whole file count as empty; the next scan writes a good one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from . import __version__
from .config import Config
from .links import Link
from .model import Note, ScanWarning
from .output import write_atomic
from .tasks import Task

log = logging.getLogger("vaultsync")
FORMAT = 1
RACY_NS = 2_000_000_000  # a note changed this recently may change again within its mtime tick


def cache_file(root: Path) -> Path:
    from platformdirs import user_cache_dir

    digest = hashlib.sha256(os.path.realpath(root).encode("utf-8", "surrogateescape")).hexdigest()
    return Path(user_cache_dir("vaultsync", appauthor=False)) / f"notes-{digest[:24]}.json"


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


def _links(items: Any) -> tuple[Link, ...]:
    return tuple(Link(_str(target), bool(bare)) for target, bare in items)


def encode(note: Note) -> dict[str, Any]:
    """A note as JSON-ready data."""
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


def decode(data: dict[str, Any]) -> Note:
    """The note `encode` gave `data` for; raises on anything it could not have written."""
    path = _str(data["path"])
    optional = {k: None if data[k] is None else _str(data[k]) for k in ("name", "email", "company")}
    cadence = data["cadence_days"]
    return Note(
        path=path,
        links={_str(role): _links(items) for role, items in data["links"].items()},
        keywords={
            _str(role): frozenset(map(_str, words)) for role, words in data["keywords"].items()
        },
        aliases=tuple(map(_str, data["aliases"])),
        cadence_days=None if cadence is None else _int(cadence),
        last_contact=_date(data["last_contact"]),
        date=_date(data["date"]),
        report_back_by=_date(data["report_back_by"]),
        reported_back=bool(data["reported_back"]),
        reported_back_on=_date(data["reported_back_on"]),
        reported_back_dates={
            Link(_str(target), bool(bare)): _date(on)
            for target, bare, on in data["reported_back_dates"]
        },
        outcome=bool(data["outcome"]),
        has_properties=bool(data["has_properties"]),
        tasks=tuple(
            Task(_int(line), _str(text), _str(status), _date(due), _date(done), _links(links))
            for line, text, status, due, done, links in data["tasks"]
        ),
        lines={_str(role): _int(line) for role, line in data["lines"].items()},
        warnings=[ScanWarning(path, _int(line), _str(msg)) for line, msg in data["warnings"]],
        **optional,
    )


class NoteCache:
    """The cache of one vault under one configuration."""

    def __init__(self, root: Path, config: Config) -> None:
        self.path = cache_file(root)
        self.key = f"{__version__}\n{config.fingerprint()}"
        self.entries: dict[str, list[Any]] = {}  # path -> [size, mtime_ns, encoded note]
        self.changed = False

    def load(self) -> None:
        try:
            data = json.loads(self.path.read_bytes())
            if data["format"] != FORMAT or data["key"] != self.key:
                raise ValueError("written by another version or configuration")
            entries = data["notes"]
            if not isinstance(entries, dict):
                raise TypeError("notes is not an object")
            self.entries = entries
        except FileNotFoundError:
            self.entries = {}
        except Exception as exc:
            log.debug("ignoring the cache %s: %s", self.path, exc)
            self.entries = {}
            self.changed = True

    def get(self, rel: str, size: int, mtime_ns: int) -> Note | None:
        entry = self.entries.get(rel)
        if not isinstance(entry, list) or len(entry) != 3 or entry[:2] != [size, mtime_ns]:
            return None
        try:
            note = decode(entry[2])
        except Exception as exc:
            log.debug("ignoring the cached %s: %s", rel, exc)
            return None
        return note if note.path == rel else None

    def put(self, rel: str, size: int, mtime_ns: int, note: Note) -> None:
        if time.time_ns() - mtime_ns > RACY_NS:
            self.entries[rel] = [size, mtime_ns, encode(note)]
            self.changed = True

    def save(self, keep: set[str]) -> None:
        """Write the cache, without the notes that are gone, if anything in it changed."""
        gone = self.entries.keys() - keep
        for rel in gone:
            del self.entries[rel]
        if not (self.changed or gone):
            return
        data = {"format": FORMAT, "key": self.key, "notes": self.entries}
        try:
            write_atomic(self.path, json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        except OSError as exc:
            log.debug("cannot write the cache %s: %s", self.path, exc)
