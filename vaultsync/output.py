"""Writing Follow-ups.md: only between the markers, only when the bytes change, atomically."""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import EllipsisType

from .errors import RefusedWrite

BEGIN = "%% vaultsync:begin %%"
END = "%% vaultsync:end %%"
TEMP_PREFIX = ".vaultsync-"
SAVE_GAP = 0.05  # seconds to let an editor's save in place (empty, then written) end


class FileChanged(Exception):
    """The file is no longer what it was when read: someone else wrote it meanwhile."""


Span = tuple[int, int]  # a line of the file: where it starts, and where the next one does
_MARKED = b"%% vaultsync:"  # how both markers start
_BOM = "\ufeff".encode()
_VISIBLE = re.compile(rb"[\x21-\x7e]")  # an ASCII character that is not white space


def _marker_lines(data: bytes) -> tuple[list[Span], list[Span]]:
    """Every line that holds the begin marker alone, and every one that holds the end marker
    alone (spaces around it allowed, and a BOM before the begin marker: the file may start
    with it). Only a line feed ends a line in Markdown, not U+2028 and the like. Found in one
    pass through what both markers start with, not by splitting the file: at 50,000 notes it
    has tens of thousands of lines, and each pass takes 2 ms. The file is handled as bytes,
    since its text would take four times the memory (📅 makes Python hold every character in
    4 bytes); a line found is read as text, so that "spaces" means what `str.strip` says."""
    begins: list[Span] = []
    ends: list[Span] = []
    at = data.find(_MARKED)
    while at >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        stop = data.find(b"\n", at)
        end = len(data) if stop < 0 else stop + 1
        line = data[start:end].decode("utf-8", "surrogateescape").strip()
        if line.lstrip("\ufeff") == BEGIN:
            begins.append((start, end))
        elif line == END:
            ends.append((start, end))
        at = data.find(_MARKED, end)
    return begins, ends


def block_span(data: bytes) -> tuple[Span, Span] | None:
    """The begin and the end marker lines of the one generated block; None if not exactly one
    pair, in that order."""
    return _pair(*_marker_lines(data))


def _pair(begins: list[Span], ends: list[Span]) -> tuple[Span, Span] | None:
    if len(begins) != 1 or len(ends) != 1 or ends[0][0] < begins[0][0]:
        return None
    return begins[0], ends[0]


def blank(data: bytes) -> bool:
    """Whether the file holds only white space, as `str.isspace` sees it, after a BOM (the
    "empty" file of Windows editors)."""
    if _VISIBLE.search(data):
        return False  # the usual case, told without decoding the file
    return not data.removeprefix(_BOM).decode("utf-8", "surrogateescape").strip()


def splice(
    existing: bytes | None, block: bytes | Sequence[bytes], name: str = "Follow-ups.md"
) -> bytes:
    """`existing` with the block between its markers replaced by `block`, or by its lines
    (without line ends: the file is then joined from them, without the whole block besides
    it, 4 MB at 50,000 notes).

    Everything outside the markers (the marker lines' own line ends included) stays as it
    was. A file that is empty or missing becomes the block alone; a file with text and no
    markers, or with markers out of order, is refused.
    """
    lines = block.split(b"\n") if isinstance(block, bytes) else block
    if existing is None or blank(existing):
        bom = _BOM if existing and existing.startswith(_BOM) else b""
        return _joined(bom, lines, b"\n", b"\n")
    begins, ends = _marker_lines(existing)
    if not begins and not ends:
        raise RefusedWrite(
            f"{name} has text of yours and no `{BEGIN}` / `{END}` markers, so vaultsync will not "
            "touch it: add the two marker lines where the list should go, or set `output` in "
            ".vaultsync.toml to another file"
        )
    span = _pair(begins, ends)
    if span is None:
        raise RefusedWrite(
            f"{name} must hold exactly one `{BEGIN}` line followed by one `{END}` line; "
            "fix the markers by hand and scan again"
        )
    (first, after_first), (last, after_last) = span
    first_line, end_line = existing[first:after_first], existing[last:after_last]
    newline = b"\r\n" if first_line.endswith(b"\r\n") else b"\n"
    bom = _BOM if first_line.startswith(_BOM) else b""
    ending = end_line[len(end_line.rstrip(b"\r\n")) :]
    return _joined(existing[:first] + bom, lines, newline, ending + existing[after_last:])


