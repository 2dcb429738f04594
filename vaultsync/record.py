"""Recording a ticked follow-up in a note: edit the front matter's text, never re-dump it.

The pure functions take a note's whole text and return it with one property added or
changed; every other byte stays as it was: other properties, their order, quoting and
comments, line ends (CRLF stays CRLF), a BOM, the body. They locate the property with the
YAML composer's marks, edit only its lines, and then check the result with the parser (the
other properties unchanged, the new value read as intended); anything they cannot edit that
way raises RecordError instead of guessing.

`record_file` does the I/O: read, edit, and replace atomically only if the note still holds
what was read, so that a change made meanwhile (by Obsidian, a sync client) is never lost.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import RecordError
from .frontmatter import Loader
from .links import composed, fits_wikilink
from .notes import MAX_NOTE_BYTES, WONT, split_front_matter
from .output import SAVE_GAP, FileChanged, write_atomic
from .properties import flatten, normalize_name, parse_date, parse_day, strings

REPORTED_BACK_TO = "reported_back_to"
LAST_CONTACT = "last_contact"
ATTEMPTS = 3  # reads and edits of a note that keeps changing under us, before giving up

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})


# -- values -------------------------------------------------------------------------------


def yaml_quote(text: str) -> str:
    """`text` as a double-quoted YAML scalar that any YAML parser reads back exactly."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char in "\t\n":
            out.append("\\t" if char == "\t" else "\\n")
        elif (
            code < 0x20
            or 0x7F <= code <= 0x9F
            or char in "\u2028\u2029\ufeff"
            or 0xD800 <= code <= 0xDFFF
            or code in (0xFFFE, 0xFFFF)
        ):
            # Line separators would be folded, the rest is refused by YAML readers.
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def reference(target: str) -> str:
    """How a note or a name is written in a property: `[[target]]`, or the bare name when
    it holds a character that a wikilink cannot carry (a bare name resolves the same way)."""
    target = composed(target)
    if fits_wikilink(target):
        return f"[[{target}]]"
    return " ".join(target.split())


def entry_text(person: str, on: dt.date | None) -> str:
    """A `reported_back_to` entry: `[[Sam Rivera]] 2026-11-27`, or `… won't` without a date."""
    return f"{person} {on.isoformat() if on is not None else WONT}"


# -- front matter ---------------------------------------------------------------------------


class _Front:
    """A note's text split around its front matter (Obsidian's rule, as the reader's)."""

    __slots__ = ("bom", "end", "newline", "start", "text", "yaml")

    def __init__(self, text: str) -> None:
        self.bom = "\ufeff" if text.startswith("\ufeff") else ""
        self.text = text[len(self.bom) :]
        first = self.text.find("\n")
        self.newline = "\r\n" if first > 0 and self.text[first - 1] == "\r" else "\n"
        found, _, unclosed = split_front_matter(self.text)
        if unclosed:
            raise RecordError(
                "its front matter starts with `---` but has no closing `---` line; add it"
            )
        self.yaml: str | None = found
        self.start = first + 1 if found is not None else 0
        self.end = self.start + len(found) if found is not None else 0

    def join(self, new_yaml: str) -> str:
        return self.bom + self.text[: self.start] + new_yaml + self.text[self.end :]


def _invalid(exc: Exception) -> RecordError:
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return RecordError(f"its front matter is not valid YAML ({problem}); fix it")


def _compose(text: str) -> MappingNode | None:
    try:
        # The reader's parser (libyaml where installed), or a note it reads could not be
        # edited: PyYAML's own refuses a tab after a value. Both count marks in characters,
        # but libyaml does not count a BOM that starts the text: PyYAML's own reads those.
        node = yaml.compose(text, Loader=yaml.SafeLoader if text[:1] == "\ufeff" else Loader)
    except Exception as exc:  # a YAMLError, or RecursionError on absurd nesting
        raise _invalid(exc) from None
    if node is None:
        return None
    if not isinstance(node, MappingNode):
        raise RecordError(
            "its front matter is not a list of `name: value` lines, so vaultsync cannot add "
            "a property to it"
        )
    if any(key.tag == "tag:yaml.org,2002:merge" for key, _ in node.value):
        # What `<<` brings in is read, but not where an edit would look for it.
        raise RecordError("its front matter merges in properties with `<<`; write them out")
    return node


