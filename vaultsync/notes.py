"""Reading one note: bytes → text → front matter (as Obsidian reads it) → the facts we use.

`NoteReader.parse` is pure (bytes in, Note out) and never raises on a note's content:
whatever is wrong with a note becomes a warning with its line, and the rest is still read.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import reprlib
from pathlib import Path
from typing import Any

import yaml

from . import frontmatter
from .config import Config
from .links import Link, links_in, parse_reference
from .model import UNREAD, Note, ScanWarning
from .output import BEGIN, END
from .people import PERSON_WORDS, is_person_note
from .properties import (
    date_in_name,
    email_address,
    flatten,
    is_truthy,
    keywords,
    normalize_name,
    parse_cadence,
    parse_date,
    parse_day,
    strings,
)
from .tasks import TaskFinder, code_lines, unparsed_due

MAX_NOTE_BYTES = 64 * 1024 * 1024
_CLOSING = re.compile(r"^(?:---|\.\.\.)\r?$", re.MULTILINE)
# Greedy on purpose: `[^:\n]*` can only stop at the first colon, so a long line costs one pass.
_TOP_KEY = re.compile(
    r"^(?:\"([^\"\n]+)\"|'([^'\n]+)'|([^\s#:\-'\"][^:\n]*)):(?:[ \t]|\r?$)", re.MULTILINE
)

LINK_ROLES = frozenset(
    {
        "participants",
        "introduced_by",
        "advice_from",
        "report_back_to",
        "reported_back_to",
        "reports_on",
    }
)
DATE_ROLES = frozenset({"date", "report_back_by", "last_contact"})
# Roles whose properties all count, each that is written: `kind` and `type`, `tag` and `tags`.
KIND_ROLES = frozenset({"type", "tags", "categories"})
WONT = "won't"
# A `reported_back_to` entry that carries its own closing after the person: "won't" (closed
# without reporting back), or a day (as written when a box is ticked, with a time, or as a
# link to a daily note).
_WONT_ENTRY = re.compile(r"(.*?\S)\s+won['\u2019]?t", re.IGNORECASE | re.DOTALL)
_DAY_ENTRY = re.compile(
    r"(.*?\S)\s+(\[\[[^\[\]]*\]\]|\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}\S*|\S*))", re.DOTALL
)
TEXT_ROLES = frozenset({"name", "email", "company"})
# Templater's `<% … %>` and the core Templates plugin's `{{title}}`, left as written.
_MUSTACHE = re.compile(r"\{\{[^{}]*\}\}")


def _unfilled(text: str) -> bool:
    """Whether `text` holds a template's `<% … %>` or `{{…}}`. Not `<%.*?%>`: searched for
    from every `<%`, it took minutes on a value of `<%<%<%…`."""
    start = text.find("<%")
    return (start >= 0 and text.find("%>", start + 2) >= 0) or bool(_MUSTACHE.search(text))


def split_front_matter(text: str) -> tuple[str | None, int, bool]:
    """(YAML text or None, offset where the body starts, whether a block was left open).

    Obsidian's rule: properties exist only when the very first line is `---`; the block ends
    at the next line that is exactly `---` or `...`.
    """
    if not text.startswith("---"):
        return None, 0, False
    first_end = text.find("\n")
    first_line = text[:first_end] if first_end >= 0 else text
    if first_line.rstrip("\r") != "---":
        return None, 0, False
    if first_end < 0:
        return None, 0, True
    closing = _CLOSING.search(text, first_end + 1)
    if not closing:
        return None, 0, True
    body_start = text.find("\n", closing.end())
    body_start = len(text) if body_start < 0 else body_start + 1
    return text[first_end + 1 : closing.start()], body_start, False


def split_entry(text: str) -> tuple[str, bool, dt.date | None, str | None]:
    """A `reported_back_to` entry as (who, whether it carries its own closing, its date, and
    the day as written when it is no date).

    `[[Sam]] 2026-11-24` closes Sam's item on that day; `[[Sam]] won't` closes it without a
    date; a plain `[[Sam]]` has no closing of its own (the note's `reported_back` dates it),
    nor has `[[Sam]] 2026-11-31` or `[[Sam]] by email`, whose last part is to be warned of.
    """
    stripped = text.strip()
    wont = _WONT_ENTRY.fullmatch(stripped)
    if wont:
        return wont.group(1), True, None, None
    dated = _DAY_ENTRY.fullmatch(stripped)
    if dated:
        who, day = dated.groups()
        on = parse_date(day)
        if on is not None:
            return who, True, on, None
        if not day.startswith("[["):
            return who, False, None, day  # `2026-11-31`: no such day
    # Text after a link that is neither a day nor another link (`[[Ka]] by email`).
    end = stripped.find("]]") + 2
    rest = stripped[end:].strip()
    if stripped.startswith("[[") and end > 1 and rest and "[[" not in rest and "](" not in rest:
        return stripped[:end], False, None, rest
    return text, False, None, None


def key_lines(yaml_text: str) -> dict[str, int]:
    """The line (1-based, in the file) of each top-level property, by normalised name."""
    lines: dict[str, int] = {}
    line, counted = 2, 0
    for match in _TOP_KEY.finditer(yaml_text):
        line += yaml_text.count("\n", counted, match.start())
        counted = match.start()
        lines.setdefault(normalize_name(match.group(1) or match.group(2) or match.group(3)), line)
    return lines


class NoteReader:
    """Reads notes with one configuration's property names and task phrases."""

    def __init__(self, config: Config) -> None:
        self.role_of = config.role_of()
        self.people_folders = config.people_folders
        self.tasks = TaskFinder(config.task_phrases)
        # Each link and set of kind words once: a vault names the same few people and kinds
        # in note after note (at 50,000 notes, 88,000 links to a few thousand notes).
        self._links: dict[Link, Link] = {}
        self._kinds: dict[frozenset[str], frozenset[str]] = {}
        # And each value naming people, or kinds, read once: the same texts come again and
        # again (`"[[Ada Okafor]]"`, `person`), and parsing them took a third of reading.
        self._references: dict[tuple[str, str], tuple[Link, ...]] = {}
        self._kind_words: dict[str, frozenset[str]] = {}
        self._seen: dict[Any, Any] = {}  # see `Note.shared`

    def read(self, root: Path, rel: str) -> Note:
        return self._read(root, rel).shared(self._seen)

    def _read(self, root: Path, rel: str) -> Note:
        try:
            raw = _read_bytes(os.path.join(root, rel))
        except FileNotFoundError:
            return Note(rel, warnings=[ScanWarning(rel, 0, UNREAD[0])])
        except OSError as exc:
            reason = exc.strerror or str(exc)
            return Note(rel, warnings=[ScanWarning(rel, 0, f"{UNREAD[1]}: {reason}")])
        if len(raw) > MAX_NOTE_BYTES:
            return Note(rel, warnings=[ScanWarning(rel, 0, "larger than 64 MiB; not read")])
        return self._parse(rel, raw)

    def parse(self, rel: str, raw: bytes) -> Note:
        return self._parse(rel, raw).shared(self._seen)

    def _parse(self, rel: str, raw: bytes) -> Note:
        note = Note(rel)
        if b"\0" in raw[:8192]:
            note.warnings.append(ScanWarning(rel, 0, "holds binary data, not text; not read"))
            return note
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            note.warnings.append(
                ScanWarning(
                    rel,
                    line,
                    "not valid UTF-8; read with replacement characters (save it as UTF-8)",
                )
            )
            text = raw.decode("utf-8", errors="replace")
        text = text.removeprefix("\ufeff")
        block = _generated(text)
        if block is not None:  # blanked, not removed: line numbers stay right
            first, last = block
            lines = text.split("\n")
            lines[first : last + 1] = [""] * (last + 1 - first)
            text = "\n".join(lines)
            message = (
                "holds a block vaultsync generated (an old Follow-ups.md?); that block is not "
                "read, the rest is"
            )
            note.warnings.append(ScanWarning(rel, first + 1, message))

        yaml_text, body_start, unclosed = split_front_matter(text)
        if unclosed:
            note.warnings.append(
                ScanWarning(
                    rel,
                    1,
                    "front matter starts with `---` but has no closing `---`; no properties read",
                )
            )
        if yaml_text is not None:
            props = self._load_yaml(note, yaml_text)
            if props:
                note.has_properties = True
                self._extract(note, props, key_lines(yaml_text))
        if note.date is None:
            note.date = date_in_name(note.stem)
        body = text[body_start:]
        first_line = text.count("\n", 0, body_start) + 1
        tasks, too_deep = self.tasks.find(body, first_line, note.folder)
        note.tasks = tuple(tasks)
        for task in tasks:
            if (due := unparsed_due(task)) is not None:
                note.warnings.append(ScanWarning(
                    rel, task.line, f"the task's due date {due} is not a date; it is due as if "
                    "it had none (write 📅 YYYY-MM-DD)"
                ))
        if too_deep is not None:
            note.warnings.append(ScanWarning(
                rel, too_deep, "lists or quotes nested hundreds of levels deep; not read for tasks"
            ))
        return note

    def _load_yaml(self, note: Note, yaml_text: str) -> dict[Any, Any] | None:
        try:
            data = frontmatter.load(yaml_text)
        except yaml.MarkedYAMLError as exc:
            # "while scanning a quoted scalar" points where the quote opened, which is the
            # line to fix; other errors are best shown where the parser stopped.
            scanning = (exc.context or "").startswith("while scanning a quoted scalar")
            mark = (exc.context_mark if scanning else None) or exc.problem_mark or exc.context_mark
            line = mark.line + 2 if mark else 1
            problem = "; ".join(p for p in (exc.context, exc.problem) if p) or "syntax error"
            note.warnings.append(
                ScanWarning(
                    note.path,
                    line,
                    f"front matter is not valid YAML ({problem}); no properties read",
                )
            )
            return None
        except Exception as exc:
            note.warnings.append(
                ScanWarning(
                    note.path,
                    1,
                    f"front matter cannot be read ({type(exc).__name__}); no properties read",
                )
            )
            return None
        if data is None:
            return None
        if not isinstance(data, dict):
            note.warnings.append(
                ScanWarning(
                    note.path, 2, "front matter is not a set of `name: value` properties; ignored"
                )
            )
            return None
        return data

    def _warn(self, note: Note, role: str, message: str) -> None:
        note.warnings.append(ScanWarning(note.path, note.lines.get(role, 1), message))

    def _extract(self, note: Note, props: dict[Any, Any], lines: dict[str, int]) -> None:
        seen: set[str] = set()
        plain: set[Link] = set()  # `reported_back_to` entries with neither a day nor "won't"
        for key, value in props.items():
            name = normalize_name(key)
            role = self.role_of.get(name)
            if role is None:
                continue
            if name in lines:
                note.lines.setdefault(role, lines[name])
            if role in LINK_ROLES:
                if not isinstance(value, str):
                    self._pairs(note, role, name, value)
                found = note.links.get(role, ())
                for text in strings(value, links=True):
                    dated, on = False, None
                    if _unfilled(text):  # would make people of its code
                        self._warn(
                            note, role, f"`{name}`: {_shown(text)} is a template that was never "
                            "filled in; ignored",
                        )
                        continue
                    if role == "reported_back_to":
                        if parse_date(text) is not None:  # `["[[Jo]]", 2026-11-21]`
                            self._warn(
                                note, role, f"`{name}`: {text} is a day, not a person: write it "
                                f'after the person, as one entry: "[[Name]] {text}"',
                            )
                            continue
                        text, dated, on, bad = split_entry(text)
                        if bad is not None:
                            self._warn(
                                note, role, f"`{name}`: '{bad}' after {text} is neither a day "
                                "(YYYY-MM-DD) nor won't; read as reported back, with no day",
                            )
                    links = self._links_of(text, note.folder)
                    for link in links if role == "reported_back_to" else ():
                        known = note.reported_back_dates.get(link)
                        if not dated:  # reported back (on `reported_back`'s day): not "won't"
                            plain.add(link)
                            if link in note.reported_back_dates and known is None:
                                del note.reported_back_dates[link]
                        elif on is not None or link not in plain:
                            # Two closings of one person: the dated one, else the latest, wins.
                            note.reported_back_dates[link] = (
                                on if known is None else known if on is None else max(known, on)
                            )
                    found += links
                if found:
                    note.links[role] = found
                continue
            if role in seen and role not in KIND_ROLES:
                continue  # `org` after `company`: the first one written wins
            seen.add(role)
            self._extract_one(note, role, name, value)
        if note.email is not None:
            written, note.email = note.email, email_address(note.email)
            # Only a person's: a meeting's `email` may well be about the email sent.
            if note.email is None and is_person_note(note, self.people_folders):
                self._warn(
                    note, "email", f"`email`: {_shown(written)} is not an email address (write "
                    "name@example.org); no email link is offered",
                )

    def _extract_one(self, note: Note, role: str, name: str, value: Any) -> None:
        if role in DATE_ROLES:
            if not is_truthy(value):
                return
            # Of a list of days, the last contact is the latest; the date of a meeting that
            # ran over days, or the deadline, the earliest.
            date = parse_day(value, earliest=role != "last_contact")
            if date is None:
                self._warn(
                    note, role, f"`{name}`: {_shown(value)} is not a date (write YYYY-MM-DD)"
                )
            setattr(note, role, date)
        elif role in TEXT_ROLES:
            text = next(strings(value), None)
            setattr(note, role, text or None)
        elif role == "aliases":
            note.aliases = tuple(strings(value))
        elif role in KIND_ROLES:  # `categories: - [[People|Folks]]` names People
            kinds = frozenset().union(*map(self._person_words, strings(value, links=True)))
            if kinds:  # with `kind` and `type` both written, either makes a person
                kinds |= note.keywords.get(role, frozenset())
                note.keywords[role] = self._kinds.setdefault(kinds, kinds)
        elif role == "cadence":
            if not is_truthy(value):
                return
            note.cadence_days = parse_cadence(next(iter(strings(value)), value))
            if note.cadence_days is None:
                self._warn(
                    note,
                    role,
                    f"`{name}`: {_shown(value)} is not a cadence "
                    "(write e.g. 2w, 3m, 1y or quarterly)",
                )
        elif role == "reported_back":
            self._reported_back(note, name, value)
        elif role == "outcome":
            note.outcome = is_truthy(value)

    def _links_of(self, text: str, folder: str) -> tuple[Link, ...]:
        """The links a property's text names, each the one kept (see `__init__`)."""
        links = self._references.get((text, folder))
        if links is None:
            found = parse_reference(text, folder)
            links = self._references[text, folder] = tuple(
                self._links.setdefault(link, link) for link in found
            )
        return links

    def _person_words(self, text: str) -> frozenset[str]:
        """The words of PERSON_WORDS a `type`, `tags` or `categories` text holds: its links'
        note names, or else its keywords."""
        found = self._kind_words.get(text)
        if found is None:
            linked = links_in(text)
            if linked:
                words = {link.target.rsplit("/", 1)[-1].lower() for link in linked}
            else:
                words = keywords(text)
            found = self._kind_words[text] = frozenset(words & PERSON_WORDS)
        return found

    def _pairs(self, note: Note, role: str, name: str, value: Any) -> None:
        """Warn of `name: value` pairs among links (`- Sam: 2026-11-24`), which name nobody."""
        for item in flatten(value, mappings=True):
            if isinstance(item, dict):
                entry = '"[[Sam]] 2026-11-24"' if role == "reported_back_to" else '"[[Sam]]"'
                self._warn(
                    note,
                    role,
                    f"`{name}`: {_shown(item)} is not a link or a name; write each as text, "
                    f"e.g. {entry}",
                )

    def _reported_back(self, note: Note, name: str, value: Any) -> None:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]  # a list is accepted wherever one value is (SPEC §3)
        if not isinstance(value, dict) and not is_truthy(value):
            return  # a mapping is not absent: it is warned about below
        if value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes")):
            note.reported_back = True
            return
        date = parse_day(value)  # reported back on each day of a list: the last is the latest
        if date is None:
            self._warn(
                note,
                "reported_back",
                f"`{name}`: {_shown(value)} is neither a date nor true (write YYYY-MM-DD)",
            )
            return
        note.reported_back, note.reported_back_on = True, date


def _generated(text: str) -> tuple[int, int] | None:
    """The first and the last line (0-based) of what vaultsync generated, outside code: the
    block of an output left behind when `output` moved, or a copy of one, whose lines would
    owe every item a second time. A note showing the markers in a code block is a note."""
    if BEGIN not in text:
        return None
    lines = text.split("\n")
    code = code_lines(text)
    begins = [i for i, line in enumerate(lines) if line.strip() == BEGIN and i not in code]
    ends = [i for i, line in enumerate(lines) if line.strip() == END and i not in code]
    if not begins or not ends or ends[-1] < begins[0]:
        return None
    return begins[0], ends[-1]


_READ_ONLY = os.O_RDONLY | getattr(os, "O_BINARY", 0)


def _read_bytes(path: str) -> bytes:
    """The file's bytes, up to one past MAX_NOTE_BYTES. Bare system calls: a file object
    and its buffer cost more than the reading (6 of the 10 µs a note took)."""
    fd = os.open(path, _READ_ONLY)
    try:
        # Sized by the file: `read(MAX_NOTE_BYTES + 1)` would allocate 64 MiB per note.
        size = min(os.fstat(fd).st_size, MAX_NOTE_BYTES)
        raw = os.read(fd, size + 1)
        if len(raw) == size:
            return raw
        parts = [raw]  # it grew or shrank since, or the read came up short: read to the end
        total = len(raw)
        while total <= MAX_NOTE_BYTES and (more := os.read(fd, MAX_NOTE_BYTES + 1 - total)):
            parts.append(more)
            total += len(more)
        return b"".join(parts)
    finally:
        os.close(fd)


def _shown(value: Any) -> str:
    """A value as the user wrote it, cut short: it may be an alias bomb or nested 1000 deep."""
    return _SHORT.repr(value)


class _Short(reprlib.Repr):
    def repr_date(self, value: dt.date, level: int) -> str:
        return value.isoformat()

    repr_datetime = repr_date


_SHORT = _Short()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring = 2, 4, 4, 60
