"""The benchmark: `python bench/run.py` (sizes with `--sizes 1000,10000,50000`).

For each size, in one run on one machine: the floors (walk+stat; read all bytes; read and
parse front matter with libyaml; read and atomically rewrite a file the size of the output,
the floor of a watch edit), then vaultsync's cold `scan --dry-run`, warm `scan` (nothing
changed since the last one), `scan` after one note was edited, one edit under `watch` (edit →
Follow-ups.md rewritten, minus the quiet period), peak memory, and the watcher's memory after
a soak of random changes.
Whole-process timings, median of several runs, each figure with its ratio to its floor; a
scan and its floor are run in turn, so that a machine whose speed drifts slows both alike.
Vaults are generated (seeded) under a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

VAULTSYNC = [sys.executable, "-m", "vaultsync"]
SAMPLE = Path(__file__).resolve().parent.parent / "sample_vault"
QUIET = 0.2  # seconds of quiet the watcher waits for; subtracted from the edit latency

FLOOR = textwrap.dedent(
    """
    import os, sys, yaml
    level = sys.argv[2]
    for folder, dirs, files in os.walk(sys.argv[1]):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.endswith(".md"):
                continue
            path = os.path.join(folder, name)
            os.stat(path)
            if level == "stat":
                continue
            data = open(path, "rb").read()
            if level == "read":
                continue
            text = data.decode("utf-8", "replace")
            if text.startswith("---\\n"):
                end = text.find("\\n---", 3)
                if end > 0:
                    yaml.load(text[4:end], Loader=yaml.CSafeLoader)
    """
)


def timed(cmd: list[str], runs: int) -> tuple[float, int]:
    """Median wall time of `cmd` over `runs` runs, and its peak RSS in KiB."""
    times, peak = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return statistics.median(times), peak


def in_turn(floor: list[str], cmd: list[str], runs: int) -> tuple[float, float]:
    """Median wall times of a floor and of `cmd`, run one after the other `runs` times: run
    in blocks, a busy neighbour during one block alone made a ratio 1.2x one time, 1.8x the
    next."""
    floors, times = [], []
    for _ in range(runs):
        floors.append(timed(floor, 1)[0])
        times.append(timed(cmd, 1)[0])
    return statistics.median(floors), statistics.median(times)


def peak_rss(cmd: list[str]) -> int:
    """Peak RSS in KiB of one run of `cmd`, measured by a fresh child of a fresh python."""
    probe = (
        "import resource, subprocess, sys;"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


def soak(vault: Path, operations: int = 300, seed: int = 11) -> None:
    """Random creations, edits, renames and deletions of notes, as a day of writing does."""
    rng = random.Random(seed)
    folder = vault / "Soak"
    folder.mkdir(exist_ok=True)
    for i in range(operations):
        notes = sorted(folder.glob("*.md"))
        roll = rng.random()
        if roll < 0.4 or not notes:
            text = f'---\ndate: 2026-11-{rng.randint(1, 26):02d}\nreport_back_to: "[[P{i}]]"\n---\n'
            (folder / f"2026-11-20 Soak {i}.md").write_text(text)
        elif roll < 0.7:
            with rng.choice(notes).open("a") as handle:
                handle.write(f"- [ ] Follow up with [[P{i}]]\n")
        elif roll < 0.85:
            rng.choice(notes).rename(folder / f"2026-11-21 Renamed {i}.md")
        else:
            rng.choice(notes).unlink()
        time.sleep(0.005)


def memory_mb(pid: int) -> tuple[float, float]:
    """The peak and the present resident memory of a running process (Linux), in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            found[name] = int(value.split()[0]) / 1024
    return found.get("VmHWM", 0.0), found.get("VmRSS", 0.0)