def _load(text: str) -> dict[Any, Any]:
    """The front matter as the reader loads it (the same loader)."""
    try:
        data = yaml.load(text, Loader=Loader)
    except Exception as exc:
        raise _invalid(exc) from None
    return data if isinstance(data, dict) else {}


def _target(node: MappingNode | None, names: Iterable[str]) -> int | None:
    """The index of the pair to edit: the one the reader takes for the role.

    The reader takes the first property name of a role (in the order written); when that
    exact name is repeated, YAML keeps its last value, so that is the occurrence to edit.
    """
    if node is None:
        return None
    wanted = {normalize_name(n) for n in names}
    keys = [
        k.value
        if isinstance(k, ScalarNode) and k.tag == "tag:yaml.org,2002:str"
        else None
        for k, _ in node.value
    ]
    first = next((k for k in keys if k is not None and normalize_name(k) in wanted), None)
    if first is None:
        return None
    return max(i for i, k in enumerate(keys) if k == first)


def _line_end(text: str, index: int) -> int:
    """The index just past the line break of the line that holds `index`."""
    found = text.find("\n", index)
    return len(text) if found < 0 else found + 1


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _same(a: Node, b: Node) -> bool:
    """Whether two composed nodes say the same thing; aliases are shared nodes, so a memo
    keeps an alias bomb linear, and a stack keeps deep nesting off the call stack."""
    seen: set[tuple[int, int]] = set()
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if (id(x), id(y)) in seen:
            continue
        seen.add((id(x), id(y)))
        if type(x) is not type(y) or x.tag != y.tag:
            return False
        if isinstance(x, ScalarNode) and isinstance(y, ScalarNode):
            if x.value != y.value or x.style != y.style:
                return False
        elif isinstance(x, (SequenceNode, MappingNode)):
            if len(x.value) != len(y.value):
                return False
            if isinstance(x, SequenceNode):
                stack.extend(zip(x.value, y.value, strict=True))
            else:
                for (xk, xv), (yk, yv) in zip(x.value, y.value, strict=True):
                    stack += [(xk, yk), (xv, yv)]
    return True


def _check(
    old: MappingNode | None,
    new_text: str,
    index: int | None,
    key: str,
    value_ok: Callable[[object], bool],
) -> None:
    """Raise unless `new_text` holds every property of `old` unchanged but the one at
    `index` (or a new last one, `key`, when `index` is None), whose value passes `value_ok`."""
    front = _Front(new_text)
    if front.yaml is None:
        raise RecordError("vaultsync could not add front matter to it (please report this)")
    new = _compose(front.yaml)
    before = old.value if old is not None else []
    after = new.value if new is not None else []
    added = 1 if index is None else 0
    ok = len(after) == len(before) + added and all(
        _same(bk, ak) and (i == index or _same(bv, av))
        for i, ((bk, bv), (ak, av)) in enumerate(zip(before, after[: len(before)], strict=True))
    )
    if ok and index is None:
        last = after[-1][0]
        ok = isinstance(last, ScalarNode) and last.value == key
    if ok:
        data = _load(front.yaml)
        ok = key in data and value_ok(data[key])
    if not ok:
        raise RecordError(
            "vaultsync could not edit its front matter without changing other properties "
            f"(please report this); add it by hand as `{key}`"
        )


# -- the edits ------------------------------------------------------------------------------


