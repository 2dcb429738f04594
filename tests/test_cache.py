"""The cache of notes between scans: same answers as reading everything, never trusted blindly."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_VAULT, TODAY
from hypothesis import assume, given
from hypothesis import strategies as st

from vaultsync.cache import (
    FORMAT,
    NoteCache,
    ResultCache,
    cache_file,
    decode,
    decode_report,
    digest,
    encode,
    encode_report,
)
from vaultsync.config import Config
from vaultsync.links import Link
from vaultsync.model import Note, ScanWarning
from vaultsync.render import report_json
from vaultsync.scan import Vault, scan
from vaultsync.tasks import DONE, OPEN, Task

DAY = dt.date.fromisoformat(TODAY)
LONG_AGO = 1_700_000_000  # seconds: old enough that no note is "just written"


def every_field_set() -> Note:
    path = "Meetings/2026-11-20 Coffee.md"
    return Note(
        path=path,
        links={"participants": (Link("People/Ann"), Link("Bob", bare=True))},
        keywords={"tags": frozenset({"person", "work"})},
        aliases=("Annie",),
        name="Ann A.",
        email="ann@example.com",
        company="Acme",
        cadence_days=42,
        last_contact=dt.date(2026, 10, 1),
        date=dt.date(2026, 11, 20),
        report_back_by=dt.date(2026, 12, 1),
        reported_back=True,
        reported_back_on=dt.date(2026, 11, 22),
        reported_back_dates={Link("Ann"): dt.date(2026, 11, 21), Link("Bob"): None},
        outcome=True,
        has_properties=True,
        tasks=(
            Task(9, "Report back to [[Ann]]", DONE, None, dt.date(2026, 11, 23), (Link("Ann"),)),
        ),
        lines={"participants": 3},
        warnings=[ScanWarning(path, 4, "something")],
    )


def test_every_field_of_a_note_survives_the_cache() -> None:
    note = every_field_set()
    defaults = Note(note.path)
    for f in dataclasses.fields(Note):
        if f.name != "path":
            assert getattr(note, f.name) != getattr(defaults, f.name), f"set {f.name} above"
    assert decode(json.loads(json.dumps(encode(note)))) == note


text = st.text(max_size=8)
day = st.none() | st.dates()
link = st.builds(Link, text, st.booleans())
links = st.tuples(link) | st.tuples(link, link)
PATH = "Meetings/2026-11-20 Coffee.md"


note_fields = st.fixed_dictionaries(
    {},
    # Each field may be left at its default, or set, also to a value that is false.
    optional={
        "links": st.dictionaries(text, links, max_size=2),
        "keywords": st.dictionaries(text, st.frozensets(text, max_size=2), max_size=2),
        "aliases": st.tuples() | st.tuples(text),
        "name": st.none() | text,
        "email": st.none() | text,
        "company": st.none() | text,
        "cadence_days": st.none() | st.integers(0, 1000),
        "last_contact": day,
        "date": day,
        "report_back_by": day,
        "reported_back": st.booleans(),
        "reported_back_on": day,
        "reported_back_dates": st.dictionaries(link, day, max_size=2),
        "outcome": st.booleans(),
        "has_properties": st.booleans(),
        "tasks": st.tuples()
        | st.tuples(
            st.builds(Task, st.integers(0, 99), text, st.sampled_from([OPEN, DONE]), day,
                      day, st.tuples() | links)
        ),
        "lines": st.dictionaries(text, st.integers(0, 99), max_size=2),
        "warnings": st.lists(st.builds(ScanWarning, st.just(PATH), st.integers(0, 99), text),
                             max_size=2),
    },
)


@given(note_fields)
def test_any_note_survives_the_cache(fields: dict[str, Any]) -> None:
    note = Note(PATH, **fields)
    assert decode(json.loads(json.dumps(encode(note)))) == note


@given(note_fields, st.text(min_size=1, max_size=12))
def test_any_note_at_any_path_survives_the_cache_file(fields: dict[str, Any], rel: str) -> None:
    """Through the file: written, read back, written again as read beside a new note."""
    assume(rel not in ("a.md", "b.md"))
    warnings = [dataclasses.replace(w, path=rel) for w in fields.pop("warnings", [])]
    note = Note(rel, warnings=warnings, **fields)
    root = Path(tempfile.gettempdir()) / "any vault"  # only its name counts: no file in it
    first = NoteCache(root, Config())
    first.put(rel, 10, 1, note)
    first.put("a.md", 1, 1, Note("a.md"))
    first.save()
    second = NoteCache(root, Config())
    assert second.load({rel: (10, 1), "b.md": (2, 1)}) == {rel: note}  # `a.md` is gone
    second.put("b.md", 2, 1, Note("b.md"))
    second.save()
    third = NoteCache(root, Config())
    found = third.load({rel: (10, 1), "b.md": (2, 1), "a.md": (1, 1)})
    assert found == {rel: note, "b.md": Note("b.md")}


def vault_copy(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    shutil.copytree(SAMPLE_VAULT, root, ignore=shutil.ignore_patterns("Follow-ups.md"))
    for folder, _, files in os.walk(root):
        for name in files:
            os.utime(Path(folder) / name, (LONG_AGO, LONG_AGO))
    return root


def result(root: Path, use_cache: bool = True) -> dict[str, object]:
    return report_json(scan(root, DAY, dry_run=True, use_cache=use_cache).report)


def cache_lines(root: Path) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    return parse_cache(cache_file(root).read_bytes())


def parse_cache(data: bytes) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """A notes cache file as its header and, by path, [size, mtime_ns, note as data]."""
    head, *lines = data.split(b"\n")
    assert lines.pop() == b""  # every line ends with one
    notes = {}
    for line in lines:
        where, note = line.split(b"\t")
        size, mtime_ns, rel, check = json.loads(where)
        assert zlib.crc32(note) == check
        notes[rel] = [size, mtime_ns, json.loads(note)]
    return json.loads(head), notes


def write_cache_lines(root: Path, head: dict[str, Any], notes: dict[str, list[Any]]) -> None:
    """A notes cache file as vaultsync writes it, checksums included."""
    lines = [json.dumps(head).encode()]
    for rel, (size, mtime_ns, note) in notes.items():
        body = json.dumps(note).encode()
        lines.append(json.dumps([size, mtime_ns, rel, zlib.crc32(body)]).encode() + b"\t" + body)
    cache_file(root).write_bytes(b"\n".join(lines) + b"\n")


def test_warm_scan_answers_like_a_cold_one(tmp_path: Path) -> None:
    root = vault_copy(tmp_path)
    cold = result(root, use_cache=False)
    assert result(root) == cold  # fills the cache
    assert cache_file(root).exists()
    assert result(root) == cold  # from the cache


def test_an_unchanged_note_is_taken_from_the_cache(tmp_path: Path) -> None:
    """Same size and modification time: the cache answers, not the file (that is its point)."""
    root = vault_copy(tmp_path)
    result(root)
    note = root / "Meetings/2026-11-19 Intro call with Jordan Okafor.md"
    text = note.read_text(encoding="utf-8")
    swapped = text.replace("[[Sam Rivera]]", "[[Sam Rivere]]")
    assert len(swapped) == len(text) and swapped != text
    note.write_text(swapped, encoding="utf-8")
    os.utime(note, (LONG_AGO, LONG_AGO))

    def owed_by(data: dict[str, object]) -> set[str]:
        items = data["followups"]
        assert isinstance(items, list)
        return {f["person"] for f in items if f["source"] == note.relative_to(root).as_posix()}

    assert "Sam Rivera" in owed_by(result(root))
    assert "Sam Rivere" in owed_by(result(root, use_cache=False))


def test_a_changed_note_is_read_again(tmp_path: Path) -> None:
    root = vault_copy(tmp_path)
    result(root)
    note = root / "Meetings/2026-11-19 Intro call with Jordan Okafor.md"
    note.write_text(note.read_text(encoding="utf-8").replace("[[Sam Rivera]]", "[[Wei Zhang]]"))
    assert result(root) == result(root, use_cache=False)


@pytest.mark.parametrize(
    "damage",
    [
        b"\x00\xff not json",
        b"[]",
        b'{"format": 1, "key": "another version", "notes": {}}',
        b'{"format": 99}',
    ],
    ids=["garbage", "not-an-object", "foreign-key", "other-format"],
)
def test_a_damaged_or_foreign_cache_is_ignored_and_rewritten(tmp_path: Path, damage: bytes) -> None:
    root = vault_copy(tmp_path)
    expected = result(root, use_cache=False)
    path = cache_file(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(damage)
    assert result(root) == expected
    assert cache_lines(root)[0]["format"] == FORMAT


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short in the middle of a line
        lambda data: data.replace(b"\t", b" ", 1),  # a line without its tab
        lambda data: re.sub(rb"\n\[\d+,", b'\n["x",', data, count=1),  # a size that is not one
        lambda data: data + b"[1, 2, 3]\t{}\n",  # a path that is not text
    ],
    ids=["cut-short", "no-tab", "bad-size", "bad-path"],
)
def test_a_damaged_line_makes_the_cache_count_as_empty(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    root = vault_copy(tmp_path)
    expected = result(root)
    path = cache_file(root)
    whole = path.read_bytes()
    path.write_bytes(damage(whole))
    assert result(root) == expected
    assert path.read_bytes() == whole  # written anew, whole


def test_a_line_damaged_inside_its_note_is_not_trusted(tmp_path: Path) -> None:
    """A line that lost a field still parses (a field left out holds its default): its
    checksum tells it, and the note is read from its file again."""
    root = vault_copy(tmp_path)
    expected = result(root)
    path = cache_file(root)
    whole = path.read_bytes()
    assert b'"reported_back":true,' in whole
    path.write_bytes(whole.replace(b'"reported_back":true,', b"", 1))
    assert result(root) == expected
    assert cache_lines(root) == parse_cache(whole)  # the note read again, and cached again


def test_written_again_the_cache_keeps_each_unchanged_note_as_it_was(tmp_path: Path) -> None:
    root = vault_copy(tmp_path)
    result(root)
    before = cache_file(root).read_bytes().splitlines()
    note = root / "Meetings/2026-11-19 Intro call with Jordan Okafor.md"
    note.write_text(note.read_text(encoding="utf-8").replace("[[Sam Rivera]]", "[[Wei Zhang]]"))
    os.utime(note, (LONG_AGO + 1, LONG_AGO + 1))  # old enough to be cached again
    cold = result(root, use_cache=False)
    assert result(root) == cold
    after = cache_file(root).read_bytes().splitlines()
    assert len(after) == len(before)
    new = [line for line in after if line not in before]
    assert len(new) == 1 and b"Wei Zhang" in new[0]
    assert result(root) == cold  # every note from the file written again


def test_a_note_changed_just_now_keeps_its_old_line_until_it_can_be_cached(
    tmp_path: Path,
) -> None:
    """Its new mtime cannot vouch for it yet: it is read from its file, and the cache is not
    written again for it on every scan meanwhile; once it can be, its new line replaces it."""
    root = vault_copy(tmp_path)
    result(root)
    before = cache_file(root).read_bytes()
    rel = "Meetings/2026-11-19 Intro call with Jordan Okafor.md"
    note = root / rel
    note.write_text(note.read_text(encoding="utf-8").replace("[[Sam Rivera]]", "[[Wei Zhang]]"))
    soon = time.time() + 3600  # "just now" however slowly the scans below run
    os.utime(note, (soon, soon))
    cold = result(root, use_cache=False)
    assert result(root) == cold
    assert cache_file(root).read_bytes() == before
    os.utime(note, (LONG_AGO + 1, LONG_AGO + 1))
    assert result(root) == cold
    assert "Wei Zhang" in json.dumps(cache_lines(root)[1][rel])


def test_the_line_of_a_note_gone_or_cached_twice_is_dropped(tmp_path: Path) -> None:
    root = vault_copy(tmp_path)
    expected = result(root)
    path = cache_file(root)
    whole = path.read_bytes()
    path.write_bytes(whole + whole.splitlines(keepends=True)[1])  # a line twice
    assert result(root) == expected
    assert path.read_bytes() == whole
    gone = "Meetings/2026-11-19 Intro call with Jordan Okafor.md"
    (root / gone).unlink()
    result(root)
    lines = path.read_bytes().splitlines()
    assert len(lines) == len(whole.splitlines()) - 1
    assert gone not in cache_lines(root)[1]


def test_a_note_that_could_not_be_read_is_never_taken_from_a_cache(tmp_path: Path) -> None:
    """Nor from one written before such notes were left out of it: once its permission is
    put right, with its size and mtime as they were, it must be read."""
    rel = "Meetings/2026-11-22 Secret.md"
    refused = Note(rel, warnings=[ScanWarning(rel, 0, "cannot read this note: Permission denied")])
    first = NoteCache(tmp_path, Config())
    first.put(rel, 10, 1, refused)
    first.put("a.md", 1, 1, Note("a.md"))
    first.save()
    assert set(cache_lines(tmp_path)[1]) == {"a.md"}
    head, notes = cache_lines(tmp_path)
    notes[rel] = [10, 1, encode(refused)]  # as an earlier version cached it
    write_cache_lines(tmp_path, head, notes)
    second = NoteCache(tmp_path, Config())
    assert second.load({rel: (10, 1), "a.md": (1, 1)}) == {"a.md": Note("a.md")}
    assert second.changed  # written again without it
    report = scan(SAMPLE_VAULT, DAY, dry_run=True, use_cache=False).report
    report.warnings.append(refused.warnings[0])
    results = ResultCache(tmp_path, "key")
    results.put(report, b"output")
    assert not results.path.exists()
    head = {"format": FORMAT, "key": results.key, "output": digest(b"output")}
    data = json.loads("".join(encode_report(report)))
    results.path.write_text(json.dumps({**head, "report": data}), "utf-8")
    assert results.get(b"output") is None
    report.warnings.pop()
    results.put(report, b"output")
    assert results.get(b"output") == report


def test_a_tampered_entry_is_never_trusted(tmp_path: Path) -> None:
    root = vault_copy(tmp_path)
    expected = result(root)
    head, notes = cache_lines(root)
    for entry in notes.values():
        entry[2]["tasks"] = "not a list of tasks"
        entry[2]["date"] = 20261120
    write_cache_lines(root, head, notes)
    assert result(root) == expected


def test_the_key_changes_with_the_configuration(tmp_path: Path) -> None:
    root = vault_copy(tmp_path)
    result(root)
    (root / ".vaultsync.toml").write_text('[properties]\nparticipants = ["guests"]\n')
    note = root / "Meetings/2026-11-30 Board dinner.md"
    note.write_text(
        '---\nguests: ["[[Dana Whitfield]]"]\nreport_back_to: "[[Dana Whitfield]]"\n---\n'
    )
    os.utime(note, (LONG_AGO, LONG_AGO))
    assert result(root) == result(root, use_cache=False)
    assert NoteCache(root, Config()).key != NoteCache(root, Config(graph=False)).key


def test_the_cache_lives_outside_the_vault_and_no_cache_writes_none(
    tmp_path: Path, private_cache: Path
) -> None:
    root = vault_copy(tmp_path)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    scan(root, DAY, dry_run=True, use_cache=False)
    assert not cache_file(root).exists()
    scan(root, DAY, dry_run=True)
    assert cache_file(root).is_relative_to(private_cache)
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_notes_just_written_are_not_cached(tmp_path: Path) -> None:
    """Within a second or two of a write, size and mtime cannot prove that nothing changed."""
    root = tmp_path / "vault"
    root.mkdir()
    (root / "fresh.md").write_text("---\ndate: 2026-11-20\nwith: Ann\n---\n")
    (root / "old.md").write_text("---\ndate: 2026-11-19\nwith: Bob\n---\n")
    os.utime(root / "old.md", (LONG_AGO, LONG_AGO))
    scan(root, DAY, dry_run=True)
    assert set(cache_lines(root)[1]) == {"old.md"}


# The result cache: a scan that finds nothing changed reuses the last report.

RULES = sorted(p.parent for p in (Path(__file__).parent / "rules").glob("*/vault"))


def written_and_aged(tmp_path: Path) -> Path:
    """The sample vault after a scan wrote its Follow-ups.md, every file aged past the racy
    window, and a second scan that filled the result cache."""
    root = vault_copy(tmp_path)
    scan(root, DAY)
    os.utime(root / "Follow-ups.md", (LONG_AGO, LONG_AGO))
    scan(root, DAY)
    assert cache_file(root, "result").exists()
    return root


def both(root: Path, day: dt.date = DAY) -> tuple[object, object]:
    """(cached scan, reading scan) of the same vault, as JSON and output text, dry runs."""
    warm = scan(root, day, dry_run=True)
    cold = scan(root, day, dry_run=True, use_cache=False)
    return (report_json(warm.report), warm.text, warm.changed), (
        report_json(cold.report),
        cold.text,
        cold.changed,
    )


@pytest.mark.parametrize("case", RULES, ids=[case.name for case in RULES])
def test_every_report_survives_the_cache(case: Path) -> None:
    report = scan(case / "vault", DAY, dry_run=True, use_cache=False).report
    assert decode_report(json.loads("".join(encode_report(report)))) == report


def test_a_long_report_survives_the_cache_written_a_part_at_a_time() -> None:
    report = scan(SAMPLE_VAULT, DAY, dry_run=True, use_cache=False).report
    long = dataclasses.replace(
        report,
        followups=report.followups * (2500 // len(report.followups)),
        people=report.people * (2500 // len(report.people)),
    )
    parts = list(encode_report(long))
    assert decode_report(json.loads("".join(parts))) == long
    assert max(map(len, parts)) < len("".join(parts)) / 3  # no part holds a whole list


def test_an_unchanged_vault_is_answered_from_the_result_cache(tmp_path: Path) -> None:
    """No note is read: with the note cache gone and a note's text changed behind an
    unchanged size and mtime, only the kept result can still name Sam Rivera."""
    root = written_and_aged(tmp_path)
    cache_file(root).unlink()
    note = root / "Meetings/2026-11-19 Intro call with Jordan Okafor.md"
    note.write_text(note.read_text("utf-8").replace("[[Sam Rivera]]", "[[Sam Rivere]]"), "utf-8")
    os.utime(note, (LONG_AGO, LONG_AGO))
    result = scan(root, DAY)
    assert not result.changed
    assert result.text == (root / "Follow-ups.md").read_text("utf-8")
    assert "Sam Rivera" in result.text and "Sam Rivere" not in result.text
    assert not cache_file(root).exists()


def edit_note(root: Path) -> None:
    note = root / "Meetings/2026-11-19 Intro call with Jordan Okafor.md"
    note.write_text(note.read_text("utf-8").replace("[[Sam Rivera]]", "[[Wei Zhang]]"), "utf-8")
    os.utime(note, (LONG_AGO + 1, LONG_AGO + 1))


def add_note(root: Path) -> None:
    note = root / "Meetings/2026-11-25 Lunch with Ann.md"
    note.write_text('---\nreport_back_to: "[[Ann Example]]"\n---\n', "utf-8")
    os.utime(note, (LONG_AGO, LONG_AGO))


def delete_note(root: Path) -> None:
    (root / "Meetings/2026-11-19 Intro call with Jordan Okafor.md").unlink()


def configure(root: Path) -> None:
    (root / ".vaultsync.toml").write_text("horizon_days = 30\n", "utf-8")


def tick_a_box(root: Path) -> None:
    output = root / "Follow-ups.md"
    output.write_text(output.read_text("utf-8").replace("- [ ] ", "- [x] ", 1), "utf-8")


def edit_the_output(root: Path) -> None:
    output = root / "Follow-ups.md"
    output.write_text(output.read_text("utf-8").replace("Sam Rivera", "Sam R.", 1), "utf-8")


def hide_the_folder_of_templates(root: Path) -> None:
    (root / ".obsidian").mkdir(exist_ok=True)
    (root / ".obsidian/templates.json").write_text('{"folder": "Meetings"}', "utf-8")


@pytest.mark.parametrize(
    "change",
    [edit_note, add_note, delete_note, configure, tick_a_box, edit_the_output,
     hide_the_folder_of_templates],
)
def test_any_change_is_computed_again(tmp_path: Path, change: Callable[[Path], None]) -> None:
    root = written_and_aged(tmp_path)
    change(root)
    warm, cold = both(root)
    assert warm == cold


def test_another_day_is_computed_again(tmp_path: Path) -> None:
    root = written_and_aged(tmp_path)
    later = DAY + dt.timedelta(days=40)
    warm, cold = both(root, later)
    assert warm == cold and cold[2]  # forty days on, statuses have changed


def test_a_damaged_result_cache_is_ignored(tmp_path: Path) -> None:
    root = written_and_aged(tmp_path)
    path = cache_file(root, "result")
    data = json.loads(path.read_bytes())
    data["report"]["followups"][0][2] = "nobody known"
    path.write_text(json.dumps(data), "utf-8")
    warm, cold = both(root)
    assert warm == cold


def test_a_vault_just_written_keeps_no_result(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    root.mkdir()
    (root / "fresh.md").write_text('---\ndate: 2026-11-20\nreport_back_to: "[[Ann]]"\n---\n')
    scan(root, DAY)
    assert (root / "Follow-ups.md").exists()
    assert not cache_file(root, "result").exists()


def shared_values(vault: Vault) -> list[object]:
    """Every link and set of kind words the vault's notes hold in their properties (links in
    tasks are few: a task names the person it reports back to)."""
    found: list[object] = []
    for note in vault.notes.values():
        found += [link for links in note.links.values() for link in links]
        found += [*note.reported_back_dates, *note.keywords.values()]
    return found


@pytest.mark.parametrize("use_cache", [False, True], ids=["read", "from the cache"])
def test_a_link_named_in_many_notes_is_kept_once(tmp_path: Path, use_cache: bool) -> None:
    """At 50,000 notes, 88,000 links name a few thousand notes: each is held once."""
    root = vault_copy(tmp_path)
    scan(root, DAY, dry_run=True)  # fills the cache
    vault = Vault(root)
    vault.load(use_cache=use_cache)
    found = shared_values(vault)
    assert len(set(found)) < len(found)  # the sample names people in several notes
    assert len({id(value) for value in found}) == len(set(found))
