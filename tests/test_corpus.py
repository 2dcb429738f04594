"""Real vaults written by other people (../shared/corpus), read in place and never written.

Each corpus vault is scanned without writing (SPEC §12: nothing but the output file is ever
written, and here not even that), and the facts the corpus README documents are checked:
kepano's people and meeting, sorobby's blank line before `---`, ttrpgshare's folded scalar
and its 838 deprecated `alias:` notes. Variants the corpus lacks (CRLF, BOM, cp1252) are
derived at test time in tmp_path from real notes; nothing derived is committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import CORPUS, TODAY, corpus_vaults, needs_corpus

from vaultsync.config import Config
from vaultsync.followups import is_interaction
from vaultsync.model import Report, ScanWarning
from vaultsync.notes import NoteReader
from vaultsync.output import BEGIN, END
from vaultsync.people import Directory
from vaultsync.render import report_json
from vaultsync.scan import Vault, scan

DAY = dt.date.fromisoformat(TODAY)
pytestmark = needs_corpus

KEPANO = CORPUS / "kepano-obsidian" / "vault"
SOROBBY = CORPUS / "sorobby-starter" / "vault"
TTRPG = CORPUS / "ttrpgshare" / "vault"
PRISMATIC = "Pathfinder/2E/spells-dataview-backup/spells/level-7/prismatic-spray.md"


def _vault_ids() -> list[Path]:
    # With no corpus the list would be empty and pytest would skip without our reason; one
    # placeholder keeps the `needs_corpus` reason visible.
    return corpus_vaults() or [CORPUS / "missing" / "vault"]


ALL_VAULTS = pytest.mark.parametrize("root", _vault_ids(), ids=lambda p: p.parent.name)


def needs(root: Path) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not root.is_dir(), reason=f"corpus vault {root} is not present")


def tree_state(root: Path) -> dict[str, str]:
    """Every file and folder under `root` (symlinks not followed), with a sha256 of each
    file's bytes, so that any change, addition or removal shows up."""
    state: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        rel_folder = os.path.relpath(folder, root)
        for name in dirs:
            state[os.path.normpath(os.path.join(rel_folder, name)) + "/"] = "dir"
        for name in files:
            path = os.path.join(folder, name)
            rel = os.path.normpath(os.path.join(rel_folder, name))
            if os.path.islink(path):
                state[rel] = "link:" + os.readlink(path)
            else:
                with open(path, "rb") as handle:
                    state[rel] = hashlib.sha256(handle.read()).hexdigest()
    return state


def obsidian_front_matter(raw: bytes) -> str | None:
    """An independent reading of Obsidian's rule: the first line (after a BOM) is exactly
    `---`, and the block ends at the next line that is exactly `---` or `...`."""
    text = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = text.split("\n")
    if lines[0].rstrip("\r") != "---":
        return None
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r") in ("---", "..."):
            return "\n".join(line.rstrip("\r") for line in lines[1:i])
    return None


def yaml_fails(block: str) -> bool:
    """Whether the block is one vaultsync must warn about: not YAML, or not a mapping."""
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError:
        return True
    return data is not None and not isinstance(data, dict)


def load(root: Path) -> tuple[Vault, Report]:
    vault = Vault(root)
    vault.load()
    return vault, vault.report(DAY)


# --- every corpus vault, read in place --------------------------------------------------


@ALL_VAULTS
def test_corpus_vault_scans_in_place_without_writing(root: Path) -> None:
    before = tree_state(root)

    vault = Vault(root)
    vault.load()
    dry = vault.write(DAY, dry_run=True)
    report, text = dry.report, dry.text
    result = scan(root, DAY, dry_run=True)

    assert tree_state(root) == before, "scanning a vault changed, added or removed a file in it"
    assert not (root / "Follow-ups.md").exists()
    assert result.text == text, "a dry-run scan and Vault.render disagree"
    lines = text.splitlines()
    assert lines.count(BEGIN) == 1 and lines.count(END) == 1
    assert report.notes == len(vault.notes) > 0
    json.dumps(report_json(report))  # the JSON result of every real vault is serialisable
    for warning in report.warnings:
        assert warning.line >= 0
        assert warning.path == "." or (root / warning.path).exists(), warning