def add_reported_back_to(
    text: str, entry: str, names: Iterable[str] = (REPORTED_BACK_TO,)
) -> str:
    """`text` with `entry` added to its `reported_back_to` list (any of `names`).

    The list may be written as block lines, a flow `[…]`, one value or nothing; a value
    that is not a list becomes a block list that keeps it as its first entry. An entry
    already there is not added twice.
    """
    front = _Front(text)
    item = yaml_quote(entry)
    nl = front.newline
    if front.yaml is None:
        block = f"---{nl}{REPORTED_BACK_TO}:{nl}  - {item}{nl}---{nl}"
        new_text = front.bom + block + front.text
        _check(None, new_text, None, REPORTED_BACK_TO, lambda v: list(strings(v)) == [entry])
        return new_text
    y = front.yaml
    node = _compose(y)
    index = _target(node, names)
    if node is None or index is None:
        key = REPORTED_BACK_TO
        new_yaml = _append(y, node, f"{key}:{nl}  - {item}{nl}", f'"{key}": [{item}]', nl)
        old_values: list[str] = []
    else:
        key_node, value = node.value[index]
        key = key_node.value
        old_values = list(strings(_load(y).get(key)))
        if entry in old_values:
            return text
        if node.flow_style and not (isinstance(value, SequenceNode) and value.flow_style):
            raise RecordError(
                f"`{key}` is not a `[…]` list in front matter written as JSON; make it one"
            )
        new_yaml = _add_item(y, key_node, value, item, nl)

    expected = [*old_values, entry]
    new_text = front.join(new_yaml)
    _check(node, new_text, index, key, lambda v: list(strings(v)) == expected)
    return new_text


def _append(y: str, node: MappingNode | None, block: str, flow: str, nl: str) -> str:
    """`y` with a new property: `block` (its lines, unindented) after the last one, or
    `flow` (`"key": value`) after the last pair of front matter written as JSON."""
    if node is None:
        return y + block
    if not node.flow_style:
        indent = " " * node.start_mark.column
        return y + "".join(indent + line for line in block.splitlines(keepends=True))
    if not node.value:
        at = node.start_mark.index + 1  # just inside the `{`
        return y[:at] + flow + y[at:]
    last_key, last_value = node.value[-1]
    at = last_value.end_mark.index
    if at < last_key.end_mark.index:
        raise RecordError("its front matter ends with a YAML alias; vaultsync cannot add to it")
    same_line = "\n" not in y[node.start_mark.index : at]
    gap = " " if same_line else nl + " " * last_key.start_mark.column
    return y[:at] + "," + gap + flow + y[at:]


def _add_item(y: str, key_node: Node, value: Node, item: str, nl: str) -> str:
    start, end = value.start_mark.index, value.end_mark.index
    if start < key_node.end_mark.index:
        raise RecordError(f"`{key_node.value}` is a YAML alias (`*name`); write its value out")
    if _bare_link(value):
        # `key: [[A]]` without quotes is YAML for a nested list that the reader takes for a
        # link; it becomes `- "[[A]]"`, as Obsidian writes a link.
        inner = value.value[0].value[0].value
        return _as_block(y, key_node, value, [yaml_quote(f"[[{inner}]]"), item], nl)
    if isinstance(value, SequenceNode) and value.flow_style:
        if not value.value:
            close = end - 1  # the `]`
            return y[:close] + item + y[close:]
        last = value.value[-1].end_mark.index
        if not start < last <= end:
            raise RecordError(f"`{key_node.value}` ends with a YAML alias; write its value out")
        return y[:last] + ", " + item + y[last:]
    if isinstance(value, SequenceNode):
        last = value.value[-1].end_mark.index
        if not start < last <= end:
            raise RecordError(f"`{key_node.value}` ends with a YAML alias; write its value out")
        at = last if y[last - 1] == "\n" else _line_end(y, last)
        first = value.value[0].start_mark.index
        # The list's first `-`: where the list starts, unless an anchor or a tag starts it
        # (`reported_back_to: &told`, on the key's line); then the one before its first item.
        dash_at = start if y[start] == "-" else y.rfind("-", _line_start(y, first), first)
        if dash_at < 0:
            raise RecordError(f"`{key_node.value}` has its first item below its `-`; join them")
        dash = y[_line_start(y, dash_at) : dash_at]  # its indent
        gap = y[dash_at + 1 : first]
        gap = gap if gap and gap.strip(" ") == "" else " "
        return y[:at] + f"{dash}-{gap}{item}{nl}" + y[at:]
    if isinstance(value, ScalarNode):
        # One value (or none) becomes a block list: `key:` then `  - old` and `  - new`.
        items: list[str] = []
        # Plain: a style of None from PyYAML's own parser, "" from libyaml.
        empty = value.value in _NULLS and (not value.style or value.value == "")
        if not empty:
            multiline = "\n" in y[start:end].rstrip("\n")
            items.append(y[start:end] if not multiline else _requoted(y, key_node.value))
        return _as_block(y, key_node, value, [*items, item], nl)
    raise RecordError(
        f"`{key_node.value}` holds `name: value` pairs, not a list of people; make it a list"
    )


