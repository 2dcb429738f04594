"""Report-back tasks in a note's body: `- [ ] Report back to [[Bob]] 📅 2026-12-01`.

markdown-it decides what is a task, so that a task-like line in fenced code or an HTML
block is never taken for one. It only runs on bodies that a cheap regex says may hold a
task with a report-back phrase: parsing every body would cost many times the whole scan.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .config import PHRASE_SEPARATORS
from .links import Link, links_in
from .properties import parse_date

_CHECKBOX = re.compile(r"\[([^\]\n])\](?:[ \t]+|$)")
# The Tasks plugin takes 📆 and 🗓 for a due date as well.
_DUE = re.compile(r"[📅📆🗓]\ufe0f?\s*(\d{4}-\d{2}-\d{2})|[\[(]due::\s*(\d{4}-\d{2}-\d{2})\s*[\])]")
# Without a due date, the day the task is scheduled for (the Tasks plugin's ⏳).
_SCHEDULED = re.compile(
    r"⏳\ufe0f?\s*(\d{4}-\d{2}-\d{2})|[\[(]scheduled::\s*(\d{4}-\d{2}-\d{2})\s*[\])]"
)
_DONE = re.compile(
    r"✅\ufe0f?\s*(\d{4}-\d{2}-\d{2})|[\[(]completion::\s*(\d{4}-\d{2}-\d{2})\s*[\])]"
)

_BOX = re.compile(r"\[[^\]\n]\]")  # what every candidate line holds (see `TaskFinder`)
OPEN, DONE, CANCELLED = "open", "done", "cancelled"
# A line whose indentation, quote and list markers run this long is nested past any outline
# a person writes (~200 levels); parsing it would exhaust Python's recursion.
_TOO_DEEP = re.compile(r"^[ \t>*+\-0-9.)]{400}.*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Task:
    line: int  # 1-based, in the whole file
    text: str
    status: str  # OPEN, DONE or CANCELLED
    due: dt.date | None
    done_on: dt.date | None
    links: tuple[Link, ...]

    def __reduce__(self) -> tuple[type[Task], tuple[object, ...]]:  # see `Note.__reduce__`
        return type(self), tuple(map(self.__getattribute__, self.__slots__))


@lru_cache(maxsize=1)
def _parser() -> Any:
    # Imported here: most scans never need it, and it is the slowest import we have.
    from markdown_it import MarkdownIt

    # Outliners nest lists deep; each level costs markdown-it two levels of nesting. Deeper
    # lines than _TOO_DEEP allows are blanked before parsing, so this bound is never reached
    # (past it markdown-it would silently drop the rest of the body).
    md = MarkdownIt("commonmark", {"maxNesting": 600})
    md.core.ruler.disable(["inline", "text_join"])  # block structure is all a task needs
    return md


def _code(tokens: list[Any]) -> set[int]:
    return {n for t in tokens if t.type in ("fence", "code_block") and t.map for n in range(*t.map)}


def code_lines(text: str) -> set[int]:
    """The lines (0-based) of the text's code blocks, fenced or indented."""
    return _code(_parser().parse(text))


def unparsed_due(task: Task) -> str | None:
    """The due date written on the task when it is not a date (`📅 2026-13-45`)."""
    match = _DUE.search(task.text) if task.due is None else None
    return (match.group(1) or match.group(2)) if match else None


def done_on(text: str) -> dt.date | None:
    """The ✅ (or `[completion:: …]`) date in a task's text."""
    return _first_date(_DONE, text)


def _first_date(pattern: re.Pattern[str], text: str) -> dt.date | None:
    match = pattern.search(text)
    return parse_date(match.group(1) or match.group(2)) if match else None


def _due(text: str) -> dt.date | None:
    """The due date, or without one written the scheduled day: not when the due date is
    written wrong (`unparsed_due` warns of it, and the task is due as if it had none)."""
    return _first_date(_DUE if _DUE.search(text) else _SCHEDULED, text)


_TICKS = re.compile(r"`+")


def _without_code_spans(line: str) -> str:
    """The line without its inline code: a run of backticks opens a span that the next run
    of the same length closes. Linear: each run's closing run is looked up, not searched."""
    runs = [(m.start(), m.end()) for m in _TICKS.finditer(line)]
    if len(runs) < 2:
        return line
    closing: dict[int, int] = {}  # run -> the next run of its length
    following: dict[int, int] = {}  # length -> the nearest run of it, from the end back
    for i in range(len(runs) - 1, -1, -1):
        length = runs[i][1] - runs[i][0]
        if length in following:
            closing[i] = following[length]
        following[length] = i
    kept, at, i = [], 0, 0
    while i < len(runs):
        if i in closing:
            kept.append(line[at : runs[i][0]])
            at, i = runs[closing[i]][1], closing[i] + 1
        else:
            i += 1
    return "".join(kept) + line[at:]


# Obsidian's and HTML comments within a line (or from where they open to its end).
_INLINE_COMMENT = re.compile(r"%%.*?(?:%%|$)|<!--.*?(?:-->|$)", re.DOTALL)


