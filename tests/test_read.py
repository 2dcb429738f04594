"""Large vaults are read on two processes; what they read is what one process reads."""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_VAULT, TODAY, time_limit

from vaultsync import scan as scan_module
from vaultsync.config import Config
from vaultsync.model import Note, ScanWarning
from vaultsync.notes import NoteReader, split_entry
from vaultsync.scan import PARALLEL_FROM, Vault, scan


@pytest.fixture(scope="module")
def big_vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample vault 50 times over, in numbered folders: more notes than one process reads."""
    root = tmp_path_factory.mktemp("big") / "vault"
    for i in range(50):
        shutil.copytree(
            SAMPLE_VAULT, root / f"copy{i:02d}", ignore=shutil.ignore_patterns("Follow-ups.md")
        )
    assert sum(1 for _ in root.rglob("*.md")) >= PARALLEL_FROM
    return root


def read(root: Path) -> tuple[Vault, list[int]]:
    seen: list[int] = []
    vault = Vault(root)
    vault.load(lambda done, total: seen.append(done), use_cache=False)
    return vault, seen


def by_twos(steps: list[int]) -> bool:
    """Whether progress went by twos: this process counts the other's half with its own."""
    return 2 in {b - a for a, b in itertools.pairwise(steps)}


def test_two_processes_read_what_one_does(
    big_vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    both, steps = read(big_vault)
    assert by_twos(steps)
    monkeypatch.setattr(scan_module, "PARALLEL_FROM", 10**9)
    one, steps = read(big_vault)
    assert not by_twos(steps)
    assert list(both.notes) == list(one.notes)
    assert both.notes == one.notes
    day = dt.date.fromisoformat(TODAY)
    assert both.report(day) == one.report(day)


def test_a_note_comes_back_from_the_other_process_whole() -> None:
    """Every field of a note (and of its links, tasks and warnings) survives the pickling that
    brings it from the second process, even a field the sample vault leaves at its default."""
    text = (
        "---\ndate: 2026-11-20\nname: Ann Lee\nemail: ann@example.org\ncompany: Acme\n"
        "aliases: [Annie]\ntags: [person]\ncadence: 2w\nlast_contact: 2026-11-01\n"
        'report_back_by: 2026-12-01\nreported_back: 2026-11-22\noutcome: true\n'
        'reported_back_to: ["[[Sam Rivera]] 2026-11-24", "[[Jo Park]] won\'t"]\n'
        'introduced_by: "[[Sam Rivera]]"\nadvice_from: Jo Park\n---\n'
        "- [x] Report back to [[Sam Rivera]] ✅ 2026-11-25\n"
    )
    note = NoteReader(Config()).parse("People/Ann Lee.md", text.encode() + b"\xff\n")
    defaults = Note("Other.md")
    assert all(getattr(note, name) != getattr(defaults, name) for name in Note.__slots__)
    assert note.links["advice_from"][0].bare and note.warnings[0].line == 18
    assert pickle.loads(pickle.dumps(note, pickle.HIGHEST_PROTOCOL)) == note


def test_with_other_threads_running_one_process_reads(big_vault: Path) -> None:
    """As in `watch`: forking would copy locks other threads hold."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        vault, steps = read(big_vault)
    finally:
        stop.set()
    assert not by_twos(steps)
    assert len(vault.notes) >= PARALLEL_FROM


def test_a_stopped_read_does_not_wait_for_the_other_half(
    big_vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parts that take the other process 0.1 s each: 11 s for its whole half.
    monkeypatch.setattr(scan_module, "PART", 10)
    monkeypatch.setattr(scan_module, "_read_chunk", slowly)  # the forked process inherits it

    def stop(done: int, total: int) -> None:
        if done > 50:
            raise KeyboardInterrupt

    with time_limit(2.0), pytest.raises(KeyboardInterrupt):
        Vault(big_vault).load(stop, use_cache=False)


READ_CHUNK = scan_module._read_chunk


def slowly(*args: Any) -> Any:
    time.sleep(0.1)
    return READ_CHUNK(*args)


def die(*args: object) -> None:
    os._exit(1)


def test_when_the_second_process_dies_its_half_is_read_by_the_first(
    big_vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_module, "PARALLEL_FROM", 10**9)
    one, _ = read(big_vault)
    monkeypatch.setattr(scan_module, "PARALLEL_FROM", PARALLEL_FROM)
    monkeypatch.setattr(scan_module, "_read_chunk", die)  # the forked process inherits it
    both, steps = read(big_vault)
    assert by_twos(steps)
    assert both.notes == one.notes


# Reads with the second process slowed down, and prints its pid once both are under way.
SLOW_READ = """
import faulthandler, multiprocessing, signal, sys, time
from pathlib import Path
from vaultsync import scan as scan_module
read_chunk = scan_module._read_chunk
def slowly(*args):
    time.sleep(0.1)
    return read_chunk(*args)
scan_module.PART, scan_module._read_chunk = 10, slowly
def step(done, total):
    if done == 21:
        print(*(child.pid for child in multiprocessing.active_children()), flush=True)
        time.sleep(60)
faulthandler.register(signal.SIGUSR1)  # where it waits, should it hang
# Ctrl-C as from a terminal: a suite started in the background (`pytest &` in a script) has
# it ignored, and its programs would go on ignoring it.
signal.signal(signal.SIGINT, signal.default_int_handler)
try:
    scan_module.Vault(Path(sys.argv[1])).load(step, use_cache=False)
except KeyboardInterrupt:
    sys.exit(130)
"""


def gone(pid: int) -> bool:
    """Whether the process has ended (a zombie has: only its exit status is left)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="two processes read on Linux")
