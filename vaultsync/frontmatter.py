"""Front matter as YAML: the shape Obsidian's Properties panel writes, read without YAML's
machinery; anything else, by libyaml.

Most notes hold only `name: value` lines and lists of `- value` lines, with plain or quoted
text and dates. Building Python values for those through PyYAML costs more than all the rest
of reading a note, so `simple` reads them itself, and gives up (`NOT_SIMPLE`) at the first
thing outside that shape: then `load` asks libyaml, whose answer is the reference. Plain
scalars are typed by PyYAML's own resolver, so `yes`, `~` or `2026-11-27` mean what they
mean to YAML. A differential test holds the two to the same answers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import yaml

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 10x faster


class Loader(_BaseLoader):  # type: ignore[misc]
    """The safe loader, except that an impossible date (`2026-02-30`) stays text, to be
    warned about as a bad date, instead of failing the whole front matter."""

    def construct_yaml_timestamp(self, node: Any) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


Loader.add_constructor("tag:yaml.org,2002:timestamp", Loader.construct_yaml_timestamp)

NOT_SIMPLE = object()
MAX_KEY = 1000  # characters before a name's colon; YAML allows 1024

# What YAML reads as a scalar of one line: double-quoted without escapes, single-quoted
# without quotes inside, or plain: no indicator first, no `:` before a space or the end (it
# would end the scalar) and no `#` after a space (a comment): `https://x.org/#a` is one.
_QUOTED = r""""([^"\\]*)"|'([^']*)'"""
_FIRST = r"""[^\s\-?:,\[\]{}#&*!|>'"%@`]"""  # no indicator, no space
# Spaces only between other characters: a plain scalar never ends in one, so that the `[ ]*`
# after it takes them, once (a body that could end in spaces made a run of them quadratic).
_SCALAR = rf"""(?:{_QUOTED}|({_FIRST}(?:[ ]*(?:[^ :#]|:(?=[^\s])|(?<=[^\s])\#))*))"""
# A list written `[a, "b c", 2026-11-27]`: the same, where a plain one also stops at `,[]{}`
# (and, to keep it simple, has no `:` or `#` at all).
_FLOW_ITEM = rf"""(?:{_QUOTED}|({_FIRST}(?:[ ]*[^ :#,\[\]{{}}])*))"""
_FLOW = re.compile(rf"\[[ ]*(?:{_FLOW_ITEM}[ ]*(?:,[ ]*{_FLOW_ITEM}[ ]*)*)?\]")
_FLOW_ITEMS = re.compile(rf"[ ]*{_FLOW_ITEM}[ ]*(?:,|$)")
_ENTRY = re.compile(rf"{_SCALAR}[ ]*:(?:[ ]+(?:{_SCALAR}|(\[.*\])))?[ ]*")
_ITEM = re.compile(rf"([ ]*)-(?:[ ]+{_SCALAR})?[ ]*")
# Characters YAML refuses to read at all (its reader's rule).
_UNREADABLE = re.compile(r"[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Tabs, other line breaks YAML knows (and a BOM) follow rules of their own: libyaml's.
_ODD = re.compile(r"[\t\r\x85\u2028\u2029\ufeff]")
_resolve: Callable[[type, str, tuple[bool, bool]], str] = yaml.resolver.Resolver().resolve
_STR = "tag:yaml.org,2002:str"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


def _flow(text: str) -> Any:
    """The list a one-line flow sequence holds, or NOT_SIMPLE."""
    if not _FLOW.fullmatch(text):
        return NOT_SIMPLE
    inner = text[1:-1]
    if not inner.strip(" "):
        return []
    out = []
    for match in _FLOW_ITEMS.finditer(inner):
        value = _scalar(*match.groups())
        if value is NOT_SIMPLE:
            return NOT_SIMPLE
        out.append(value)
    return out


def _scalar(double: str | None, single: str | None, plain: str | None) -> Any:
    """The value of one scalar as YAML gives it, or NOT_SIMPLE."""
    if double is not None:
        return double
    if single is not None:
        return single
    if plain is None:
        return None  # nothing written: null
    return _plain(plain) if len(plain) <= SHORT else _typed(plain)


def _typed(plain: str) -> Any:
    """The value of a plain scalar (text, null, a bool, an int, a date), or NOT_SIMPLE."""
    tag = _resolve(yaml.ScalarNode, plain, (True, False))
    if tag == _STR:
        return plain
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return yaml.SafeLoader.bool_values[plain.lower()]
    if tag == "tag:yaml.org,2002:int" and _DECIMAL.fullmatch(plain):
        return int(plain)  # not `012` (octal to YAML), `1_000` or `1:30` (sexagesimal)
    if tag == "tag:yaml.org,2002:timestamp" and len(plain) == 10:
        try:
            return dt.date(int(plain[:4]), int(plain[5:7]), int(plain[8:]))
        except ValueError:
            return plain  # as `Loader` does: a bad date stays text
    return NOT_SIMPLE  # numbers, times, merge keys: left to libyaml


# Typing a plain scalar by YAML's resolver took half of reading the front matter, and a vault
# writes the same few short values (`meeting`, `person`, the days) in note after note. The
# values are never changed once read, so one can stand for every equal one.
SHORT = 100
_plain = lru_cache(maxsize=4096)(_typed)


def simple(text: str) -> Any:
    """The front matter's properties if it has the simple shape, else NOT_SIMPLE."""
    if _ODD.search(text) or _UNREADABLE.search(text):
        return NOT_SIMPLE
    data: dict[Any, Any] = {}
    pending: dict[str, list[Any]] = {}  # lists begun by `name:` with no value
    items: list[Any] | None = None  # the list being read, after `name:` with no value
    indent = -1
    for line in text.split("\n"):
        if not line.strip(" ") or line.lstrip(" ").startswith("#"):
            continue  # blank lines and whole-line comments mean nothing
        item, entry = _line(line) if len(line) <= SHORT else _read_line(line)
        if item is not None and items is not None and indent in (-1, item[0]):
            if item[1] is NOT_SIMPLE:
                return NOT_SIMPLE
            indent = item[0]
            items.append(item[1])
            continue
        if entry is NOT_SIMPLE:
            return NOT_SIMPLE
        name, value, opens = entry
        items = None
        if opens:
            items, indent = [], -1
            value = pending[name] = items  # None again below if no item follows
        elif isinstance(value, tuple):
            value = list(value)  # a list of its own for each note
        data[name] = value
    for name, value in pending.items():
        if data[name] is value and not value:
            data[name] = None
    return data or None


Item = tuple[int, Any]  # a `- value` line: its indentation, and the value or NOT_SIMPLE


def _read_line(line: str) -> tuple[Item | None, Any]:
    """A line as a list item (if it is one), and as `name: value` (name, value, and whether
    a list follows) or NOT_SIMPLE; a list written `[a, b]` is given as a tuple."""
    item = _ITEM.fullmatch(line)
    read = None if item is None else (len(item.group(1)), _scalar(*item.group(2, 3, 4)))
    entry = _ENTRY.fullmatch(line)
    if entry is None or (line.startswith("...") and line[3:4] in ("", " ")):
        return read, NOT_SIMPLE  # `...` ends the YAML document: what follows is an error
    long = len(line) > MAX_KEY  # else its name is short enough, without looking
    if long and line.index(":", max(entry.end(1), entry.end(2), entry.end(3))) > MAX_KEY:
        return read, NOT_SIMPLE  # YAML refuses a name this long
    name = _scalar(*entry.group(1, 2, 3))
    if not isinstance(name, str):
        return read, NOT_SIMPLE  # a name YAML reads as null, true or a date: libyaml decides
    flow = entry.group(7)
    value = _scalar(*entry.group(4, 5, 6)) if flow is None else _flow(flow)
    if value is NOT_SIMPLE:
        return read, NOT_SIMPLE
    if isinstance(value, list):
        value = tuple(value)
    return read, (name, value, entry.group(4, 5, 6, 7) == (None, None, None, None))


# Like short values, the same short lines come in note after note (`type: meeting`, each
# person's `  - "[[Name]]"`): each is read once.
_line = lru_cache(maxsize=4096)(_read_line)


def load(text: str) -> Any:
    """The front matter's value, as `yaml.load(text, Loader)` gives it (and raises)."""
    data = simple(text)
    if data is NOT_SIMPLE:
        data = yaml.load(text, Loader=Loader)
    return data