def watch_edit(vault: Path, edits: int) -> tuple[float, tuple[float, float]] | None:
    """Median seconds from a one-note edit to Follow-ups.md rewritten, minus the quiet
    period; then the watcher's peak memory and its memory after a soak of random changes
    (MB)."""
    output = vault / "Follow-ups.md"
    proc = subprocess.Popen(
        [*VAULTSYNC, "watch", str(vault), "--quiet-period", str(QUIET)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # the first scan is done once it says it is watching
            if " watching " in line:
                break
        else:
            return None
        # Keep reading its log, or a full pipe would stop the watcher.
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        note = owing_note(vault)
        original = note.read_text(encoding="utf-8")
        latencies = []
        for i in range(edits):
            before = output.stat().st_mtime_ns
            owe_by(note, original, i)
            start = time.perf_counter()
            while output.stat().st_mtime_ns == before:
                if time.perf_counter() - start > 30 or proc.poll() is not None:
                    return None
                time.sleep(0.002)
            latencies.append(time.perf_counter() - start - QUIET)
            time.sleep(QUIET * 2)
        note.write_text(original)
        soak(vault)
        time.sleep(max(2.0, QUIET * 10))  # let the last batch settle
        return statistics.median(latencies), memory_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def rewrite(output: Path, runs: int) -> float:
    """Median seconds to read a file the size of the output and replace it atomically (write
    a copy, fsync, rename): the least an edit can cost while the output is one file that is
    rewritten whole, keeping what the user wrote around the block (SPEC §8)."""
    target = output.with_name("bench-rewrite.md")
    target.write_bytes(output.read_bytes())
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        data = target.read_bytes()
        temporary = target.with_name("bench-rewrite.tmp")
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        times.append(time.perf_counter() - start)
    target.unlink()
    return statistics.median(times)


def owing_note(vault: Path) -> Path:
    """A meeting whose items are open, so that a new due date in it shows in the output."""
    return next(
        p for p in sorted((vault / "Meetings").iterdir()) if "reported_back" not in p.read_text()
    )


def owe_by(note: Path, original: str, i: int) -> None:
    """Edit the note so that the output changes: its due date alternates between two days."""
    day = "2026-11-28" if i % 2 == 0 else "2026-11-29"
    owed = f'---\nreport_back_to: "[[Bench Person]]"\nreport_back_by: {day}\n'
    note.write_text(original.replace("---\n", owed, 1))


def edited_scan(scan: list[str], vault: Path, runs: int) -> tuple[float, float]:
    """Median seconds of `scan` after one note was edited a minute ago (it is read again, the
    others come from the cache), and the peak memory (MB) of one more such scan."""
    note = owing_note(vault)
    original = note.read_text(encoding="utf-8")

    def edit(i: int) -> None:
        owe_by(note, original, i)
        ago = time.time() - 60 + i  # a minute old, and a new modification time each time
        os.utime(note, (ago, ago))

    times = []
    for i in range(runs):
        edit(i)
        times.append(timed(scan, 1)[0])
    edit(runs)
    memory = peak_rss(scan) / 1024
    note.write_text(original)
    return statistics.median(times), memory


def ratio(value: float | None, floor: float) -> str:
    return "n/a" if value is None or not floor else f"{value / floor:.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--edits", type=int, default=15)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="vaultsync-bench-") as tmp:
        # Every process below: a cache of its own, and Python's compiled modules kept between
        # runs, as on a user's machine (a setting that turns them off would add 15-20 ms of
        # compiling to every run).
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([*VAULTSYNC, "scan", str(SAMPLE), "--dry-run"], stdout=subprocess.DEVNULL)
        for size in (int(s) for s in args.sizes.split(",")):
            vault = Path(tmp) / f"vault-{size}"
            generate(vault, size)
            written = time.time()
            floor = [sys.executable, "-c", FLOOR, str(vault)]
            floors = {"read": timed([*floor, "read"], args.runs)[0]}
            scan = [*VAULTSYNC, "scan", str(vault), "--today", "2026-11-27"]
            cold_scan = [*scan, "--dry-run", "--no-cache"]
            floors["yaml"], cold = in_turn([*floor, "yaml"], cold_scan, args.runs)
            # Notes written within the last 2 s are never cached (their mtime cannot prove
            # they did not change again); a user's notes are older than that.
            time.sleep(max(0.0, 2.5 - (time.time() - written)))
            subprocess.run(scan, check=True, stdout=subprocess.DEVNULL)
            floors["stat"], warm = in_turn([*floor, "stat"], scan, args.runs)
            edited = edited_scan(scan, vault, args.runs)
            memory = peak_rss(cold_scan) / 1024
            watched = watch_edit(vault, args.edits)
            floors["rewrite"] = rewrite(vault / "Follow-ups.md", args.edits)
            rows.append((size, floors, cold, warm, edited, watched, memory))
    print(
        "| notes | walk+stat | read | read+yaml | rewrite output | cold scan | warm scan "
        "| scan after an edit | watch edit | scan peak MB | after an edit MB "
        "| watch MB: peak / after soak |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, floors, cold, warm, edited, watched, memory in rows:
        edit, soaked = (
            (f"{watched[0] * 1000:.0f} ms ({ratio(watched[0], floors['rewrite'])})",
             f"{watched[1][0]:.0f} / {watched[1][1]:.0f}")
            if watched
            else ("failed", "failed")
        )
        print(
            f"| {size:,} | {floors['stat']:.2f} s | {floors['read']:.2f} s "
            f"| {floors['yaml']:.2f} s | {floors['rewrite'] * 1000:.1f} ms "
            f"| {cold:.2f} s ({ratio(cold, floors['yaml'])}) "
            f"| {warm:.2f} s ({ratio(warm, floors['stat'])}) | {edited[0]:.2f} s | {edit} "
            f"| {memory:.0f} | {edited[1]:.0f} | {soaked} |"
        )


if __name__ == "__main__":
    main()