@pytest.mark.parametrize("how", ["killed", "Ctrl-C"])
def test_a_scan_stopped_midway_leaves_no_reading_process_behind(
    big_vault: Path, how: str
) -> None:
    """Killed, its second process must not wait forever to send notes nobody reads; stopped by
    Ctrl-C (which the terminal sends to both), it must not print a traceback of its own."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_READ, str(big_vault)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    child = int(proc.stdout.readline())
    if how == "killed":
        proc.kill()
    else:
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # a hang: the failure says where it waits, and how
        status = Path(f"/proc/{proc.pid}/status").read_text()
        os.kill(proc.pid, signal.SIGUSR1)
        time.sleep(1)
        proc.kill()
        signals = [line for line in status.splitlines() if line.startswith("Sig")]
        pytest.fail(f"still running 10 s after {how}: {signals}\n{proc.stderr.read()}")
    deadline = time.monotonic() + 5
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not gone(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail("the second reading process outlived the first")
    assert "Traceback" not in proc.stderr.read()


# Ctrl-C reaches the second process the moment it is forked, before it could set itself
# to ignore it.
EARLY_CTRL_C = """
import os, signal, sys
from pathlib import Path
from vaultsync import scan as scan_module
signal.signal(signal.SIGINT, signal.default_int_handler)  # as from a terminal (see above)
read_into = scan_module._read_into
def at_once(*args):
    os.kill(os.getpid(), signal.SIGINT)
    read_into(*args)
