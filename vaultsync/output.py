"""Writing Follow-ups.md: only between the markers, only when the bytes change, atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from types import EllipsisType

from .errors import RefusedWrite
from .render import BEGIN, END

TEMP_PREFIX = ".vaultsync-"


class FileChanged(Exception):
    """The file is no longer what it was when read: someone else wrote it meanwhile."""


Span = tuple[int, int]  # a line of the file: where it starts, and where the next one does


def _marker_lines(text: str, marker: str) -> list[Span]:
    """Every line that holds `marker` alone (spaces around it allowed, and a BOM before the
    begin marker: the file may start with it). Only a line feed ends a line in Markdown, not U+2028
    and the like. Found through the marker itself, not by splitting the file: at 50,000 notes
    it has tens of thousands of lines, and two lists of them cost 36 MB."""
    found = []
    at = text.find(marker)
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        stop = text.find("\n", at)
        end = len(text) if stop < 0 else stop + 1
        line = text[start:end].strip()
        if (line.lstrip("\ufeff") if marker == BEGIN else line) == marker:
            found.append((start, end))
        at = text.find(marker, end)
    return found


def block_span(text: str) -> tuple[Span, Span] | None:
    """The begin and the end marker lines of the one generated block; None if not exactly one
    pair, in that order."""
    begins, ends = _marker_lines(text, BEGIN), _marker_lines(text, END)
    if len(begins) != 1 or len(ends) != 1 or ends[0][0] < begins[0][0]:
        return None
    return begins[0], ends[0]


def splice(existing: str | None, block: str, name: str = "Follow-ups.md") -> str:
    """`existing` with the block between its markers replaced by `block`.

    Everything outside the markers (the marker lines' own line ends included) stays as it
    was. A file that is empty or missing becomes the block alone; a file with text and no
    markers, or with markers out of order, is refused.
    """
    if existing is None or not existing.strip():
        return block + "\n"
    span = block_span(existing)
    if span is None and not _marker_lines(existing, BEGIN) and not _marker_lines(existing, END):
        raise RefusedWrite(
            f"{name} has text of yours and no `{BEGIN}` / `{END}` markers, so vaultsync will not "
            "touch it: add the two marker lines where the list should go, or set `output` in "
            ".vaultsync.toml to another file"
        )
    if span is None:
        raise RefusedWrite(
            f"{name} must hold exactly one `{BEGIN}` line followed by one `{END}` line; "
            "fix the markers by hand and scan again"
        )
    (first, after_first), (last, after_last) = span
    first_line, end_line = existing[first:after_first], existing[last:after_last]
    newline = "\r\n" if first_line.endswith("\r\n") else "\n"
    bom = "\ufeff" if first_line.startswith("\ufeff") else ""
    ending = end_line[len(end_line.rstrip("\r\n")) :]
    body = block.replace("\n", newline)
    # One copy of a file that may hold megabytes, not one per `+`.
    return "".join((existing[:first], bom, body, ending, existing[after_last:]))


def decode(raw: bytes | None) -> str | None:
    """A file's text; bytes that are not UTF-8 survive, to be written back as they were."""
    return None if raw is None else raw.decode("utf-8", errors="surrogateescape")


def read_text(path: Path) -> str | None:
    """The file's text, or None when it does not exist."""
    try:
        return decode(path.read_bytes())
    except FileNotFoundError:
        return None


def _current(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def write_atomic(
    path: Path, text: str, *, expected: bytes | EllipsisType | None = ...
) -> None:
    """Replace `path` so that a reader sees the old file or the new one, never half of one.

    With `expected` (the bytes it was read as, or None for "did not exist"), the file is
    replaced only if it still holds them just before the rename; else FileChanged is raised
    and the file is left as the other writer made it.
    """
    data = text.encode("utf-8", errors="surrogateescape")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except FileNotFoundError:
            os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide a new note from other users
        if expected is not ... and _current(path) != expected:
            raise FileChanged(str(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