@ALL_VAULTS
def test_every_yaml_failure_in_a_corpus_vault_is_a_warning_with_file_and_line(root: Path) -> None:
    vault, report = load(root)
    by_path: dict[str, list[ScanWarning]] = {}
    for warning in report.warnings:
        by_path.setdefault(warning.path, []).append(warning)
    failing = []
    for rel in vault.notes:
        block = obsidian_front_matter((root / rel).read_bytes())
        if block is None or not yaml_fails(block):
            continue
        failing.append(rel)
        found = [
            w for w in by_path.get(rel, [])
            if "front matter" in w.message and w.line >= 1
        ]
        assert found, f"{rel}: its front matter does not load, but no warning with a line says so"
        first_body_line = block.count("\n") + 3  # the closing `---` is this line minus one
        for w in found:
            assert 1 <= w.line < first_body_line, (rel, w)
    if root == TTRPG:
        assert PRISMATIC in failing


@needs(TTRPG)
def test_ttrpgshare_folded_scalar_warns_with_file_and_line() -> None:
    vault, report = load(TTRPG)
    block = obsidian_front_matter((TTRPG / PRISMATIC).read_bytes())
    assert block is not None
    closing_line = block.count("\n") + 3
    found = [w for w in report.warnings if w.path == PRISMATIC]
    assert len(found) == 1, found
    assert "YAML" in found[0].message
    assert 2 <= found[0].line < closing_line
    note = vault.notes[PRISMATIC]
    assert not note.has_properties  # the note itself is still read (SPEC §3): it is a note
    assert PRISMATIC in vault.notes


@needs(KEPANO)
def test_kepano_templates_are_skipped_and_give_no_warnings() -> None:
    vault, report = load(KEPANO)
    templates = sorted(
        p.relative_to(KEPANO).as_posix() for p in (KEPANO / "Templates").rglob("*.md")
    )
    assert len(templates) >= 20
    assert not [rel for rel in vault.notes if rel.startswith("Templates/")]
    assert not [w for w in report.warnings if w.path.startswith("Templates/")]
    assert not [
        row for row in report.people if (row.person.note or "").startswith("Templates/")
    ]
    # The skip matters: read as notes, the `{{date}}` placeholders would be YAML errors.
    reader = NoteReader(Config())
    broken = [
        rel for rel in templates
        if any("YAML" in w.message for w in reader.parse(rel, (KEPANO / rel).read_bytes()).warnings)
    ]
    assert broken, "expected kepano's templates to hold YAML that PyYAML rejects"


@needs(KEPANO)
def test_kepano_people_and_meeting() -> None:
    vault, report = load(KEPANO)
    rows = {row.person.name: row for row in report.people}
    for name in ("Steph Ango", "Kevin Kelly"):
        assert name in rows, f"{name} is typed by categories: [[People]] and must be a person"
        assert rows[name].person.note == f"References/{name}.md"
    directory = Directory(vault.notes.values(), vault.config)
    assert "References/Steph Ango.md" in directory.person_notes
    assert "References/Kevin Kelly.md" in directory.person_notes
    meeting = vault.notes["Notes/2023-09-12 Meeting with Steph.md"]
    assert is_interaction(meeting, directory)
    assert meeting.date == dt.date(2023, 9, 12)
    assert meeting.path not in directory.person_notes
    assert rows["Steph Ango"].last_contact == dt.date(2023, 9, 12)
    assert rows["Kevin Kelly"].last_contact is None
    assert report.interactions >= 1
    as_json = report_json(report)
    steph = [p for p in as_json["people"] if p["person"] == "Steph Ango"]
    assert steph == [{
        "person": "Steph Ango", "note": "References/Steph Ango.md",
        "last_contact": "2023-09-12", "open": 0, "reported_back": 0,
    }]


@needs(SOROBBY)
def test_sorobby_blank_line_before_dashes_has_no_properties() -> None:
    rel = "Spaces/Contacts/Example Contact.md"
    raw = (SOROBBY / rel).read_bytes()
    assert raw.startswith(b"\n---"), "the corpus note should start with a blank line"
    vault, report = load(SOROBBY)
    note = vault.notes[rel]
    assert not note.has_properties
    assert note.keywords == {} and note.email is None and note.aliases == ()
    directory = Directory(vault.notes.values(), vault.config)
    assert rel not in directory.person_notes  # `tags: contact` is not a property here
    assert rel not in {row.person.note for row in report.people}


