"""`vaultsync watch`: keep Follow-ups.md current while the user writes, for days on end.

Watch mode only decides *when* to run the scan pipeline and which notes to read again:

- the watchdog handler runs in the observer's thread and only queues what it saw;
- the loop (in the caller's thread) drains the queue, sorts each path with `classify` (pure,
  the same skip rules as a full scan), and waits until nothing relevant arrived for the quiet
  period, so that a burst (a `git pull`, a sync catching up) gives one update;
- then it re-reads just the notes and folders touched, recomputes, and writes the file only
  when its bytes change. Its own writes are recognised by their bytes and never acted on.

It also wakes a few times a second to notice a stop request and a new day (overdue counts
move at midnight), walks the vault every few minutes for changes that sent no event (see
`_walk`), and survives a failed update by logging it and going on.
"""

from __future__ import annotations

import datetime as dt
import errno
import gc
import itertools
import logging
import os
import queue
import re
import sys
import threading
import time
import warnings
from collections.abc import Callable, Collection
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .cache import digest
from .config import CONFIG_FILE, load_config
from .errors import VaultGone, VaultsyncError
from .links import fold
from .model import ScanWarning, listed
from .output import TEMP_PREFIX, read_bytes
from .scan import UNSURE, Vault, bulk
from .vault import UNLISTED, Layout, discover, require_folder

if TYPE_CHECKING:
    from watchdog.events import FileSystemEvent
    from watchdog.observers.api import BaseObserver

log = logging.getLogger("vaultsync")

Kind = Literal["note", "folder", "config", "output", "ignore"]

# Files whose change changes which notes are read or how (SPEC §2, §11).
CONFIG_FILES = frozenset({
    CONFIG_FILE,
    ".obsidian/templates.json",
    ".obsidian/plugins/templater-obsidian/data.json",
})
_CONFIG_FOLDERS = frozenset(
    "/".join(path.split("/")[:i]) for path in CONFIG_FILES for i in range(1, path.count("/") + 1)
)
# Swap, backup, lock and partial-download files of editors, office suites, browsers and sync
# clients. None of these shapes can end in `.md`, so no note a full scan reads is ever lost.
_EDITOR_TEMP = re.compile(
    r"~\$.*(?<!\.md)|\.#.*|#.*#|4913|.*~|.*\.(?:sw[a-px]|tmp|crdownload|part|kate-swp)"
    r"|.*___jb_(?:tmp|old)___",
    re.IGNORECASE | re.DOTALL,
)

WAKE_SECONDS = 0.25  # how often the loop looks at the stop request and the clock
MAX_DELAY_SECONDS = 10.0  # a stream of changes that never goes quiet still updates this often
WALK_SECONDS = 300.0  # how often the vault is walked for changes that sent no event
LATE_SECONDS = 0.5  # how late an event may come: watchdog holds half of a move this long
RELOADED = "configuration reloaded, every note read again"
WARNED = frozenset({"conflict", "not utf-8"})  # notes skipped with a warning by the walk


def is_editor_temp(name: str) -> bool:
    return bool(_EDITOR_TEMP.fullmatch(name))


def _long_lived() -> None:
    """After a full read: the notes and their shares now live as long as the watcher. Free
    what is garbage, then move the rest out of the cycle collector's way, or each of its
    full passes (every few edits) would walk them all again: 0.3 s at 50,000 notes."""
    gc.unfreeze()  # what the last full read froze may be garbage now
    gc.collect()
    gc.freeze()
    _give_back()


def _give_back() -> None:
    """Hand the memory freed since back to the system: glibc keeps a freed heap for the
    process, and a watcher lives for days (at 50,000 notes, 13 MB after the first read,
    and more after each burst of edits). Only glibc has `malloc_trim`."""
    if sys.platform.startswith("linux"):
        import ctypes

        with suppress(AttributeError, OSError):  # musl
            ctypes.CDLL(None).malloc_trim(0)


