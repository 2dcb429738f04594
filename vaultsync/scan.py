"""The pipeline, end to end: discover → read → compute → render → write.

`Vault` keeps every note it has read, so that a caller that knows which files changed (the
watcher) can re-read just those and recompute; `scan` is the one-shot use of it, which skips
all of the work when the survey shows nothing changed since the last scan.
"""

from __future__ import annotations

import datetime as dt
import errno
import gc
import hashlib
import logging
import os
import signal
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .cache import RACY_NS, NoteCache, ResultCache
from .config import Config, load_config
from .errors import RefusedWrite, VaultGone, VaultsyncError
from .links import RECEIVED
from .model import Note, Report, ScanWarning, merge_warnings
from .output import (
    SAVE_GAP,
    FileChanged,
    blank,
    read_bytes,
    splice,
    unchanged,
    write_atomic,
)
from .vault import Layout, discover, inside, require_folder

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess
    from multiprocessing.sharedctypes import Synchronized

    from .ledger import Ledger
    from .links import LinkIndex
    from .notes import NoteReader
    from .render import Kept

# Reading, computing and rendering are imported where they are used: a scan that finds
# nothing changed needs none of them (nor YAML or markdown-it), and starts that much faster.

log = logging.getLogger("vaultsync")
Progress = Callable[[int, int], None]  # (notes read, notes found)
PARALLEL_FROM = 2000  # notes to read: fewer are read faster than a second process starts
PART = 200  # notes a process takes at once; the second sends back each part's notes at once
LOOK_EVERY = 16  # notes read between looks for the notes it sent
CLAIM_SECONDS = 5.0  # the count of parts is held for microseconds: longer, its holder died
WRITE_ATTEMPTS = 3  # times the output is computed again because it changed while we wrote
UNSURE = -1  # a time stamp that cannot vouch for the note as read (see `stamp`)


def _read_chunk(reader: NoteReader, root: Path, paths: list[str]) -> list[Note]:
    """Read notes in the second process (notes are data: they travel back as they are)."""
    return [reader.read(root, rel) for rel in paths]


def _claim(claimed: Synchronized[int], parts: int) -> int | None:
    """The next part for this process to read, taken from those both read; None when every
    part is taken, or when the other process died holding the count (killed): the first
    process then reads whatever was not sent, and the second ends."""
    lock = claimed.get_lock()
    if not lock.acquire(timeout=CLAIM_SECONDS):
        return None
    try:
        index = claimed.value
        claimed.value = index + 1
    finally:
        lock.release()
    return index if index < parts else None


def _read_into(
    send: Connection,
    receive: Connection,
    root: Path,
    config: Config,
    parts: list[list[str]],
    claimed: Synchronized[int],
) -> None:
    """The second process: read parts while some are left, sending back each one's notes."""
    from .notes import NoteReader

    # The reading end, copied by the fork: open here, the pipe would not break when the
    # first process is killed, and this one would wait forever to send.
    receive.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the first process: it ends us
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # held back by the fork
    # One reader for every part: it keeps what notes repeat, which a reader for each part
    # would parse again.
    reader = NoteReader(config)
    try:
        with bulk():
            while (index := _claim(claimed, len(parts))) is not None:
                send.send((index, _read_chunk(reader, root, parts[index])))
    except OSError:  # the first process is gone (killed), or reads what was not sent
        return
    send.close()


def _read_notes(
    root: Path, config: Config, paths: list[str], step: Callable[[int], None]
) -> list[Note]:
    """The notes at `paths`, read on two cores when there are enough of them that a second
    process saves more than it costs to start and to send the notes back."""
    from .notes import NoteReader

    reader = NoteReader(config)
    # Both processes take the next part left until none is: each reads as much as it can
    # meanwhile, so neither waits for the other at the end. Halves fixed up front did not
    # come out even: the second process also pickles its notes, and either may be slowed
    # by other programs on the machine.
    parts = [paths[start : start + PART] for start in range(0, len(paths), PART)]
    started = _second_process(root, config, parts) if len(paths) >= PARALLEL_FROM else None
    if started is None:
        out = []
        for count, rel in enumerate(paths, 1):
            out.append(reader.read(root, rel))
            step(count)
        return out
    child, receive, claimed = started
    read: list[list[Note] | None] = [None] * len(parts)

    def take(wait: bool) -> bool:
        """Take the parts it has sent (all it took, if `wait`); False if it died."""
        try:
            while receive.poll() or (wait and None in read):
                index, notes = receive.recv()
                read[index] = notes
        except (EOFError, OSError) as exc:  # out of memory, killed
            log.debug("the second reading process failed: %s", exc)
            return False
        return True

    try:
        alive, count = True, 0
        while (index := _claim(claimed, len(parts))) is not None:
            read[index] = notes = []
            for rel in parts[index]:
                notes.append(reader.read(root, rel))
                count += 1
                # The other process reads about as fast: count its notes too.
                step(min(count * 2 - 1, len(paths)))
                # It stops while the pipe is full; but each look is a system call (25,000
                # of them at 50,000 notes, looking after each note): every few is enough.
                if count % LOOK_EVERY == 0:
                    alive = alive and take(wait=False)
        if not (alive and take(wait=True)):  # the parts it took and did not send
            for index, part in enumerate(parts):
                if read[index] is None:
                    read[index] = [reader.read(root, rel) for rel in part]
    finally:  # also when stopped (Ctrl-C, the watcher told to stop): it is not waited for
        receive.close()
        child.terminate()
        child.join()
        RECEIVED.clear()
    return [note for notes in read if notes is not None for note in notes]


