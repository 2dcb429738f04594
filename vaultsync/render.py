"""Report → the generated block of Follow-ups.md, and → the JSON result (SPEC §8, §10).

Escaping is the point of most of this module: a note title may hold `]]`, `|`, `%%`, `#`
or a newline, and none of them may break a link, a table row, the graph or the markers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from functools import lru_cache
from operator import attrgetter, itemgetter
from typing import Any, TypeVar, cast
from urllib.parse import quote

from .links import UNSAFE_IN_WIKILINK, composed, fits_wikilink
from .model import FollowUp, Person, PersonRow, Report
from .output import BEGIN, END
from .properties import email_address

T = TypeVar("T")
CACHED = 1 << 16  # people's links and addresses kept rendered: enough for 50,000 notes

SECTIONS = (
    ("overdue", "Overdue"),
    ("due", "Due this week"),
    ("ready", "Ready to report"),
    ("upcoming", "Upcoming"),
    ("undated", "Undated"),
    ("reconnect", "Reconnect"),
)
REASON_TEXT = {
    "introduction": "they introduced you",
    "advice": "their advice",
    "explicit": "you said you would",
    "task": "open task",
    "cadence": "keep in touch",
}

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|%~=$^])")
_WHITESPACE = re.compile(r"\s+")


def one_line(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def escape_text(text: str) -> str:
    """Plain text that Markdown, Obsidian comments (`%%`), tags and tables leave alone."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(text))


def link(target: str, shown: str, *, in_table: bool = False) -> str:
    """An internal link to `target` (a vault path without `.md`, or a name) showing `shown`.

    A wikilink where the names allow one; otherwise a Markdown link with a percent-encoded
    path, which Obsidian resolves the same way and which no character can break.
    """
    target, shown = composed(target), composed(shown)
    shown = one_line(shown) or target
    if fits_wikilink(target):
        if shown == target.rsplit("/", 1)[-1] and "/" not in target:
            return f"[[{target}]]"
        if not UNSAFE_IN_WIKILINK.search(shown):
            return f"[[{target}\\|{shown}]]" if in_table else f"[[{target}|{shown}]]"
    href = quote(target + ".md", safe="/")
    return f"[{escape_text(shown)}]({href})"


# People's links and addresses are cached: a vault names the same people on many lines. A
# note is named on its own lines alone, which `Kept` keeps for the watcher (cached, the
# 14,000 notes' links and subjects took 6 MB at 50,000 notes).
@lru_cache(maxsize=CACHED)
def person_link(person: Person, *, in_table: bool = False) -> str:
    target = person.note[:-3] if person.note else person.name
    return link(target, person.display, in_table=in_table)


def note_link(path: str) -> str:
    return link(path[:-3], path.rsplit("/", 1)[-1][:-3])


def mailto(person: Person, subject: str) -> str:
    address = _address(person.email)
    return f" [✉️ email](mailto:{address}?subject={_subject(subject)})" if address else ""


@lru_cache(maxsize=CACHED)
def _address(email: str | None) -> str:
    """The address, percent-encoded for a mailto link; empty if it is not one."""
    address = email_address(email or "")
    return quote(address, safe="@") if address else ""


def _subject(subject: str) -> str:
    return quote(one_line(subject), safe="")


