"""Shared fixtures: the sample vault, the real-world corpus, a folder `nobody` can enter, and a
guard against stray threads."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_VAULT = ROOT / "sample_vault"
TODAY = "2026-11-27"  # the pinned day of every golden file
CORPUS = Path(os.environ.get("VAULTSYNC_CORPUS", ROOT.parent / "shared" / "corpus"))


def corpus_vaults() -> list[Path]:
    """The real vaults of other people that the robustness tests read in place."""
    if not CORPUS.is_dir():
        return []
    return sorted(p / "vault" for p in CORPUS.iterdir() if (p / "vault").is_dir())


needs_corpus = pytest.mark.skipif(
    not corpus_vaults(),
    reason=f"the real-vault corpus is not at {CORPUS} (set VAULTSYNC_CORPUS to its folder)",
)


@pytest.fixture(autouse=True)
def no_thread_left_behind() -> Iterator[None]:
    """Fail any test that leaves a thread running (an observer never stopped, say)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra:
            return
        time.sleep(0.05)
    pytest.fail(f"threads left running: {[t.name for t in extra]}")


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test (and every vaultsync it starts) gets its own empty cache folder."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


NOBODY = 65534  # the uid and gid tests drop to when run as root, to meet permissions
# Python lines that make a test's subprocess nobody for good. It imports every module it needs
# before them: the interpreter's files may be readable by root only.
BECOME_NOBODY = f"""os.setgroups([])
os.setgid({NOBODY})
os.setuid({NOBODY})
assert os.getuid() == os.geteuid() == {NOBODY}"""


@pytest.fixture
def world_readable_dir() -> Iterator[Path]:
    """A folder that `nobody` can enter (pytest's tmp_path is private to its user)."""
    folder = Path(tempfile.mkdtemp(prefix="vaultsync-unreadable-", dir="/tmp"))
    os.chmod(folder, 0o755)
    try:
        yield folder
    finally:
        for path in folder.rglob("*"):
            if not path.is_symlink():
                os.chmod(path, 0o755)
        shutil.rmtree(folder)


class TookTooLong(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds`: a hang becomes a failure, not a stuck suite."""

    def interrupt(signum: int, frame: object) -> None:
        raise TookTooLong(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@contextmanager
def saved_in_place(path: Path, data: bytes, after: float = 0.015) -> Iterator[None]:
    """An editor saving `path` in place, as Obsidian does: emptied now, and `data` written
    `after` seconds later into the file it opened (a file put at its path meanwhile is not
    that one, and the save is lost to it)."""
    handle = open(path, "wb")  # noqa: SIM115 - closed by the thread that finishes the save

    def finish() -> None:
        time.sleep(after)
        handle.write(data)
        handle.close()

    editor = threading.Thread(target=finish, name="editor-saving")
    editor.start()
    try:
        yield
    finally:
        editor.join()


def utf8(text: str | None) -> bytes | None:
    """A file's bytes, written as text in a test (bytes that are not UTF-8 as surrogates)."""
    return None if text is None else text.encode("utf-8", "surrogateescape")


def splice_text(existing: str | None, block: str, name: str = "Follow-ups.md") -> str:
    """`output.splice`, which works on the file's bytes, given and giving text."""
    from vaultsync.output import splice

    spliced = splice(utf8(existing), block.encode("utf-8", "surrogateescape"), name)
    return spliced.decode("utf-8", "surrogateescape")