def _second_process(
    root: Path, config: Config, parts: list[list[str]]
) -> tuple[BaseProcess, Connection, Synchronized[int]] | None:
    """A forked process reading `parts` with this one, the end of the pipe its notes come
    through, and the count of parts taken. Only on Linux, on two cores or more, and while no
    other thread runs: a fork copies the locks other threads hold, and spawning instead would
    start the caller's program again."""
    import threading

    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        return None
    if (os.cpu_count() or 1) < 2:
        return None
    import multiprocessing

    try:
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        claimed = context.Value("i", 0)
        child = context.Process(
            target=_read_into, args=(send, receive, root, config, parts, claimed), daemon=True
        )
        # Ctrl-C, which the terminal sends to both processes, is held back across the fork:
        # the second process is to ignore it, and must not get it before it can.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            child.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
    except Exception as exc:  # no processes here (a sandbox)
        log.debug("reading on one process: %s", exc)
        return None
    send.close()  # the child's end: with it closed here, the pipe ends when the child does
    return child, receive, claimed


@contextmanager
def bulk() -> Iterator[None]:
    """Around work that builds many objects that all stay alive (every note, every share):
    the cycle collector would walk them again and again and find nothing to free."""
    enabled = gc.isenabled()
    try:
        gc.disable()
        yield
    finally:
        if enabled:
            gc.enable()


def stamp(mtime_ns: int, ctime_ns: int, now_ns: int) -> int:
    """What says a note is as it was when read at `now_ns`: its newest time stamp (the ctime
    moves with any change, even one that keeps the mtime as `cp -p` and `rsync -a` do; on
    Windows it is the creation time). A change within the same tick of the disk's clock would
    not move it, so it is UNSURE while that tick may last: two seconds where the clock counts
    whole seconds (FAT, HFS+, ext3), a few milliseconds elsewhere. A stamp ahead of our clock
    (set by hand, unpacked from an archive) is taken as it is: our clock cannot judge it, and
    doubting it would read the note again on every walk until our clock catches up."""
    newest = max(mtime_ns, ctime_ns)
    tick = RACY_NS if newest % 1_000_000_000 == 0 else 20_000_000
    return UNSURE if 0 <= now_ns - newest < tick else newest


@dataclass(slots=True)
class Survey:
    """A vault's notes as found on disk just now, each with its size and modification time."""

    paths: list[str]
    stats: dict[str, tuple[int, int]]  # path -> (size, mtime_ns); absent if it cannot be read
    warnings: list[ScanWarning]
    taken_ns: int
    stamps: dict[str, int] = field(default_factory=dict)  # path -> `stamp`, if asked for

    def settled(self) -> bool:
        """Whether no note changed so recently that it may change again within its mtime."""
        newest = max((mtime for _, mtime in self.stats.values()), default=0)
        return self.taken_ns - newest > RACY_NS


@dataclass(slots=True)
class ScanResult:
    report: Report
    output: Path
    data: bytes  # the whole output file as it is (or would be) after this scan
    changed: bool  # the file differs (or differed, before writing) from `data`
    recorded: list[str] = field(default_factory=list)  # notes its ticks were written into

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "surrogateescape")