def task_line(f: FollowUp, mark: str = " ") -> str:
    if f.kind == "reconnect":
        text = f"Reconnect with {person_link(f.person)}"
        subject = "Catching up"
        why = REASON_TEXT["cadence"]
    else:
        assert f.source is not None
        text = f"Report back to {person_link(f.person)} on {note_link(f.source)}"
        subject = "Update: " + f.source.rsplit("/", 1)[-1][:-3]
        why = ", ".join(REASON_TEXT[r] for r in f.reasons)
        if f.ready:
            why += "; outcome known"
    due = f" 📅 {f.due.isoformat()}" if f.due else ""
    return f"- [{mark}] {text} ({why}){mailto(f.person, subject)}{due} ^{f.id}"


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class Kept:
    """Lines as last rendered, by the object they were rendered from: the ledger hands back
    the very follow-ups and rows that did not change, so after an edit the watcher formats
    a few lines, not 15,000, and looks the others up in one pass at C speed (looked up one
    at a time, they took half of an edit's time). Follow-ups and rows are not changed once
    built. Only lines without a tick are kept: a tick not yet recorded is rare. Kept as
    UTF-8: as text, a line with 📅 takes 4 bytes a character."""

    __slots__ = ("_graph", "_kept")

    def __init__(self) -> None:
        # id -> (the object, its line, its section); holding the object keeps its id unique.
        self._kept: dict[int, tuple[Any, bytes, str]] = {}
        self._graph: tuple[tuple[tuple[Person, Person], ...], list[bytes]] = ((), [])

    def lines(
        self, objects: Sequence[T], make: Callable[[T], str], section: Callable[[T], str]
    ) -> list[tuple[T, bytes, str]]:
        """Each object's line (without a tick) and section, made for those not kept."""
        kept = self._kept
        found = list(map(kept.get, map(id, objects)))
        at = 0
        with suppress(ValueError):  # `index` runs out: every object has its line
            while True:
                at = found.index(None, at)
                of = objects[at]
                found[at] = kept[id(of)] = (of, _utf8(make(of)), section(of))
                at += 1
        return cast("list[tuple[T, bytes, str]]", found)

    def graph(self, introductions: Sequence[tuple[Person, Person]]) -> list[bytes]:
        pairs = tuple(introductions)
        if pairs != self._graph[0]:
            self._graph = (pairs, [_utf8(line) for line in graph_lines(pairs)])
        return self._graph[1]

    def rendered(self, *used: Sequence[object]) -> None:
        """One render is done, of the objects in `used`. Lines of objects gone are let go
        once they are an eighth of the rest, not on every render: that would build the table
        anew on every edit the watcher sees. (Let go only once they outnumbered the rest, they
        held up to 11 MB more in a watcher of 50,000 notes.)"""
        count = sum(map(len, used))
        if len(self._kept) > count + count // 8 + 64:
            self._kept = {id(of): self._kept[id(of)] for group in used for of in group}


class _Unkept(Kept):
    """Lines rendered once and let go (a one-shot scan)."""

    __slots__ = ()

    def lines(
        self, objects: Sequence[T], make: Callable[[T], str], section: Callable[[T], str]
    ) -> list[tuple[T, bytes, str]]:
        return [(of, _utf8(make(of)), section(of)) for of in objects]

    def rendered(self, *used: Sequence[object]) -> None:
        pass


def _no_section(_: object) -> str:
    return ""


def section_of(f: FollowUp) -> str:
    if f.kind == "reconnect":
        return "reconnect"
    if f.ready and f.status not in ("overdue", "due"):
        return "ready"  # urgency first: an overdue ready item stays under Overdue
    return f.status


def mermaid_label(text: str) -> str:
    text = one_line(text).replace("#", "#35;").replace('"', "#quot;")
    for char, code in (("<", "#lt;"), (">", "#gt;"), ("`", "#96;"), ("%", "#37;")):
        text = text.replace(char, code)
    return text


def row_line(row: PersonRow) -> str:
    last = row.last_contact.isoformat() if row.last_contact else "—"
    link = person_link(row.person, in_table=True)
    return f"| {link} | {last} | {row.open} | {row.reported_back} |"


def graph_lines(introductions: Sequence[tuple[Person, Person]]) -> list[str]:
    """The introductions as a mermaid graph, each person a node named by their note."""
    nodes: dict[str, str] = {}
    for pair in introductions:
        for person in pair:
            # Composed: Obsidian also reads a node's text as the name of the note it opens.
            nodes.setdefault(person.key, composed(person.name))
    ids = {key: f"p{i}" for i, key in enumerate(sorted(nodes, key=lambda k: (nodes[k], k)))}
    return [
        "```mermaid",
        "graph LR",
        *(f'  {ids[k]}["{mermaid_label(nodes[k])}"]' for k in ids),
        *(f"  {ids[a.key]} --> {ids[b.key]}" for a, b in introductions),
        f"  class {','.join(ids.values())} internal-link",
        "```",
    ]


def render_block(report: Report, *args: Any, **kwargs: Any) -> bytes:
    """`render_lines` as one block: UTF-8, markers included, `\n` line ends and no trailing
    newline."""
    return b"\n".join(render_lines(report, *args, **kwargs))