def classify(rel: str, layout: Layout, *, is_dir: bool = False) -> Kind:
    """What a change at vault-relative `rel` means for the index.

    `note`: re-read this path (created, changed or gone); `folder`: re-walk this subtree
    (created, moved in or out, deleted); `config`: reload the configuration; `output`: our
    own file (ours if its bytes are what we wrote, else the user edited it); `ignore`: the
    rest, from hidden folders to editor swap files and vaultsync's own temporary files.
    """
    if not rel or rel == "." or rel.startswith("../"):
        return "ignore"
    if is_dir:
        if rel in _CONFIG_FOLDERS:
            return "config"  # `.obsidian` replaced as a whole, by a sync client say
        return "ignore" if layout.skips_folder(rel) else "folder"
    if rel in CONFIG_FILES:
        return "config"
    if fold(rel) == fold(layout.output):
        return "output"
    name = rel.rsplit("/", 1)[-1]
    if name.startswith(TEMP_PREFIX) or is_editor_temp(name):
        return "ignore"
    return "note" if layout.skip_reason(rel) is None else "ignore"


@dataclass(frozen=True, slots=True)
class Change:
    """One path of one watchdog event, as the handler queues it."""

    what: str  # watchdog's event type: created, modified, moved, deleted, closed…
    rel: str
    is_dir: bool


@dataclass(slots=True)
class Batch:
    """What a burst of changes asks for, deduplicated."""

    notes: set[str] = field(default_factory=set)
    folders: set[str] = field(default_factory=set)
    config: bool = False
    output: bool = False
    walked: bool = False  # found by a walk of the vault, not by events
    lost: bool = False  # … and some of it changed without an event
    unheard: set[str] = field(default_factory=set)  # the notes that did
    warned: bool = False  # what the walk warns of changed (a sync conflict copy came)

    def __bool__(self) -> bool:
        return bool(self.notes or self.folders or self.config or self.output or self.warned)


class _Heard(logging.Handler):
    """Sets `event` when watchdog warns (of events it lost, most of all)."""

    def __init__(self, event: threading.Event) -> None:
        super().__init__(logging.WARNING)
        self.event = event

    def emit(self, record: logging.LogRecord) -> None:
        self.event.set()


class _Stopped(Exception):
    """Raised from the progress callback to abandon a long (re)load when asked to stop."""


def _limit_error(exc: OSError, root: Path) -> VaultsyncError:
    if exc.errno == errno.EMFILE:
        what, knob, value = "inotify instance limit", "fs.inotify.max_user_instances", 1024
    else:
        what, knob, value = "inotify watch limit", "fs.inotify.max_user_watches", 524288
    return VaultsyncError(
        f"cannot watch {root}: the {what} of this system is reached (one watch per folder); "
        f"run `vaultsync watch --polling` instead, or raise the limit with "
        f"`sudo sysctl {knob}={value}` (add `{knob}={value}` to /etc/sysctl.d/90-inotify.conf "
        "to keep it after a reboot)"
    )