class Vault:
    """A vault's notes as last read, with the configuration they were read under.

    With `keep` (the watcher, `done`), the notes, the report's running totals and the lines
    rendered stay after `write`, so that the next one redoes only what changed. Without it (a
    one-shot scan), the report keeps only what it is made of (see `Ledger`), and `write`
    lets the notes go once it is made, so that rendering reuses their memory (at 50,000
    notes, 17 MB less at the peak); if the output changed while it was written, the notes
    are read again.
    """

    def __init__(
        self,
        root: Path,
        config: Config | None = None,
        *,
        stamps: bool = False,
        keep: bool = True,
    ) -> None:
        require_folder(root)
        self.root = root
        self.config = config if config is not None else load_config(root)
        self.layout = Layout.of(root, self.config)
        self.notes: dict[str, Note] = {}  # changed through `load`, `refresh` and `drop` only
        self.discovery_warnings: list[ScanWarning] = []
        self._ledger: Ledger | None = None
        self._touched: set[str] = set()  # paths read again or dropped since the last report
        self._kept: Kept | None = None  # the output's lines as last rendered
        # With `stamps`, each note's `stamp` as it was read: a watcher walking the vault for
        # changes it heard nothing of compares them with the disk's.
        self.stamps: dict[str, int] | None = {} if stamps else None
        self.keep = keep
        self._cached = True  # whether the notes were last loaded with the cache
        self._let_go = False  # the notes were let go (without `keep`)

    def check_root(self) -> None:
        """Raise VaultGone if the vault's folder is no longer at its path (moved or deleted).
        Not by its inode: some network file systems do not keep those stable."""
        if not os.path.isdir(self.root):
            raise VaultGone(
                f"{self.root} was moved or deleted while vaultsync ran; nothing was written: "
                "run vaultsync again on the vault where it is now"
            )

    @property
    def output(self) -> Path:
        """The output file, refused when a symbolic link would take it out of the vault."""
        path = self.root / self.config.output
        try:
            link = path.is_symlink()
        except OSError as exc:  # a folder on its path that cannot be searched, a name too long
            raise self._io_error("read", exc) from None
        if link or not inside(self.root, path.parent):
            raise RefusedWrite(
                f"{self.config.output} is (or is in) a symbolic link; vaultsync reads and writes "
                "only regular files inside the vault: set `output` in .vaultsync.toml elsewhere"
            )
        return path

    def survey(self, *, stats: bool = True) -> Survey:
        """Which notes the vault has now (and, with `stats`, their sizes and mtimes, and
        their stamps if this vault keeps them)."""
        taken = time.time_ns()
        paths, warnings = discover(self.root, self.layout)
        found: dict[str, tuple[int, int]] = {}
        stamps: dict[str, int] = {}
        prefix = os.path.join(self.root, "")
        for rel in paths if stats or self.stamps is not None else ():
            try:
                st = os.stat(prefix + rel)
            except OSError:
                continue  # reading it says what is wrong
            found[rel] = (st.st_size, st.st_mtime_ns)
            if self.stamps is not None:
                stamps[rel] = stamp(st.st_mtime_ns, st.st_ctime_ns, time.time_ns())
        return Survey(paths, found, warnings, taken, stamps)

    def result_key(self, survey: Survey, today: dt.date) -> str:
        """Names everything a report is a function of: the configuration, the layout, today,
        and every note's path, size and mtime (a note's text is fixed by them, as the note
        cache already trusts), and what discovery passed over."""
        digest = hashlib.sha256()
        for part in (self.config.fingerprint(), repr(self.layout), today.isoformat()):
            digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
        for rel in survey.paths:
            size, mtime = survey.stats.get(rel, (-1, -1))
            digest.update(f"{rel}\0{size}\0{mtime}\n".encode("utf-8", "surrogateescape"))
        for w in survey.warnings:
            digest.update(f"{w.path}\0{w.line}\0{w.message}\n".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def load(
        self,
        progress: Progress | None = None,
        *,
        use_cache: bool = True,
        survey: Survey | None = None,
    ) -> None:
        """Read every note, taking the unchanged ones from the cache when `use_cache`."""
        self._cached, self._let_go = use_cache, False
        if survey is None:
            survey = self.survey(stats=use_cache)
        self.discovery_warnings = survey.warnings
        if self.stamps is not None:
            self.stamps = survey.stamps
        cache = NoteCache(self.root, self.config) if use_cache else None
        self.notes = {}
        self._ledger = None
        self._touched.clear()
        with bulk():
            self._read_all(survey, cache, progress)
        if cache is not None:
            cache.save()

    def _read_all(
        self, survey: Survey, cache: NoteCache | None, progress: Progress | None
    ) -> None:
        total = len(survey.paths)
        cached = cache.load(survey.stats) if cache is not None else {}
        missing = [rel for rel in survey.paths if rel not in cached]

        def step(count: int) -> None:
            if progress is not None:
                progress(total - len(missing) + count, total)

        read = {note.path: note for note in _read_notes(self.root, self.config, missing, step)}
        step(len(missing))
        if cache is not None:
            for rel, note in read.items():
                if rel in survey.stats:
                    cache.put(rel, *survey.stats[rel], note)
        self.notes = {}
        for rel in survey.paths:
            note = cached.get(rel) or read[rel]
            # One string for the path, the survey's, which the stamps are kept under too: a
            # note from the cache or the second process comes with its own copy (4 MB).
            note.path = rel
            self.notes[rel] = note
        if self.stamps is not None:
            self.stamps.update((rel, UNSURE) for rel, note in read.items() if note.unread)

    def refresh(self, paths: Iterable[str]) -> None:
        """Read these vault-relative paths again: changed, created or deleted notes."""
        from .notes import NoteReader

        # A reader for these alone: one kept for the watcher's life would keep every link
        # ever typed in its table of links read (see `NoteReader`).
        reader = NoteReader(self.config)
        linked: dict[str, bool] = {}  # folder -> whether it is a symbolic link
        for rel in paths:
            self._touched.add(rel)
            try:  # the stamp is taken before reading: a change while it is read shows later
                st = os.lstat(self.root / rel)
                stamped = stamp(st.st_mtime_ns, st.st_ctime_ns, time.time_ns())
                regular = stat.S_ISREG(st.st_mode)  # a note is not a symbolic link to one
            except OSError as exc:
                # Gone, or not a path to a note; else refused, or a disk error: reading it
                # says so, as a scan does.
                regular = exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)
                stamped = UNSURE
            if not regular or self.layout.skip_reason(rel) is not None or self._linked(rel, linked):
                self.drop([rel])
                continue
            note = self.notes[rel] = reader.read(self.root, rel)
            if self.stamps is not None:
                self.stamps[rel] = UNSURE if note.unread else stamped

    def _linked(self, rel: str, seen: dict[str, bool]) -> bool:
        """Whether the path goes through a symbolic link to a folder, which a scan does not
        follow (out of the vault, or to notes it reads at their own path); `seen` keeps the
        answer for each folder, one `lstat` each."""
        parts = rel.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            found = seen.get(folder)
            if found is None:
                found = seen[folder] = os.path.islink(self.root / folder)
            if found:
                return True
        return False

    def drop(self, paths: Iterable[str]) -> None:
        """Forget these notes without looking at the disk (the watcher knows they are gone)."""
        for rel in paths:
            self._touched.add(rel)
            self.notes.pop(rel, None)
            if self.stamps is not None:
                self.stamps.pop(rel, None)

    def refresh_folder(self, folder: str) -> list[str]:
        """Bring the notes under vault-relative `folder` in line with the disk, after the folder
        was created, moved in or out, or deleted; returns the paths read again or dropped."""
        prefix = folder.rstrip("/") + "/"
        paths = {rel for rel in self.notes if rel.startswith(prefix)}
        where = self.root / folder
        if where.is_dir() and not where.is_symlink() and not self.layout.skips_folder(folder):
            # `discover` walks the subtree as a vault without rules of its own (it still skips
            # hidden entries and symbolic links); this vault's rules then judge the full paths.
            inner, _ = discover(where, Layout("", (), ()))
            full = (prefix + rel for rel in inner)
            paths.update(p for p in full if self.layout.skip_reason(p) is None)
        found = sorted(paths)
        self.refresh(found)
        return found

    def report(self, today: dt.date, *, keep: bool = True) -> Report:
        """The report as of `today`; after a few notes changed, only their part is redone.
        Without `keep` (and the vault's), what only that needs is not kept (see `Ledger`)."""
        from .ledger import Ledger

        if self._ledger is None:
            with bulk():
                self._ledger = Ledger(
                    self.notes.values(), self.config, today, keep=keep or self.keep
                )
        else:
            self._ledger.update(self.notes, today, self._touched)
        self._touched.clear()
        report = self._ledger.report()
        if self.discovery_warnings:
            report.warnings = merge_warnings(report.warnings, self.discovery_warnings)
        return report

    def link_index(self) -> LinkIndex:
        """What links resolve by, as of the last report."""
        assert self._ledger is not None, "made by `report`"
        return self._ledger.directory.index

    def existing(self, output: Path) -> bytes | None:
        """The output's bytes as they are now; None when it does not exist."""
        try:
            return read_bytes(output)
        except OSError as exc:
            raise self._io_error("read", exc) from None

    def _stays(self, output: Path, existing: bytes) -> bool:
        """Whether the output still holds `existing` a moment later, unchanged. Asked of an
        empty one: an editor saving it in place empties it first, and the check before it is
        replaced could pass in the gap of its next save, when it is empty again."""
        try:
            before = os.stat(output)
            time.sleep(SAVE_GAP)
            after = os.stat(output)
        except OSError:
            return False
        return unchanged(before, after) and self.existing(output) == existing

    def _io_error(self, verb: str, exc: OSError) -> VaultsyncError:
        return VaultsyncError(
            f"cannot {verb} {self.config.output}: {exc.strerror or exc}; check that it is a "
            "file you can write, in a folder you can write (the new file is made there), or "
            "set `output` in .vaultsync.toml to another path"
        )

    def write(self, today: dt.date, *, dry_run: bool = False) -> ScanResult:
        """Record the boxes ticked in the output in their notes, then bring it up to date.

        The output is replaced only if it still holds what was read: a box ticked while
        this ran is not overwritten but read and recorded on the next attempt.
        """
        from .render import Kept, render_lines
        from .ticks import TickOutcome, apply_ticks, find_ticks

        if self._kept is None and self.keep:
            self._kept = Kept()
        recorded: list[str] = []
        output = self.output  # checked once: it resolves symbolic links
        for _ in range(WRITE_ATTEMPTS):
            if self._let_go:  # the output changed while we wrote it: start over
                self.load(use_cache=self._cached)
            existing = self.existing(output)
            if existing is not None and blank(existing) and not self._stays(output, existing):
                continue  # an editor saving it in place: what it writes is the user's
            ticks = find_ticks(existing)
            # Ticks to record: their notes are written, read again and reported on anew, so
            # the ledger keeps what redoing their part takes.
            report = self.report(today, keep=bool(ticks))
            outcome = TickOutcome()
            if ticks:
                outcome = apply_ticks(self, report, ticks, today, dry_run=dry_run)
            if outcome.recorded:
                recorded += outcome.notes
                self.refresh(outcome.notes)
                report = self.report(today)
                outcome.settle(report)
            if outcome.warnings:
                report.warnings = merge_warnings(report.warnings, outcome.warnings)
            if not self.keep:  # the report is all that rendering needs
                self.notes, self._ledger, self._kept, self._let_go = {}, None, None, True
            with bulk():  # the lines it keeps would otherwise set off full collections
                lines = render_lines(
                    report,
                    self.config.graph,
                    outcome.keep,
                    record_ticks=self.config.record_ticks,
                    orphans=outcome.orphans,
                    kept=self._kept,
                    horizon_days=self.config.horizon_days,
                )
            data = splice(existing, lines, self.config.output)
            del lines
            changed = data != existing
            # A dry run that would record ticks would change notes and the output.
            result = ScanResult(
                report, output, data, changed or outcome.pending > 0, sorted(set(recorded))
            )
            if not changed or dry_run:
                return result
            self.check_root()  # writing would make its old path again, holding only the output
            try:
                write_atomic(output, data, expected=existing)
            except FileChanged:
                continue
            except OSError as exc:
                raise self._io_error("write", exc) from None
            return result
        raise VaultsyncError(
            f"{self.config.output} kept changing while vaultsync wrote it; nothing was lost: "
            "run the scan again"
        )