def render_lines(
    report: Report,
    graph: bool = True,
    ticked: Mapping[str, str] | None = None,
    *,
    record_ticks: bool = True,
    orphans: Sequence[str] = (),
    kept: Kept | None = None,
    horizon_days: int = 7,
) -> list[bytes]:
    """The generated block's lines in UTF-8, markers included, without line ends.

    `ticked` maps the id of an item to the mark its line keeps (`x`, `-`): a tick that is
    not recorded yet must survive the rewrite, or the user's answer would be lost. For the
    same reason `orphans`, ticked lines whose item is gone, are kept as they were written.
    `kept`: the lines of the last render, for the objects that come back; without it, the
    lines are not kept. `horizon_days` names the section of items due soon.
    """
    kept = kept or _Unkept()
    how = (
        "Tick a box (`[x]`, or `[-]`: you won't) to record it in its note."
        if record_ticks
        else "Ticks are not recorded (`record_ticks = false` in .vaultsync.toml)."
    )
    open_count = len(report.followups)
    reported = sum(not f.wont for f in report.closed)
    overdue = list(map(attrgetter("status"), report.followups)).count("overdue")
    out = [
        _utf8(line)
        for line in (
            BEGIN,
            "> [!info] Generated by vaultsync",
            f"> {how} Rewritten by `vaultsync scan` or `vaultsync watch`; other edits between "
            "the markers are lost. Write above or below them.",
            f"> **{open_count}** open · **{overdue}** overdue · **{reported}** "
            "reported back",
        )
    ]
    grouped: dict[str, list[bytes]] = {key: [] for key, _ in SECTIONS}
    marks = {i: m for i, m in (ticked or {}).items() if m != " "}
    entries = kept.lines(report.followups, task_line, section_of)
    if marks:
        for f, line, section in entries:
            grouped[section].append(_utf8(task_line(f, marks[f.id])) if f.id in marks else line)
    else:  # the usual case, and a loop that leaves the 15,000 follow-ups themselves alone
        for _, line, section in entries:
            grouped[section].append(line)
    for key, title in SECTIONS:
        if key == "due" and horizon_days != 7:  # "this week" only when it is one
            title = f"Due within {horizon_days} day{'s' * (horizon_days != 1)}"
        if grouped[key]:
            out += [b"", _utf8(f"## {title}"), *grouped[key]]
    if orphans:
        out += [b"", b"## Ticked, not recorded", *map(_utf8, orphans)]

    rows = [r for r in report.people if r.open or r.reported_back or r.person.cadence_days]
    if rows:
        out += [
            b"",
            b"## People",
            b"| Person | Last contact | Open | Reported back |",
            b"| --- | --- | --: | --: |",
            *map(itemgetter(1), kept.lines(rows, row_line, _no_section)),
        ]
    if graph and report.introductions:
        out += [b"", b"## Introductions", *kept.graph(report.introductions)]
    # A blank line first: right after a table row (or a list item, or the callout) the marker,
    # and whatever the user writes under it, would be read as part of it.
    out += [b"", _utf8(END)]
    kept.rendered(report.followups, rows)
    return out


def followup_json(f: FollowUp) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": f.id,
        "kind": f.kind,
        "person": f.person.name,
        "person_note": f.person.note,
        "source": f.source,
        "reasons": list(f.reasons),
        "due": f.due.isoformat() if f.due else None,
        "status": f.status,
        "ready": f.ready,
    }
    if f.status == "closed":
        data["closed_on"] = f.closed_on.isoformat() if f.closed_on else None
    return data


def report_json(report: Report) -> dict[str, Any]:
    return {
        "today": report.today.isoformat(),
        "followups": [followup_json(f) for f in report.followups],
        "closed": [followup_json(f) for f in report.closed],
        "people": [
            {
                "person": row.person.name,
                "note": row.person.note,
                "last_contact": row.last_contact.isoformat() if row.last_contact else None,
                "open": row.open,
                "reported_back": row.reported_back,
            }
            for row in report.people
        ],
        "warnings": [
            {"path": w.path, "line": w.line, "message": w.message} for w in report.warnings
        ],
    }