class Watcher:
    """Runs the scan pipeline again whenever the vault changes, until `stop()`."""

    def __init__(
        self,
        root: Path,
        *,
        polling: bool = False,
        quiet_period: float = 0.3,
        today: Callable[[], dt.date] = dt.date.today,
        stop_event: threading.Event | None = None,
        poll_interval: float = 1.0,
        walk_interval: float = WALK_SECONDS,
        observer_factory: Callable[[], BaseObserver] | None = None,
    ) -> None:
        # The real path: inotify would watch a symbolic link to the vault, not the vault.
        self.root = Path(os.path.realpath(root))
        self.polling = polling
        self.quiet_period = quiet_period
        self.today = today
        self.stop_event = stop_event if stop_event is not None else threading.Event()
        self.poll_interval = poll_interval
        self.walk_interval = walk_interval
        self._factory = observer_factory
        self.ready = threading.Event()  # set once the first scan is written and events flow
        self.finished = threading.Event()
        self.writes = 0  # times Follow-ups.md was written
        self.updates = 0  # batches applied after the first scan
        self.vault: Vault | None = None
        self._queue: queue.SimpleQueue[Change] = queue.SimpleQueue()
        # A digest of the output's bytes as we last wrote or found them (not the bytes: at
        # 50,000 notes that is 4 MB kept for nothing but this comparison); None when the last
        # write was refused.
        self._written: str | None = None
        # What the walk compares the files that are not notes with: the output's digest as
        # last written or walked past (None: missing), and the settings' (see `_settings`).
        self._output_seen: str | None = None
        self._settings_seen = ""
        self._day: dt.date | None = None
        self._walked_at = 0.0  # when the vault was last walked (monotonic)
        # Set when events were lost (watchdog warns of it) or a file came that only a walk
        # warns of: the vault is walked at once, not within WALK_SECONDS.
        self._walk_now = threading.Event()
        self._warned: set[ScanWarning] = set()  # the warnings as last logged
        self._thread: threading.Thread | None = None
        self._folds_case = folds_case(self.root)

    # -- the observer's thread -------------------------------------------------------------

    def _on_event(self, event: FileSystemEvent) -> None:
        for path in (event.src_path, event.dest_path):
            if path:
                rel = os.path.relpath(os.fsdecode(path), self.root).replace(os.sep, "/")
                self._queue.put(Change(event.event_type, rel, event.is_directory))

    # -- the loop -----------------------------------------------------------------------------

    def run(self) -> None:
        """Scan, then keep the index current until `stop()` (or the stop event) says so.

        Raises VaultsyncError when the vault cannot be watched or its first scan fails (a bad
        configuration, an output file that is not ours); later failures are only logged.
        """
        self._thread = threading.current_thread()
        # watchdog says only in its log that events were lost (the kernel's queue overflowed
        # in a burst of changes): its warnings set off a walk.
        heard = _Heard(self._walk_now)
        logging.getLogger("watchdog").addHandler(heard)
        try:
            observer = self._start_observer()
            try:
                self._loop(observer)
            except _Stopped:
                pass
            finally:
                observer.stop()
                observer.join(timeout=5)
                log.info("stopped watching %s", self.root)
        finally:
            logging.getLogger("watchdog").removeHandler(heard)
            self.finished.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end; from another thread, also wait until it has (observer joined)."""
        self.stop_event.set()
        if self._thread not in (None, threading.current_thread()):
            self.finished.wait(timeout)

    def _loop(self, observer: BaseObserver) -> None:
        day = self.today()
        self._settings_seen = self._settings()
        self.vault = Vault(self.root, stamps=True)
        self._walked_at = time.monotonic()
        with bulk():
            self.vault.load(self._progress)
            count = len(self.vault.notes)
            self._write(day, f"scanned {count} note{'s' * (count != 1)}")
        _long_lived()
        mode = "polling" if self.polling else "native events"
        log.info("watching %s (%s, quiet period %.2g s)", self.root, mode, self.quiet_period)
        self.ready.set()
        while not self.stop_event.is_set():
            self._check(observer)
            batch = self._collect()
            day = self.today()
            if self.stop_event.is_set():
                break
            try:
                if not batch and self._walk_due():
                    batch = self._walk()
                    if batch.lost:
                        batch = self._heard_late(batch)
                if batch or day != self._day:
                    self.updates += 1
                    self._apply(batch, day)
                    _give_back()
            except (_Stopped, VaultGone):
                raise
            except VaultsyncError as exc:
                self.vault.check_root()  # the update failed for it: say so, and stop
                log.error("update failed: %s; still watching", exc)
            except Exception:  # one bad update must not end days of watching
                self.vault.check_root()
                log.exception("update failed; still watching")

    def _collect(self, wake: float = WAKE_SECONDS) -> Batch:
        """The changes of one burst: wait for the first, then until none came for the quiet
        period (or MAX_DELAY_SECONDS passed); empty after `wake` seconds without any."""
        batch = Batch()
        start = time.monotonic()
        first = last = 0.0
        while not self.stop_event.is_set():
            now = time.monotonic()
            if not batch and now - start >= wake:
                return batch  # even amid a stream of ignored events (`.git`, `.obsidian`)
            if batch and (now - last >= self.quiet_period or now - first >= MAX_DELAY_SECONDS):
                return batch
            wait = start + wake - now if not batch else last + self.quiet_period - now
            try:
                change = self._queue.get(timeout=min(max(wait, 0.001), WAKE_SECONDS))
            except queue.Empty:
                continue
            if self._add(batch, change):
                last = time.monotonic()
                first = first or last
        return batch

    def _heard_late(self, walked: Batch) -> Batch:
        """The walk's batch with the events that come just after it: what the walk found
        first is not lost when its events were only late (a busy machine, or watchdog
        holding half of a move), and the log must not say that they were."""
        deadline = time.monotonic() + self.quiet_period + 2 * LATE_SECONDS
        unheard, config, output = set(walked.unheard), walked.config, walked.output
        while (
            (unheard or config or output)
            and time.monotonic() < deadline
            and not self.stop_event.is_set()
        ):
            late = self._collect(wake=deadline - time.monotonic())
            unheard = {
                rel
                for rel in unheard
                if rel not in late.notes and not _under(rel, late.folders)
            }
            config, output = config and not late.config, output and not late.output
            walked.notes |= late.notes
            walked.folders |= late.folders
            walked.config |= late.config
            walked.output |= late.output
        if self.stop_event.is_set():
            raise _Stopped
        walked.walked = walked.lost = bool(unheard or config or output)
        return walked

    def _add(self, batch: Batch, change: Change) -> bool:
        """Put a change into the batch; False when it does not matter (no wait for it)."""
        assert self.vault is not None
        kind = classify(change.rel, self.vault.layout, is_dir=change.is_dir)
        log.debug("%s %s%s: %s", change.what, change.rel, "/" if change.is_dir else "", kind)
        if kind == "note":
            batch.notes.add(change.rel)
        elif kind == "folder":
            batch.folders.add(change.rel)
        elif kind == "config":
            batch.config = True
        elif kind == "output":
            self._output_seen = self._output_digest()  # heard: the walk need not find it
            if self._as_written():
                return False  # our own write (or a touch that changed nothing)
            batch.output = True
        elif self.vault.layout.skip_reason(change.rel) in WARNED:
            self._walk_now.set()
        return kind != "ignore"

    def _as_written(self) -> bool:
        """Whether the output holds what we last wrote, and nothing was refused since: then
        there is nothing to do. Put back as it was after a refusal (its markers broken and
        mended), it is written again: notes may have changed meanwhile."""
        return self._output_seen is not None and self._output_seen == self._written

    def _output_digest(self) -> str | None:
        found = self._output()
        return None if found is None else digest(found)

    def _output(self) -> bytes | None:
        assert self.vault is not None
        try:
            return read_bytes(self.vault.output)
        except (OSError, VaultsyncError):
            return None  # unreadable, or refused (a symbolic link): the write will say why

    def _apply(self, batch: Batch, day: dt.date) -> None:
        assert self.vault is not None
        what: list[str] = []
        config = self._reload_config() if batch.config else None
        if config:
            what.append(config)
        if config != RELOADED:
            changed = self._refresh(batch)
            read = [p for p in changed if p in self.vault.notes]
            gone = [p for p in changed if p not in self.vault.notes]
            for paths, verb in ((read, "read"), (gone, "gone")):
                if paths:
                    count = f"{len(paths)} note{'s' * (len(paths) != 1)}"
                    what.append(f"{count} {verb} ({_some(paths)})")
        if batch.lost:
            what.append("found by a walk of the vault (their file events were lost)")
        if batch.output:
            what.append(f"{self.vault.config.output} edited")
        if day != self._day:
            what.append(f"the date is now {day.isoformat()}")
        # Notes read again only because their stamps could not vouch for them are news only
        # if the index changed.
        quiet = batch.walked and not batch.lost
        self._write(day, "; ".join(what) or "nothing to read", quiet=quiet)
        if config == RELOADED:
            _long_lived()

    def _refresh(self, batch: Batch) -> list[str]:
        """Re-read what the batch touched; the paths of the notes read, dropped or re-read."""
        vault = self.vault
        assert vault is not None
        # A folder re-walked covers every change below it, so only the outermost ones count.
        tops = {f for f in batch.folders if not _under(f, batch.folders)}
        files = [p for p in sorted(batch.notes) if not _under(p, tops)]
        touched = {p for p in files if p in vault.notes}
        listings: dict[str, set[str]] = {}
        arrived: set[str] = set()  # notes found in folders that came
        for folder in sorted(tops):
            if self.stop_event.is_set():
                raise _Stopped  # thousands of folders may have come at once (a copy, a sync)
            if self._spelled(folder, listings):
                found = vault.refresh_folder(folder)
                arrived.update(p for p in found if p in vault.notes)
                touched.update(found)
            else:  # only another spelling of it is left, on a disk that ignores case
                gone = [rel for rel in vault.notes if rel.startswith(folder + "/")]
                vault.drop(gone)
                touched.update(gone)
        touched.update(self._moved_away(arrived))
        keep = []
        for rel in files:
            if self._spelled(rel, listings):
                keep.append(rel)  # refresh drops it if it is gone, or a symbolic link
            else:
                vault.drop([rel])
        vault.refresh(keep)
        return sorted(touched | {p for p in files if p in vault.notes})

    def _moved_away(self, arrived: set[str]) -> list[str]:
        """The notes that moved into a new folder have left their old path, though its
        event may come half a second later (watchdog waits for the other half of a move,
        which a folder not watched yet never sends): the notes by the same name that are
        gone from the disk are dropped now, or the output would list them twice meanwhile."""
        vault = self.vault
        assert vault is not None
        names = {rel.rsplit("/", 1)[-1] for rel in arrived}
        if not names:
            return []
        gone = [
            rel
            for rel in vault.notes
            if rel.rsplit("/", 1)[-1] in names
            and rel not in arrived
            and not os.path.lexists(os.path.join(self.root, rel))
        ]
        vault.drop(gone)
        return gone

    def _walk_due(self) -> bool:
        # Polling too: its observer compares sizes and mtimes only, and misses an edit that
        # kept both (the time stamps compared here include the change time).
        return (
            self._walk_now.is_set() or time.monotonic() - self._walked_at >= self.walk_interval
        )

    def _walk(self) -> Batch:
        """The notes that changed without an event saying so. Events can be lost: inotify
        drops them when thousands arrive at once (a `git checkout`, a sync catching up), and
        a network drive sends none for changes made elsewhere.

        A note is read again when it was created or deleted, or when its time stamp is not
        the one it had when last read (each note's own, not our clock), or that one was
        UNSURE, or the note could not be read. Notes under a folder that could not be listed
        are kept as they are: a network drive that fails for a moment has not lost them.
        The settings and the output are compared by their bytes: a box ticked in the output
        on another device is recorded, and a new configuration read, each once. At 50,000
        notes a walk takes 0.25 s."""
        vault = self.vault
        assert vault is not None and vault.stamps is not None
        self._walked_at = time.monotonic()
        self._walk_now.clear()
        paths, warnings = discover(self.root, vault.layout)
        unlisted = [w.path for w in warnings if w.message.startswith(UNLISTED)]
        if "." in unlisted:
            return Batch()
        found = set(paths)
        gone = {rel for rel in vault.notes if rel not in found}
        if unlisted:
            gone = {rel for rel in gone if not _under(rel, unlisted)}
        changed: set[str] = set()
        unsure: set[str] = set()
        prefix, stamps = os.path.join(self.root, ""), vault.stamps
        for rel in paths:
            try:
                st = os.stat(prefix + rel)
            except OSError:
                continue  # gone since: its own event, or the next walk, tells
            was = stamps.get(rel)
            if was is None or was == UNSURE:
                (unsure if rel in vault.notes else changed).add(rel)
            elif was != max(st.st_mtime_ns, st.st_ctime_ns):
                changed.add(rel)
        batch = Batch(notes=changed | unsure | gone, walked=True, unheard=changed | gone)
        if warnings != vault.discovery_warnings:  # logged as the update reports them
            vault.discovery_warnings, batch.warned = warnings, True
        batch.config = self._settings() != self._settings_seen  # `_reload_config` records it
        seen = self._output_digest()
        if seen != self._output_seen:  # a write refused is not tried again on every walk
            self._output_seen = seen
            batch.output = not self._as_written()
        batch.lost = bool(changed or gone or batch.config or batch.output)
        return batch

    def _settings(self) -> str:
        """A digest of the files that say which notes are read and how, as they are now."""
        parts = []
        for rel in sorted(CONFIG_FILES):
            try:
                parts.append(digest((self.root / rel).read_bytes()))
            except OSError:  # missing, or unreadable: loading it says which
                parts.append("-")
        return " ".join(parts)

    def _spelled(self, rel: str, listings: dict[str, set[str]]) -> bool:
        """Whether `rel` exists spelled exactly so: on macOS and Windows, `bob.md` still
        "exists" after a rename to `Bob.md`, and keeping both would count the note twice."""
        if not self._folds_case:
            return True
        parent = ""
        for part in rel.split("/"):
            if parent not in listings:
                try:
                    listings[parent] = set(os.listdir(self.root / parent))
                except OSError:
                    listings[parent] = set()
            if part not in listings[parent]:
                return False
            parent = f"{parent}/{part}" if parent else part
        return True

    def _reload_config(self) -> str:
        """Read the configuration again; when it changed, read every note again under it."""
        assert self.vault is not None
        # Taken first, so that a change made while loading shows on the next walk; recorded
        # once the configuration is judged, so that a load that fails is tried again.
        settings = self._settings()
        try:
            config = load_config(self.root)
        except VaultsyncError as exc:
            self._settings_seen = settings
            log.error("%s; keeping the last good configuration", exc)
            return "configuration has errors, kept the last good one"
        if config == self.vault.config and Layout.of(self.root, config) == self.vault.layout:
            self._settings_seen = settings
            return "configuration unchanged"
        vault = Vault(self.root, config, stamps=True)
        vault.load(self._progress)
        if vault.config.output != self.vault.config.output:
            self._written = None
        self.vault, self._settings_seen = vault, settings
        return RELOADED

    def _write(self, day: dt.date, what: str, *, quiet: bool = False) -> None:
        assert self.vault is not None
        self._day = day  # set first: a refused write is retried on the next change, not at once
        # Vault.write reads the file back just before writing, so the user's text outside the
        # markers is always the latest; it writes only when the bytes change.
        try:
            result = self.vault.write(day)
        except VaultsyncError:
            self._output_seen = self._output_digest()  # refused as it is: said once, not per walk
            self._written = None  # put back as it was, it is still to be written
            raise
        self._written = self._output_seen = digest(result.data)
        self.writes += int(result.changed)
        if result.recorded:  # boxes the user ticked in the output, now written into notes
            what += f"; ticks recorded in {_some(result.recorded)}"
        overdue = sum(f.status == "overdue" for f in result.report.followups)
        state = f"updated {self.vault.config.output}" if result.changed else "no change"
        level = logging.DEBUG if quiet and not result.changed else logging.INFO
        open_ = len(result.report.followups)
        log.log(level, "%s: %s; %d open, %d overdue", state, what, open_, overdue)
        self._warn(result.report.warnings)

    def _warn(self, warnings: list[ScanWarning]) -> None:
        """Log the warnings not logged before, a screenful at most: the ones of the first scan,
        then each new one once (a tick that cannot be recorded is warned of on every update)."""
        new = [w for w in warnings if w not in self._warned]
        self._warned = set(warnings)
        for line in listed(new):
            log.warning("%s", line)

    def _progress(self, done: int, total: int) -> None:
        if self.stop_event.is_set():
            raise _Stopped  # a stop request must not wait for a 10,000-note reload

    # -- the observer ------------------------------------------------------------------------

    def _start_observer(self) -> BaseObserver:
        from watchdog import events as ev

        # watchdog registers its own callback again for a folder made with folders in it,
        # and warns of that with a dump of every watch: harmless (the callback is the same),
        # and a `git init` in the vault filled a service's log with it.
        warnings.filterwarnings("ignore", "Callback with id", RuntimeWarning)

        # Only what changes the vault, asked of the kernel itself. Opening and reading a file
        # are events too: the first scan of 50,000 notes made 100,000 of them, and turning
        # them into Python objects on the observer's thread made that scan 2.5 s slower. A
        # folder is "modified" whenever a file in it is: the file's own event says more.
        # Permissions and times (a note made readable again) are "attrib" events in newer
        # watchdog versions, "modified" ones in older.
        names = ["FileCreatedEvent", "DirCreatedEvent", "FileModifiedEvent", "FileClosedEvent",
                 "FileMovedEvent", "DirMovedEvent", "FileDeletedEvent", "DirDeletedEvent",
                 "FileAttribEvent", "DirAttribEvent"]  # fmt: skip
        changes = [getattr(ev, name) for name in names if hasattr(ev, name)]
        watcher = self

        class Handler(ev.FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                watcher._on_event(event)

        require_folder(self.root)
        try:
            observer = self._new_observer()
        except OSError as exc:
            raise self._observer_error(exc) from None
        try:
            observer.schedule(Handler(), str(self.root), recursive=True, event_filter=changes)
            observer.start()
        except OSError as exc:
            observer.stop()  # the native observer runs a reader thread from its creation on
            if observer.is_alive():
                observer.join(timeout=5)
            raise self._observer_error(exc) from None
        return observer

    def _new_observer(self) -> BaseObserver:
        if self._factory is not None:
            return self._factory()
        if self.polling:
            from watchdog.observers.polling import PollingObserverVFS

            # Its own would follow symbolic links to folders: out of the vault, and round a
            # link to the vault for ever, in `start` where no signal can stop it.
            return PollingObserverVFS(os.lstat, os.scandir, polling_interval=self.poll_interval)
        from watchdog.observers import Observer

        return Observer()

    def _observer_error(self, exc: OSError) -> VaultsyncError:
        if exc.errno in (errno.ENOSPC, errno.EMFILE):
            return _limit_error(exc, self.root)
        return VaultsyncError(f"cannot watch {self.root}: {exc.strerror or exc}")

    def _check(self, observer: BaseObserver) -> None:
        """Fail loudly rather than watch nothing: watchdog's threads can die, for instance when
        a new folder needs a watch past the inotify limit."""
        reader = getattr(observer, "_inotify_fd", None)  # the native observer's reader thread
        threads = [observer, *observer.emitters] + ([reader] if reader is not None else [])
        if self.vault is not None:
            self.vault.check_root()  # before the observer's death it may have caused
        if not all(t.is_alive() for t in threads if isinstance(t, threading.Thread)):
            hint = "" if self.polling else ", or use `--polling` if the inotify limit is the cause"
            raise VaultsyncError(
                "the file watcher stopped unexpectedly (see the messages above); start "
                f"`vaultsync watch` again{hint}"
            )


def folds_case(root: Path) -> bool:
    """Whether the file system under `root` ignores case (macOS and Windows by default)."""
    try:
        candidates = [root, *itertools.islice(root.iterdir(), 50)]
    except OSError:
        return False
    for path in candidates:
        flipped = path.with_name(path.name.swapcase())
        if flipped != path:
            try:
                return os.path.samefile(path, flipped)
            except OSError:
                return False
    return False


def _some(paths: list[str]) -> str:
    """The first three paths, for a line of the log."""
    return ", ".join(paths[:3]) + (", …" if len(paths) > 3 else "")


def _under(rel: str, folders: Collection[str]) -> bool:
    """Whether `rel` lies in one of `folders` (vault-relative), at any depth."""
    parts = rel.split("/")
    return any("/".join(parts[:i]) in folders for i in range(1, len(parts)))


def watch(
    root: Path,
    *,
    polling: bool = False,
    quiet_period: float = 0.3,
    stop_event: threading.Event | None = None,
) -> None:
    """Keep the vault's index current until `stop_event` is set (by a signal handler, say)."""
    Watcher(root, polling=polling, quiet_period=quiet_period, stop_event=stop_event).run()