def _bare_link(value: Node) -> bool:
    return (
        isinstance(value, SequenceNode)
        and len(value.value) == 1
        and isinstance(value.value[0], SequenceNode)
        and len(value.value[0].value) == 1
        and isinstance(value.value[0].value[0], ScalarNode)
    )


def _as_block(y: str, key_node: Node, value: Node, items: list[str], nl: str) -> str:
    """The value replaced by a block list of `items` on the lines after the key's."""
    start, end = value.start_mark.index, value.end_mark.index
    indent = " " * (key_node.start_mark.column + 2)
    stop = end if end > start and y[end - 1] == "\n" else _line_end(y, end)
    rest = y[end:stop] if stop > end else nl  # a comment after the value, and the line end
    if not rest.endswith("\n"):
        rest += nl
    lines = "".join(f"{indent}- {i}{nl}" for i in items)
    return y[:start].rstrip(" \t") + rest + lines + y[stop:]


def _requoted(y: str, key: str) -> str:
    """A multi-line scalar (quoted over lines, or `|`/`>`) written again on one line."""
    value = _load(y).get(key)
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise RecordError(f"`{key}` is not a list of people; make it a list")
    return yaml_quote(value)


def set_last_contact(text: str, on: dt.date, names: Iterable[str] = (LAST_CONTACT,)) -> str:
    """`text` with its manual last contact (the first of `names` written) set to `on`, or a
    new `last_contact: YYYY-MM-DD` when it has none."""
    front = _Front(text)
    day = on.isoformat()
    nl = front.newline
    if front.yaml is None:
        new_text = front.bom + f"---{nl}{LAST_CONTACT}: {day}{nl}---{nl}" + front.text
        _check(None, new_text, None, LAST_CONTACT, lambda v: parse_date(v) == on)
        return new_text
    y = front.yaml
    node = _compose(y)
    index = _target(node, names)
    if node is None or index is None:
        key = LAST_CONTACT
        new_yaml = _append(y, node, f"{key}: {day}{nl}", f'"{key}": "{day}"', nl)
    else:
        key_node, value = node.value[index]
        key = key_node.value
        old = _load(y).get(key)
        dates = [parse_date(t) for t in strings(old) if t]
        if None in dates or any(isinstance(v, dict) for v in flatten(old, mappings=True)):
            raise RecordError(f"`{key}` holds text that is not a date; write it as YYYY-MM-DD")
        written = max(filter(None, dates), default=None)
        if written is not None and written >= on:
            return text  # a later contact the user wrote stays
        start, end = value.start_mark.index, value.end_mark.index
        if start < key_node.end_mark.index:
            raise RecordError(f"`{key}` is a YAML alias (`*name`); write its value out")
        if _places(node, value) > 1:  # setting it would change them, or drop their anchor
            raise RecordError(
                f"`{key}` is shared with other properties by a YAML anchor (`&name`); write "
                "their values out"
            )
        last = value.value[-1] if isinstance(value, SequenceNode) and value.value else value
        if isinstance(last, ScalarNode) and last.value.lstrip().startswith("[["):
            day = f'"[[{day}]]"'  # a link to a daily note stays one, a log of them gets one
        elif node.flow_style:
            day = f'"{day}"'  # front matter written as JSON stays JSON
        if isinstance(value, SequenceNode) and not _bare_link(value):
            # A log of the days in touch: the day is added to it, none is lost.
            new_yaml = _add_item(y, key_node, value, day, nl)
        elif isinstance(value, ScalarNode) and "\n" not in y[start:end]:
            # Only the value changes: the key as written, a comment after it stay.
            gap = "" if end > start else " "
            new_yaml = y[:start] + gap + day + y[end:]
        else:
            # A daily-note link without quotes, or a value over several lines: the whole
            # value becomes the date.
            colon = y.index(":", key_node.end_mark.index)
            stop = _value_end(y, value)
            new_yaml = y[: colon + 1] + " " + day + y[stop:]
    new_text = front.join(new_yaml)
    _check(node, new_text, index, key, lambda v: parse_day(v) == on)
    return new_text


