"""The rules of SPEC §3-§7, one tiny vault each: every fixture has an expected JSON beside it.

Layout (in the style of python-frontmatter's and markdown-it-py's fixture tests)::

    tests/rules/<case>/vault/...        the notes (1-5 of them, written as Obsidian users do)
    tests/rules/<case>/expected.json    the whole object of SPEC §10 that
                                        `vaultsync scan <vault> --today 2026-11-27 --format json`
                                        must print for that vault

The scan runs in process (`Vault.load` then `Vault.report`, no subprocess) and never writes
into tests/rules: the output file is only rendered, never written (see the last test).

Adding a case: create `tests/rules/<case>/vault/`, then write `expected.json` by working the
result out from SPEC.md by hand. A case folder without `expected.json` fails. To (re)write
expectations from what the code does now, as a starting point that you then review line by
line against SPEC.md (never accept it blindly: the ids are hashes, everything else is the
SPEC's to decide)::

    VAULTSYNC_UPDATE_EXPECTED=1 python -m pytest tests/test_rules.py
    VAULTSYNC_UPDATE_EXPECTED=rule-task,date-forms python -m pytest tests/test_rules.py

Fixture files are bytes, not text: `frontmatter-crlf` holds CRLF line ends, one note of
`frontmatter-delimiters` starts with a UTF-8 BOM and one of `non-utf8-warns` is cp1252
(tests/rules/.gitattributes keeps git from normalising them).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, TODAY

from vaultsync.render import report_json
from vaultsync.scan import Vault

RULES = ROOT / "tests" / "rules"
UPDATE_ENV = "VAULTSYNC_UPDATE_EXPECTED"
CASES = sorted(p for p in RULES.iterdir() if p.is_dir()) if RULES.is_dir() else []


def scan_json(vault: Path) -> dict[str, Any]:
    """What `vaultsync scan VAULT --today TODAY --format json` prints, parsed; writes nothing."""
    v = Vault(vault)
    v.load()
    data: dict[str, Any] = report_json(v.report(dt.date.fromisoformat(TODAY)))
    return data


def dumps(data: object) -> str:
    """The JSON text as the command line prints it (plus a final newline)."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def wants_update(case: str) -> bool:
    value = os.environ.get(UPDATE_ENV, "").strip()
    if value.lower() in ("", "0", "false", "no"):
        return False
    if value.lower() in ("1", "true", "yes", "all"):
        return True
    return case in {name.strip() for name in value.split(",")}


def test_there_are_cases() -> None:
    assert len(CASES) >= 25, f"expected the rule cases under {RULES}"


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_rule(case: Path) -> None:
    vault, expected_file = case / "vault", case / "expected.json"
    if not vault.is_dir():
        pytest.fail(f"{case.name}: no vault/ folder; put the case's notes in {vault}")
    actual = scan_json(vault)
    if wants_update(case.name):
        expected_file.write_text(dumps(actual), encoding="utf-8")
    if not expected_file.is_file():
        pytest.fail(
            f"{case.name}: {expected_file} is missing. Write it by hand from SPEC.md, or run "
            f"`{UPDATE_ENV}={case.name} python -m pytest tests/test_rules.py` and review every "
            "line of what it wrote against SPEC.md."
        )
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                dumps(expected).splitlines(keepends=True),
                dumps(actual).splitlines(keepends=True),
                f"{case.name}/expected.json",
                "actual",
            )
        )
        pytest.fail(f"{case.name}: the scan differs from expected.json\n{diff}", pytrace=False)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_copy_of_vault_gives_identical_json(case: Path, tmp_path: Path) -> None:
    """SPEC §8: a pure function of the notes; a second copy (another machine) gives the same."""
    copy = tmp_path / "elsewhere" / "vault"
    shutil.copytree(case / "vault", copy, symlinks=True)
    first = dumps(scan_json(case / "vault"))
    assert dumps(scan_json(copy)) == first
    assert dumps(scan_json(case / "vault")) == first


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under `root`."""
    return {
        str(p.relative_to(root)): None if p.is_dir() else p.read_bytes()
        for p in sorted(root.rglob("*"))
    }


def test_scans_write_nothing_into_the_fixtures() -> None:
    before = snapshot(RULES)
    for case in CASES:
        if not (case / "vault").is_dir():
            continue
        vault = Vault(case / "vault")
        vault.load()
        vault.report(dt.date.fromisoformat(TODAY))
        result = vault.write(dt.date.fromisoformat(TODAY), dry_run=True)
        assert result.output.is_relative_to(case / "vault")
    after = snapshot(RULES)
    assert sorted(after) == sorted(before), "files were created or removed under tests/rules"
    changed = [rel for rel in before if before[rel] != after[rel]]
    assert not changed, f"files changed under tests/rules: {changed}"