def _joined(head: bytes, lines: Sequence[bytes], newline: bytes, tail: bytes) -> bytes:
    """`head`, the lines joined by `newline`, and `tail`, in one copy of a file that may hold
    megabytes, not one per `+`."""
    if len(lines) < 2:
        return head + b"".join(lines) + tail
    return newline.join([head + lines[0], *lines[1:-1], lines[-1] + tail])


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def write_atomic(
    path: Path,
    content: bytes | str | Iterable[bytes | memoryview],
    *,
    expected: bytes | EllipsisType | None = ...,
    keep_owner: bool = False,
) -> None:
    """Replace `path` so that a reader sees the old file or the new one, never half of one.

    `content` may come in parts, written as they come (a large file need not be held whole).
    With `expected` (the bytes it was read as, or None for "did not exist"), the file is
    replaced only if it still holds them just before the rename; else FileChanged is raised
    and the file is left as the other writer made it. The new file has the old one's mode,
    owner and group, and (on Linux) extended attributes, as far as the system allows; with
    `keep_owner`, an owner or group it cannot keep is a PermissionError, and nothing is
    replaced.
    """
    if isinstance(content, str):
        content = content.encode("utf-8", "surrogateescape")
    parts = [content] if isinstance(content, (bytes, bytearray, memoryview)) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    # A new file gets the mode the user's umask gives a saved note; a replacement is kept
    # private until it has the old file's mode.
    fd, tmp = _temporary(path.parent, 0o600 if os.path.lexists(path) else 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            for part in parts:
                handle.write(part)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            was = path.stat()
        except FileNotFoundError:
            pass
        else:
            _keep_owner(tmp, was, strict=keep_owner)
            os.chmod(tmp, was.st_mode & 0o7777)  # after: a change of owner clears setuid bits
            _keep_attributes(path, tmp)
        if expected is not ... and not _holds(path, expected):
            raise FileChanged(str(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _temporary(folder: Path, mode: int) -> tuple[int, str]:
    """A new file in `folder`, open for writing, made with `mode` less the umask (mkstemp's
    is always 0600, and the umask can only be read by setting it, which races threads)."""
    while True:
        tmp = os.path.join(folder, f"{TEMP_PREFIX}{os.urandom(8).hex()}.tmp")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            return os.open(tmp, flags, mode), tmp
        except FileExistsError:
            continue


def _keep_owner(tmp: str, was: os.stat_result, *, strict: bool) -> None:
    """Give the new file the old one's owner and group: it was made by whoever runs vaultsync
    (root, in a container or a service), and the user must still be able to save it."""
    if not hasattr(os, "chown"):
        return  # Windows: a new file takes its folder's permissions
    now = os.stat(tmp)
    if (now.st_uid, now.st_gid) == (was.st_uid, was.st_gid):
        return
    try:
        os.chown(tmp, was.st_uid, was.st_gid)
    except OSError:  # not allowed, or an owner this system cannot name (a user namespace)
        if strict:
            raise PermissionError(errno.EPERM, "its owner or group could not be kept") from None
        with contextlib.suppress(OSError):
            os.chown(tmp, -1, was.st_gid)  # the group at least: it may be how the file is shared


def _keep_attributes(path: Path, tmp: str) -> None:
    """Copy the old file's extended attributes (Linux), as far as the file system lets us."""
    with contextlib.suppress(OSError):
        for name in getattr(os, "listxattr", lambda _: [])(path):
            with contextlib.suppress(OSError):
                os.setxattr(tmp, name, os.getxattr(path, name))


def _holds(path: Path, expected: bytes | None) -> bool:
    """Whether the file holds exactly `expected` (None: it does not exist), compared a part
    at a time: reading it whole would take another buffer the size of the output."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return expected is None
    with handle:
        if expected is None:
            return False
        opened = os.fstat(handle.fileno())
        part = memoryview(bytearray(1 << 20))
        at = 0
        while count := handle.readinto(part):
            if not expected.startswith(part[:count], at):
                return False
            at += count
        # A save that put another file at its path, or wrote into this one, while it was
        # compared (milliseconds, at 4 MB) shows in its stat: the gap left before the rename
        # is the microseconds from here.
        return at == len(expected) and unchanged(opened, os.stat(path))


def unchanged(before: os.stat_result, after: os.stat_result) -> bool:
    """Whether two stats of a path show the same file, not written or replaced between them."""
    return all(
        getattr(before, name) == getattr(after, name)
        for name in ("st_ino", "st_dev", "st_size", "st_mtime_ns", "st_ctime_ns")
    )