@needs(TTRPG)
def test_ttrpgshare_deprecated_alias_notes() -> None:
    alias_line = re.compile(rb"^alias:", re.MULTILINE)
    alias_notes = sorted(
        p.relative_to(TTRPG).as_posix() for p in TTRPG.rglob("*.md")
        if alias_line.search(p.read_bytes())
    )
    assert len(alias_notes) == 838
    vault, report = load(TTRPG)
    assert report.notes == len(vault.notes) > 1000
    directory = Directory(vault.notes.values(), vault.config)
    stems = {rel.rsplit("/", 1)[-1][:-3].lower() for rel in vault.notes}
    checked = 0
    for rel in alias_notes:
        assert rel in vault.notes
        note = vault.notes[rel]
        if not note.has_properties:
            assert rel == PRISMATIC  # the one whose YAML does not load
            continue
        assert note.aliases, f"{rel}: `alias:` was not read as an alias"
        for alias in note.aliases:
            if alias.lower() in stems:
                continue  # a file name wins over an alias (SPEC §4)
            found, others = directory.index.resolve(alias)
            assert rel == found or rel in others, (rel, alias, found)
            checked += 1
    assert checked > 500


# --- derived variants, built in tmp_path at test time -------------------------------------

DERIVED_FROM = {
    "kepano-obsidian": ["References/*.md", "Notes/*.md", "Categories/*.md"],
    "czottmann-people": ["People/*.md", "*.md"],
    "tasks-demo": ["Test Data/*.md"],
    "sorobby-starter": [
        "Spaces/Contacts/*.md", "Projects/Top Secret Project/Meetings/*.md", "Notes/*.md",
        "Journal/Entries/*.md", "_data_/templates/general/*.md",
    ],
    "ttrpgshare": ["Pathfinder/2E/spells-dataview-backup/spells/level-7/*.md"],
}


def crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def bom(raw: bytes) -> bytes:
    return raw if raw.startswith(b"\xef\xbb\xbf") else b"\xef\xbb\xbf" + raw


VARIANTS: dict[str, Callable[[bytes], bytes]] = {
    "crlf": crlf,
    "bom": bom,
    "crlf+bom": lambda raw: bom(crlf(raw)),
}


def derive(source: Path, dest: Path, globs: list[str], transform: Callable[[bytes], bytes]) -> int:
    """Copy the matching notes (and `.obsidian/*.json`) of `source` into `dest`, transformed."""
    count = 0
    for pattern in globs:
        for path in sorted(source.glob(pattern)):
            if not path.is_file():
                continue
            target = dest / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(transform(path.read_bytes()))
            count += 1
    for path in sorted((source / ".obsidian").glob("*.json")):
        target = dest / ".obsidian" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    return count


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("name", sorted(DERIVED_FROM))
def test_crlf_and_bom_variants_read_like_the_originals(
    tmp_path: Path, name: str, variant: str
) -> None:
    source = CORPUS / name / "vault"
    if not source.is_dir():
        pytest.skip(f"corpus vault {source} is not present")
    original, derived = tmp_path / "original", tmp_path / variant
    count = derive(source, original, DERIVED_FROM[name], lambda raw: raw)
    derive(source, derived, DERIVED_FROM[name], VARIANTS[variant])
    assert count > 0
    with_properties = 0
    orig_vault, orig_report = load(original)
    var_vault, var_report = load(derived)
    assert sorted(var_vault.notes) == sorted(orig_vault.notes)
    for rel, note in orig_vault.notes.items():
        other = var_vault.notes[rel]
        with_properties += note.has_properties
        assert other.has_properties == note.has_properties, rel
        assert other.keywords == note.keywords, rel
        assert other.aliases == note.aliases, rel
        assert other.links == note.links, rel
        assert (other.name, other.email, other.company) == (
            note.name, note.email, note.company), rel
        assert (other.date, other.cadence_days, other.last_contact) == (
            note.date, note.cadence_days, note.last_contact), rel
        assert (other.reported_back, other.reported_back_on, other.outcome) == (
            note.reported_back, note.reported_back_on, note.outcome), rel
        assert other.tasks == note.tasks, rel
    assert with_properties > 0
    assert report_json(var_report) == report_json(orig_report)
    # Warnings point at the same lines: the line of each property is found under CRLF too.
    for rel, note in orig_vault.notes.items():
        other = var_vault.notes[rel]
        assert other.warnings == note.warnings, rel
        assert other.lines == note.lines, f"{rel}: property lines differ under {variant}"


