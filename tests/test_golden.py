"""The sample vault's Follow-ups.md and JSON at a pinned day, byte for byte.

The expected files live in tests/golden/. After a deliberate change of output, rewrite them
with `VAULTSYNC_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py` and review the diff.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE_VAULT, TODAY

from vaultsync.cache import cache_file
from vaultsync.render import report_json
from vaultsync.scan import ScanResult, scan

GOLDEN = ROOT / "tests" / "golden"


def check(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("VAULTSYNC_UPDATE_GOLDEN"):
        path.write_bytes(actual.encode("utf-8"))
    if not path.exists():
        pytest.fail(f"{path} is missing: run with VAULTSYNC_UPDATE_GOLDEN=1 and review it")
    assert actual == path.read_bytes().decode("utf-8")


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    copy = tmp_path / "vault"
    # The quick start writes sample_vault/Follow-ups.md; the golden run starts without it.
    shutil.copytree(
        SAMPLE_VAULT, copy, symlinks=True, ignore=shutil.ignore_patterns("Follow-ups.md")
    )
    return copy


def warm_scan(vault: Path, *, dry_run: bool = False) -> ScanResult:
    """A scan answered by the result cache: the notes are aged past the racy window, two
    scans fill the note cache and then the result cache, and the third is served from it."""
    today = dt.date.fromisoformat(TODAY)
    for path in vault.rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.utime(path, (1_700_000_000, 1_700_000_000))
    scan(vault, today)
    scan(vault, today)
    assert cache_file(vault, "result").exists()
    return scan(vault, today, dry_run=dry_run)


@pytest.mark.parametrize("cached", [False, True], ids=["read", "from-cache"])
def test_sample_vault_follow_ups(vault: Path, cached: bool) -> None:
    if cached:
        result = warm_scan(vault)
        assert not result.changed
    else:
        result = scan(vault, dt.date.fromisoformat(TODAY))
        assert result.changed
    text = (vault / "Follow-ups.md").read_bytes().decode("utf-8")
    assert result.text == text
    check("sample_vault.Follow-ups.md", text)


@pytest.mark.parametrize("cached", [False, True], ids=["read", "from-cache"])
def test_sample_vault_json(vault: Path, cached: bool) -> None:
    today = dt.date.fromisoformat(TODAY)
    result = warm_scan(vault, dry_run=True) if cached else scan(vault, today, dry_run=True)
    check(
        "sample_vault.json",
        json.dumps(report_json(result.report), indent=2, ensure_ascii=False) + "\n",
    )


def test_sample_vault_tells_its_stories(vault: Path) -> None:
    """The three stories the sample vault exists for, checked by meaning, not by bytes."""
    data = report_json(scan(vault, dt.date.fromisoformat(TODAY), dry_run=True).report)
    open_items = {(f["person"], f["source"]): f for f in data["followups"]}
    closed = {(f["person"], f["source"]): f for f in data["closed"]}

    campaign = open_items["Marcus Lee", "Meetings/2026-08-05 Campaign advice from Marcus.md"]
    assert campaign["reasons"] == ["advice"] and campaign["ready"]

    intro = open_items["Sam Rivera", "Meetings/2026-11-19 Intro call with Jordan Okafor.md"]
    assert intro["reasons"] == ["introduction"] and intro["status"] == "overdue"

    elena = sorted(
        (source, f["closed_on"])
        for (person, source), f in closed.items()
        if person == "Elena Vasquez"
    )
    assert [closed_on for _, closed_on in elena] == ["2026-07-15", "2026-09-20", "2026-10-30"]
    assert ("Elena Vasquez", "Meetings/2026-11-18 Mock interview with Elena.md") in open_items


def test_second_scan_changes_nothing(vault: Path) -> None:
    today = dt.date.fromisoformat(TODAY)
    scan(vault, today)
    before = (vault / "Follow-ups.md").stat().st_mtime_ns
    assert not scan(vault, today).changed
    assert (vault / "Follow-ups.md").stat().st_mtime_ns == before
