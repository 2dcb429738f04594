"""Front-matter values as Obsidian users write them: names, dates, cadences, keywords.

Everything here is pure and never raises on odd input: a value that cannot be read returns
None (or an empty tuple) and the caller turns that into a warning.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from functools import lru_cache

_NAME_SEPARATORS = re.compile(r"[\s_-]+")
# A time may follow, and a zone after a space, as blogs' front matter has it (`14:30:00 +0100`).
_ISO_DATE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ][0-9]{1,2}:[0-9]{2}\S*"
    r"(?:[ \t]+[+-][0-9]{2}:?[0-9]{2})?(?:[ \t]+(?:Z|UTC|GMT|[A-Z]{1,4}T))?)?"
)
_DAILY_LINK = re.compile(
    r"\[\[\s*(?:[^\[\]|#]*/)?([0-9]{4}-[0-9]{2}-[0-9]{2})\s*(?:\|[^\]]*)?\]\]"
)
_CADENCE = re.compile(r"([0-9]{1,4})\s*([dwmy])", re.IGNORECASE)
_CADENCE_WORDS = {
    "daily": 1,
    "weekly": 7,
    "biweekly": 14,
    "fortnightly": 14,
    "monthly": 30,
    "quarterly": 90,
    "yearly": 365,
    "annually": 365,
}
_CADENCE_UNITS = {"d": 1, "w": 7, "m": 30, "y": 365}

# Flattening is bounded so that a YAML alias bomb (a few lines that expand to billions of
# items when walked) costs at most MAX_VISITS steps, however deep or wide it is.
MAX_ITEMS = 256
MAX_DEPTH = 8
MAX_VISITS = 4096


@lru_cache(maxsize=4096, typed=True)  # a vault uses a few dozen names, in every note
def normalize_name(name: object) -> str:
    """`Introduced By`, `introduced-by` and `introduced_by` are one property name."""
    return _NAME_SEPARATORS.sub("_", str(name).strip().lower())


def flatten(value: object, *, mappings: bool = False) -> list[object]:
    """A single value or a list (nested lists included) as a flat list of non-empty scalars
    (and, with `mappings`, the mappings among them)."""
    # Most values are one text, one other value or a list of texts: what the walk below
    # gives for them, without the walking (it took a tenth of reading a note).
    if isinstance(value, str):
        return [value] if value.strip() else []
    if not isinstance(value, (list, tuple, dict)):
        return [] if value is None else [value]
    if type(value) is list and all(type(item) is str for item in value[:MAX_ITEMS]):
        return [item for item in value[:MAX_ITEMS] if item.strip()]
    out: list[object] = []
    stack: list[tuple[object, int]] = [(value, 0)]
    visits = 0
    while stack and len(out) < MAX_ITEMS and visits < MAX_VISITS:
        item, depth = stack.pop()
        visits += 1
        if isinstance(item, (list, tuple)):
            if depth < MAX_DEPTH:
                stack.extend((element, depth + 1) for element in reversed(item[:MAX_ITEMS]))
        elif isinstance(item, str):
            if item.strip():
                out.append(item)
        elif item is not None and (mappings or not isinstance(item, dict)):
            out.append(item)
    return out


def unwrap_bare_link(value: object, *, item: bool = False) -> object:
    """`people: [[Bob]]` without quotes is YAML for a nested list; the user meant a link.
    With `item`, also as a list item (`- [[Bob|B]]`), which is one list deeper."""
    if item and isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], (str, dt.date)):
        return f"[[{value[0]}]]"
    return value


def strings(value: object, *, links: bool = False) -> Iterator[str]:
    """Every scalar of a value as text, with `[[x]]` written without quotes read as a link
    (with `links`, for a property of links, also as a list item)."""
    if isinstance(value, list):
        value = [unwrap_bare_link(v, item=links) for v in value[:MAX_ITEMS]]
    for item in flatten(value):
        if isinstance(item, bool):
            continue
        if isinstance(item, dt.date):
            item = (
                item.isoformat() if not isinstance(item, dt.datetime) else item.date().isoformat()
            )
        yield str(item).strip()


def parse_date(value: object) -> dt.date | None:
    """A YAML date or datetime, `YYYY-MM-DD` (with an optional time) or `[[YYYY-MM-DD]]`."""
    for _ in range(2):  # `[[2026-01-02]]` unquoted is a list in a list
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    link = _DAILY_LINK.fullmatch(text)
    if link:
        text = link.group(1)
    return _calendar_date(_ISO_DATE.fullmatch(text))


def parse_day(value: object, *, earliest: bool = False) -> dt.date | None:
    """A date (see `parse_date`), or of a list of days (SPEC §3: a list is accepted wherever
    one value is) the latest, or with `earliest` the earliest; None when a list holds
    something that is not a day."""
    date = parse_date(value)
    if date is not None or not isinstance(value, list) or not value:
        return date
    found = [parse_date(item) for item in value[:MAX_ITEMS]]
    days = [day for day in found if day is not None]
    if len(days) < len(found):
        return None
    return min(days) if earliest else max(days)


def date_in_name(stem: str) -> dt.date | None:
    """The `YYYY-MM-DD` a file name starts with, as in `2026-11-20 Coffee with Carol`."""
    return _calendar_date(re.match(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?![0-9])", stem))


def _calendar_date(match: re.Match[str] | None) -> dt.date | None:
    """The date of a year-month-day match, None when there is none or no such day exists."""
    if not match:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def parse_cadence(value: object) -> int | None:
    """`Nd`, `Nw`, `Nm` (30 days), `Ny` (365 days) or a word such as `quarterly`, in days."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    text = str(value).strip().lower()
    if text in _CADENCE_WORDS:
        return _CADENCE_WORDS[text]
    match = _CADENCE.fullmatch(text)
    if not match or int(match.group(1)) == 0:
        return None
    return int(match.group(1)) * _CADENCE_UNITS[match.group(2).lower()]


_ADDRESS = re.compile(r"[^@\s<>()\[\]\\,;:\"]+@([^@\s<>()\[\]\\,;:\"]+)")  # linear: no backtracking
# `[Dana](mailto:dana@x.io)`, `Dana <dana@x.io>`: the address in what people paste.
_MAILTO_LINK = re.compile(r"\[[^\]\n]*\]\(\s*<?(mailto:[^()<>\s]*)>?\s*\)")
_ANGLED = re.compile(r"<([^<>\n]*)>")


def email_address(text: str) -> str | None:
    """The email address in an `email` property, as written, pasted from a mail client
    (`Dana <dana@x.io>`) or as a link; None when there is none."""
    text = text.strip()
    found = _MAILTO_LINK.fullmatch(text) or _ANGLED.search(text)
    address = (found.group(1) if found else text).strip().removeprefix("mailto:")
    match = _ADDRESS.fullmatch(address)
    return address if match and "." in match.group(1).strip(".") else None


def keywords(value: object) -> set[str]:
    """Tag-like values, lower-cased, without `#`: `"#person, work"` gives {person, work}.

    A nested tag `people/colleagues` also counts as its first segment, `people`.
    """
    out: set[str] = set()
    for text in strings(value):
        for word in re.split(r"[,\s]+", text):
            word = word.strip().lstrip("#").strip("\"'").lower()
            if word:
                out.add(word)
                out.add(word.split("/", 1)[0])
    return out


def is_truthy(value: object) -> bool:
    """A property that is set to something: not null, not an empty string or list, not false."""
    return bool(flatten(value)) and value is not False