@needs(KEPANO)
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_warning_lines_are_the_same_under_crlf_and_bom(tmp_path: Path, variant: str) -> None:
    """A real person note given a block-style value that is not a cadence: the warning must
    name the line of `keep_in_touch` whatever the line ends."""
    rel = "References/Kevin Kelly.md"
    text = (KEPANO / rel).read_text("utf-8")
    assert text.startswith("---\n")
    text = "---\nkeep_in_touch:\n  - sometimes\n" + text[4:]
    for folder, transform in (("lf", lambda raw: raw), (variant, VARIANTS[variant])):
        (tmp_path / folder / "References").mkdir(parents=True)
        (tmp_path / folder / rel).write_bytes(transform(text.encode("utf-8")))
    lf = load(tmp_path / "lf")[1].warnings
    other = load(tmp_path / variant)[1].warnings
    assert [(w.path, w.line) for w in lf] == [(rel, 2)]
    assert [(w.path, w.line, w.message) for w in other] == [
        (w.path, w.line, w.message) for w in lf
    ]


@needs(KEPANO)
def test_cp1252_note_warns_and_is_still_read(tmp_path: Path) -> None:
    derive(KEPANO, tmp_path, ["References/*.md", "Notes/*.md"], lambda raw: raw)
    rel = "References/Steph Ango.md"
    text = (KEPANO / rel).read_text("utf-8")
    assert text.startswith("---\n")
    text = "---\nname: Stéphane Ängo\ncompany: Société Générale\n" + text[4:] + "\nCafé — naïve.\n"
    (tmp_path / rel).write_bytes(text.encode("cp1252"))

    vault, report = load(tmp_path)
    warnings = [w for w in report.warnings if w.path == rel]
    assert len(warnings) == 1, warnings
    assert "not valid UTF-8" in warnings[0].message
    assert warnings[0].line == 2  # the first byte that is not UTF-8 is on line 2
    note = vault.notes[rel]
    assert note.has_properties
    assert note.keywords.get("categories") == frozenset({"people"})
    assert note.name is not None
    assert note.name.startswith("St") and note.name.endswith("phane \ufffdngo")
    rows = {row.person.note: row for row in report.people}
    assert rows[rel].person.display == note.name
    assert rows[rel].last_contact == dt.date(2023, 9, 12)  # the meeting still counts


# --- a full real write, on a copy --------------------------------------------------------


def console_script() -> Path:
    script = Path(sys.executable).parent / "vaultsync"
    assert script.exists(), f"the console script is not installed next to {sys.executable}"
    return script


@needs(KEPANO)
def test_real_scan_of_a_copy_adds_only_follow_ups(tmp_path: Path) -> None:
    vault = tmp_path / "kepano"
    shutil.copytree(KEPANO, vault, symlinks=True)
    before = tree_state(vault)
    assert tree_state(KEPANO) == before  # the copy is faithful

    run = subprocess.run(
        [str(console_script()), "scan", str(vault), "--today", TODAY],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "updated" in run.stdout

    after = tree_state(vault)
    assert set(after) - set(before) == {"Follow-ups.md"}
    assert set(before) - set(after) == set()
    changed = [rel for rel in before if before[rel] != after[rel]]
    assert changed == []
    lines = (vault / "Follow-ups.md").read_text("utf-8").splitlines()
    assert lines.count(BEGIN) == 1 and lines.count(END) == 1

    again = subprocess.run(
        [str(console_script()), "scan", str(vault), "--today", TODAY],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert again.returncode == 0, again.stderr
    assert "is up to date" in again.stdout
    assert tree_state(vault) == after