scan_module._read_into = at_once
vault = scan_module.Vault(Path(sys.argv[1]))
vault.load(use_cache=False)
print(len(vault.notes))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="two processes read on Linux")
def test_ctrl_c_as_the_second_process_starts_is_still_the_first_ones(big_vault: Path) -> None:
    """The terminal sends Ctrl-C to both processes, whenever it comes: the second must not
    print a traceback of its own, even in the instant after the fork."""
    done = subprocess.run(
        [sys.executable, "-c", EARLY_CTRL_C, str(big_vault)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in done.stderr
    assert done.returncode == 0
    assert int(done.stdout) == len(read(big_vault)[0].notes)  # and every note is read


def test_a_count_of_parts_held_by_a_dead_process_ends_the_claims(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A process killed while it held the count: the other takes no more parts, rather than
    wait forever (the first then reads what is left itself)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    claimed, holding = context.Value("i", 0), context.Event()
    assert scan_module._claim(claimed, 3) == 0
    holder = context.Process(target=hold, args=(claimed, holding))
    holder.start()
    assert holding.wait(10)
    holder.kill()
    holder.join()
    monkeypatch.setattr(scan_module, "CLAIM_SECONDS", 0.1)
    with time_limit(5.0):
        assert scan_module._claim(claimed, 3) is None


def hold(claimed: Any, holding: Any) -> None:
    claimed.get_lock().acquire()
    holding.set()
    time.sleep(60)


def test_a_scan_pauses_the_cycle_collector_and_restarts_it(tmp_path: Path) -> None:
    """Everything a scan builds stays alive until it returns, so the collector is paused
    (it would walk every note again and again); the caller gets it back, also when stopped."""
    root = tmp_path / "vault"
    shutil.copytree(SAMPLE_VAULT, root, ignore=shutil.ignore_patterns("Follow-ups.md"))
    written: list[bool] = []  # at each collection: whether the scan had written its output

    def collected(phase: str, info: dict[str, int]) -> None:
        written.append((root / "Follow-ups.md").exists())

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt

    day = dt.date.fromisoformat(TODAY)
    gc.collect()
    gc.callbacks.append(collected)
    try:
        scan(root, day, use_cache=False)
        assert gc.isenabled()
        with pytest.raises(KeyboardInterrupt):
            scan(root, day, progress=stop, use_cache=False)
        assert gc.isenabled()
    finally:
        gc.callbacks.remove(collected)
    assert False not in written


def test_notes_read_alike_share_their_parts_and_none_can_change_them() -> None:
    """Equal parts are kept once (20 MB less at 50,000 notes): a change to one would change
    every note's, so they refuse it."""
    reader = NoteReader(Config())
    one, two = (
        reader.parse(f"{name}.md", b"---\ndate: 2026-11-20\nemail: a@b.c\n---\n")
        for name in ("One", "Two")
    )
    assert one.lines is two.lines and one.keywords is two.keywords and one.date is two.date
    assert one.warnings is two.warnings
    with pytest.raises(TypeError):
        one.lines["date"] = 9
    with pytest.raises(TypeError):
        one.warnings.append(ScanWarning("One.md", 1, "one note's alone"))
    assert pickle.loads(pickle.dumps(one)) == one


@pytest.mark.parametrize(
    ("written", "email", "warned"),
    [
        ("Dana Whitfield <dana@brightline.io>", "dana@brightline.io", False),
        ('"[Dana](mailto:dana@brightline.io)"', "dana@brightline.io", False),
        ("dana at brightline", None, True),
    ],
)
def test_an_email_as_pasted_is_its_address_and_anything_else_a_warning(
    written: str, email: str | None, warned: bool
) -> None:
    meeting = NoteReader(Config()).parse(
        "Meetings/Call.md", f"---\nemail: {written}\n---\n".encode()
    )
    assert meeting.email == email and not meeting.warnings  # a meeting's may be about a mail
    note = NoteReader(Config()).parse(
        "People/Dana.md", f"---\ntype: person\nemail: {written}\n---\n".encode()
    )
    assert note.email == email
    assert [w.message for w in note.warnings] == (
        [f"`email`: '{written}' is not an email address (write name@example.org); no email "
         "link is offered"] if warned else []
    )


@pytest.mark.parametrize(
    ("entry", "split"),
    [
        ("[[Ann]] 2026-11-24", ("[[Ann]]", True, dt.date(2026, 11, 24), None)),
        ("[[Ann]] 2026-11-24T10:00", ("[[Ann]]", True, dt.date(2026, 11, 24), None)),
        ("[[Ann]] 2026-11-24 10:00", ("[[Ann]]", True, dt.date(2026, 11, 24), None)),
        ("[[Ann]] [[2026-11-23]]", ("[[Ann]]", True, dt.date(2026, 11, 23), None)),
        ("[[Ann]] [[Log/2026-11-22|Mon]]", ("[[Ann]]", True, dt.date(2026, 11, 22), None)),
        ("Ann Lee 2026-11-24", ("Ann Lee", True, dt.date(2026, 11, 24), None)),
        ("[[Ann]] won\u2019t", ("[[Ann]]", True, None, None)),
        ("[[Ann]]", ("[[Ann]]", False, None, None)),
        ("[[Ann]] [[Bo]]", ("[[Ann]] [[Bo]]", False, None, None)),  # two people
        ("[[Ann]] 2026-11-31", ("[[Ann]]", False, None, "2026-11-31")),
        ("[[Ann]] 21/11/2026", ("[[Ann]]", False, None, "21/11/2026")),
        ("[[Ann|A]] by email", ("[[Ann|A]]", False, None, "by email")),
    ],
)
def test_a_reported_back_to_entry(entry: str, split: tuple[object, ...]) -> None:
    assert split_entry(entry) == split
