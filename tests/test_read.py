"""Large vaults are read on two processes; what they read is what one process reads."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import threading
from pathlib import Path

import pytest
from conftest import SAMPLE_VAULT, TODAY

from vaultsync import scan as scan_module
from vaultsync.scan import PARALLEL_FROM, Vault


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


@pytest.mark.parametrize("threads", [False, True], ids=["fork", "spawn"])
def test_two_processes_read_what_one_does(
    big_vault: Path, monkeypatch: pytest.MonkeyPatch, threads: bool
) -> None:
    # With another thread running (as in `watch`), the second process is spawned, not forked.
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    if threads:
        other.start()
    try:
        both, steps = read(big_vault)
    finally:
        stop.set()
    # The reading process counts the other's half with its own: its progress goes by twos.
    assert {b - a for a, b in itertools.pairwise(steps)} >= {2}
    monkeypatch.setattr(scan_module, "PARALLEL_FROM", 10**9)
    one, steps = read(big_vault)
    assert {b - a for a, b in itertools.pairwise(steps)} <= {0, 1}
    assert list(both.notes) == list(one.notes)
    assert both.notes == one.notes
    day = dt.date.fromisoformat(TODAY)
    assert both.report(day) == one.report(day)


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
    assert {b - a for a, b in itertools.pairwise(steps)} >= {2}
    assert both.notes == one.notes