def _places(node: Node, target: Node) -> int:
    """How many places in `node` hold `target`: more than one when YAML aliases (`*name`)
    repeat it. Each node is looked into once, however often aliases repeat it."""
    count, stack, seen = 0, [node], set()
    while stack:
        current = stack.pop()
        if current is target:
            count += 1
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, MappingNode):
            stack.extend(part for pair in current.value for part in pair)
        elif isinstance(current, SequenceNode):
            stack.extend(current.value)
    return count


def _value_end(y: str, value: Node) -> int:
    """Where the text of a value ends: before the line break of its last line."""
    while isinstance(value, (SequenceNode, MappingNode)) and not value.flow_style and value.value:
        last = value.value[-1]
        value = last[1] if isinstance(last, tuple) else last
    end = value.end_mark.index
    if end > 0 and y[end - 1] == "\n":
        end -= 1
        if end > 0 and y[end - 1] == "\r":
            end -= 1
    return end


# -- the file -------------------------------------------------------------------------------


def record_file(path: Path, edit: Callable[[str], str], *, attempts: int = ATTEMPTS) -> bool:
    """Apply `edit` to the note at `path`; True if the note was rewritten, False if the edit
    changed nothing (already recorded).

    The note is replaced atomically, and only if it still holds the bytes that were edited;
    when it changed meanwhile, it is read and edited again (up to `attempts` times), so a
    change made by someone else is never overwritten. Raises RecordError.
    """
    if path.is_symlink():
        raise RecordError("it is a symbolic link, which vaultsync never follows")
    changing = "it kept changing while vaultsync edited it"
    for _ in range(attempts):
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_NOTE_BYTES + 1)
                st = os.fstat(handle.fileno())
        except FileNotFoundError:
            raise RecordError("it is gone (moved, renamed or deleted)") from None
        except OSError as exc:
            raise RecordError(f"it cannot be read ({exc.strerror or exc})") from None
        if len(raw) > MAX_NOTE_BYTES or b"\0" in raw[:8192]:
            raise RecordError("it is not a text note vaultsync can edit")
        if not raw.strip():
            # A note that owes something is never empty: this is an editor saving it in place
            # (emptied, not yet written). Edited, it would keep only the new property, and the
            # check before replacing it can pass in the gap of the next save.
            changing = "it is empty (or was being saved each time vaultsync read it)"
            time.sleep(SAVE_GAP)
            continue
        # A rewrite replaces the file: it would go through a note made read-only (the folder
        # allows it), and split a note from its other hard links.
        if not st.st_mode & 0o222:
            raise RecordError("it is read-only; make it writable")
        if st.st_nlink > 1:
            raise RecordError("it has other hard links, which rewriting it would break off")
        # surrogateescape: bytes that are not UTF-8 are written back exactly as they were.
        text = raw.decode("utf-8", errors="surrogateescape")
        new = edit(text)
        if new == text:
            return False
        try:
            write_atomic(path, new, expected=raw, keep_owner=True)
        except FileChanged:
            changing = "it kept changing while vaultsync edited it"
            continue
        except OSError as exc:
            raise RecordError(f"it cannot be written ({exc.strerror or exc})") from None
        return True
    raise RecordError(changing)