def _visible(text: str) -> str:
    """A task's text as Obsidian shows it: a link, a phrase or a 📅 in inline code or in a
    comment is not the task's."""
    if "`" in text:
        text = _without_code_spans(text)
    return _INLINE_COMMENT.sub(" ", text) if "%" in text or "<!" in text else text


def _is_day(link: Link) -> bool:
    """A link to a daily note (`on [[2026-12-05]]`): a day, not a person to report back to."""
    return parse_date(link.target.rsplit("/", 1)[-1]) is not None


def _in_comments(body: str, code: set[int]) -> set[int]:
    """The lines (0-based) that begin inside an Obsidian comment, `%%` to `%%`: Obsidian
    hides them, and the Tasks plugin does not see tasks in them. `%%` in code (the `code`
    lines, and inline code) is text, unless the code itself is inside a comment."""
    hidden: set[int] = set()
    inside = False
    for number, line in enumerate(body.split("\n")):
        if inside:
            hidden.add(number)
        elif number in code:
            continue
        if "%%" in line and _without_code_spans(line).count("%%") % 2:
            inside = not inside
    return hidden


def _spaced(char: str) -> bool:
    """Whether `char` is a letter or digit of an alphabet written with spaces between words
    (Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic), not of one without (Chinese, Thai)."""
    return char.isalnum() and ord(char) < 0x0700


def _words(phrase: str) -> str:
    """A phrase as a pattern that its words match however they are joined (see
    PHRASE_SEPARATORS)."""
    between = f"(?:{PHRASE_SEPARATORS.pattern})?"
    return between.join(map(re.escape, PHRASE_SEPARATORS.split(phrase)))


def _whole(phrase: str) -> str:
    """A phrase as whole words, or their plural: "follow upstream" is no follow-up. Where
    words are not spaced apart, any place in the text is a word's edge."""
    before = r"(?<!\w)" if _spaced(phrase[:1]) else ""
    after = r"s?(?!\w)" if _spaced(phrase[-1:]) else ""
    return before + _words(phrase) + after


class TaskFinder:
    """Finds the report-back tasks of note bodies, for one list of phrases."""

    def __init__(self, phrases: tuple[str, ...]) -> None:
        words = "|".join(map(_words, phrases)) or "(?!)"
        self.phrases = re.compile("|".join(map(_whole, phrases)) or "(?!)", re.IGNORECASE)
        # A line that looks like a task and holds a phrase: only such bodies are parsed.
        self.candidate = re.compile(
            r"^[ \t>]*(?:[-*+]|\d{1,9}[.)])[ \t]+\[[^\]\n]\][^\n]*?(?:" + words + ")",
            re.IGNORECASE | re.MULTILINE,
        )

    def find(
        self, body: str, first_line: int, source_dir: str = ""
    ) -> tuple[list[Task], int | None]:
        """The report-back tasks of a body that starts at line `first_line` of its file, and
        the first line that was too deeply nested to read (None when there is none)."""
        if not self._has_candidate(body):
            return [], None
        deep = _TOO_DEEP.search(body)
        skipped = None
        if deep:
            skipped = first_line + body.count("\n", 0, deep.start())
            body = _TOO_DEEP.sub("", body)  # blank, not removed: line numbers stay right
        return self._parse(body, first_line, source_dir), skipped

    def _has_candidate(self, body: str) -> bool:
        """Whether a line is a candidate: only the lines with a box are tried, found by a
        search that starts with a `[` (a search for `candidate` tries every character of the
        body, a fifth of the time it takes to read a note); each line is tried once."""
        at = 0
        while (box := _BOX.search(body, at)) is not None:
            start = body.rfind("\n", 0, box.start()) + 1
            if self.candidate.match(body, start):
                return True
            at = body.find("\n", box.end())
            if at < 0:
                return False
        return False

    def _parse(self, body: str, first_line: int, source_dir: str) -> list[Task]:
        tokens = _parser().parse(body)
        hidden: set[int] = set()
        if "%%" in body:
            hidden = _in_comments(body, _code(tokens))
        found = []
        for i in range(2, len(tokens)):
            token = tokens[i]
            if (
                token.type != "inline"
                or tokens[i - 1].type != "paragraph_open"
                or tokens[i - 2].type != "list_item_open"
            ):
                continue
            text = token.content.split("\n", 1)[0]
            box = _CHECKBOX.match(text)
            if not box:
                continue
            text = _visible(text[box.end() :])
            links = tuple(link for link in links_in(text, source_dir) if not _is_day(link))
            if not links or not self.phrases.search(text):
                continue
            at = tokens[i - 1].map[0] if tokens[i - 1].map else 0
            if at in hidden:
                continue
            mark = box.group(1)
            status = DONE if mark in "xX" else CANCELLED if mark == "-" else OPEN
            line = first_line + at
            found.append(
                Task(line, text, status, _due(text), _first_date(_DONE, text), links)
            )
        return found