def scan(
    root: Path,
    today: dt.date,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    use_cache: bool = True,
) -> ScanResult:
    """Scan the vault at `root` and bring its Follow-ups.md up to date (unless `dry_run`)."""
    # Everything a scan builds lives until it returns: the cycle collector would walk
    # the notes, shares and items again and again (0.5 s at 50,000 notes) and free nothing.
    with bulk():
        vault = Vault(root, keep=False)
        if not use_cache:
            vault.load(progress, use_cache=False)
            return vault.write(today, dry_run=dry_run)
        survey = vault.survey()
        settled = survey.settled()
        results = ResultCache(root, vault.result_key(survey, today))
        output = vault.output
        existing = vault.existing(output)
        report = results.get(existing)
        if report is not None and existing is not None:
            return ScanResult(report, output, existing, changed=False)
        del existing  # `write` reads it again just before writing (4 MB at 50,000 notes)
        vault.load(progress, survey=survey)
        del survey  # the notes keep what they need of it (the rest: 9 MB at 50,000 notes)
        result = vault.write(today, dry_run=dry_run)
        # Kept only when the output now holds `data` and nothing is left for the next scan to
        # do: a tick to record, or a note written by this scan (its stat is newer than the key's).
        from .ticks import find_ticks

        on_disk = not result.changed or not dry_run
        if on_disk and not result.recorded and settled and not find_ticks(result.data):
            results.put(result.report, result.data)
        return result
