"""Hostile and broken input (SPEC §3, §12): every problem is a warning, never a crash or a
hang, and the rest of the vault is still processed.

Every vault here holds one good interaction (Carol's coffee, introduced by Bob Good) beside
the bad note, and each test checks that its follow-up is still there. Inputs that could
blow up (alias bombs, deep nesting, FIFOs, pathological lines) run in a subprocess with a
memory limit and a hang guard, so that a regression fails the test instead of the runner.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import BECOME_NOBODY, NOBODY, TODAY

from vaultsync import notes
from vaultsync.config import Config
from vaultsync.model import Report
from vaultsync.notes import NoteReader
from vaultsync.output import BEGIN, END
from vaultsync.scan import Vault, scan
from vaultsync.vault import Layout, discover

DAY = dt.date.fromisoformat(TODAY)
GOOD_SOURCE = "Meetings/2026-11-20 Coffee with Carol.md"
GOOD_PERSON = "People/Bob Good.md"
# A hang guard, not a speed requirement: every input below is read in well under a second
# by linear code; only a hang (or quadratic time on megabytes) comes anywhere near it.
HANG_GUARD = 60
MEMORY_LIMIT = 1024**3  # far above what any scan here needs


def make_vault(root: Path) -> Path:
    """A vault with one good introduction: Bob Good introduced Carol on 2026-11-20."""
    (root / "People").mkdir(parents=True)
    (root / "Meetings").mkdir()
    (root / GOOD_PERSON).write_text("---\ntags: [person]\n---\n# Bob Good\n", "utf-8")
    (root / GOOD_SOURCE).write_text(
        '---\npeople: ["[[Carol]]"]\nintroduced_by: "[[Bob Good]]"\n---\nGood coffee.\n', "utf-8"
    )
    return root


def assert_good(followups: list[dict[str, object]]) -> None:
    """The good note's follow-up, as SPEC §6 gives it: due 3 days after 2026-11-20."""
    good = [f for f in followups if f["source"] == GOOD_SOURCE]
    assert good == [{
        "id": good[0]["id"] if good else None, "kind": "report-back", "person": "Bob Good",
        "person_note": GOOD_PERSON, "source": GOOD_SOURCE, "reasons": ["introduction"],
        "due": "2026-11-23", "status": "overdue", "ready": False,
    }], "the good note beside the bad one lost its follow-up"


def as_dicts(report: Report) -> list[dict[str, object]]:
    from vaultsync.render import report_json

    return list(report_json(report)["followups"])


def read_vault(root: Path) -> tuple[Vault, Report, str]:
    vault = Vault(root)
    vault.load()
    result = vault.write(DAY, dry_run=True)
    assert_good(as_dicts(result.report))
    return vault, result.report, result.text


def warnings_for(report: Report, rel: str) -> list[tuple[int, str]]:
    return [(w.line, w.message) for w in report.warnings if w.path == rel]


def console_script() -> Path:
    script = Path(sys.executable).parent / "vaultsync"
    assert script.exists(), f"the console script is not installed next to {sys.executable}"
    return script


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def cli_json(root: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    """`vaultsync scan --format json --dry-run` in a subprocess with a memory limit; the
    run must finish, exit 0 and print no traceback."""
    try:
        run = subprocess.run(
            [str(console_script()), "scan", str(root), "--today", TODAY, "--format", "json",
             "--dry-run", *extra],
            capture_output=True, text=True, timeout=HANG_GUARD, check=False,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"vaultsync scan hung (no answer in {HANG_GUARD} s)")
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.returncode == 0, run.stderr[-3000:]
    data = json.loads(run.stdout)
    assert_good(data["followups"])
    return run, data


def json_warnings(data: dict[str, object], rel: str) -> list[tuple[int, str]]:
    return [(w["line"], w["message"]) for w in data["warnings"] if w["path"] == rel]


BODY_TASK = "- [ ] Report back to [[Bob Good]] on how it went 📅 2026-11-30\n"


def assert_body_task_read(followups: list[dict[str, object]], rel: str) -> None:
    """A note whose front matter is broken still has its body read (SPEC §3)."""
    found = [f for f in followups if f["source"] == rel]
    assert [(f["person"], f["reasons"], f["due"]) for f in found] == [
        ("Bob Good", ["task"], "2026-11-30")
    ], "the body of a note with broken front matter was not read"


# --- front matter that does not load ------------------------------------------------------

INVALID_YAML = {
    "unclosed-flow": ('people: ["[[Carol]]"\ndate: 2026-11-10\n', (2, 3)),
    "two-colons": ("people: a: b\n", (2, 2)),
    "tab-indent": ("people:\n\t- x\n", (2, 3)),
    "undefined-alias": ("people: *nowhere\n", (2, 2)),
    "unhashable-key": ("created: {{date}}\n", (2, 2)),
    "duplicate-anchor-garbage": ("a: &x 1\nb: *x *x\n", (2, 3)),
    "bad-escape": ('name: "\\q"\n', (2, 2)),
}


@pytest.mark.parametrize("case", sorted(INVALID_YAML))
def test_invalid_yaml_is_a_warning_with_a_line(tmp_path: Path, case: str) -> None:
    root = make_vault(tmp_path)
    block, (first, last) = INVALID_YAML[case]
    rel = "Meetings/broken.md"
    (root / rel).write_text(f"---\n{block}---\n{BODY_TASK}", "utf-8")
    _, report, _ = read_vault(root)
    found = warnings_for(report, rel)
    assert len(found) == 1, found
    line, message = found[0]
    assert first <= line <= last, (line, message)
    assert "YAML" in message or "front matter" in message
    assert_body_task_read(as_dicts(report), rel)


def test_yaml_never_constructs_python_objects(tmp_path: Path) -> None:
    root = make_vault(tmp_path)
    witness = tmp_path / "constructed"
    rel = "Meetings/evil.md"
    (root / rel).write_text(
        "---\npeople: !!python/object/apply:os.system\n"
        f"  - 'touch {witness}'\n"
        "name: !!python/object/new:builtins.list [[1]]\n---\n" + BODY_TASK,
        "utf-8",
    )
    _, report, _ = read_vault(root)
    assert not witness.exists(), "a YAML tag ran code"
    found = warnings_for(report, rel)
    assert len(found) == 1 and found[0][0] >= 1, found
    assert_body_task_read(as_dicts(report), rel)


def test_unclosed_front_matter_is_a_warning_on_line_1(tmp_path: Path) -> None:
    root = make_vault(tmp_path)
    rel = "Meetings/open.md"
    (root / rel).write_text('---\npeople: ["[[Carol]]"]\n' + BODY_TASK, "utf-8")
    _, report, _ = read_vault(root)
    assert [line for line, _ in warnings_for(report, rel)] == [1]


@pytest.mark.parametrize(
    "block",
    ["- a\n- b\n", "just a sentence\n", "42\n", "[people, attendees]\n", "!!set {a, b}\n"],
    ids=["list", "string", "number", "flow-list", "set"],
)
def test_front_matter_that_is_not_a_mapping_is_a_warning(tmp_path: Path, block: str) -> None:
    root = make_vault(tmp_path)
    rel = "Meetings/not a mapping.md"
    (root / rel).write_text(f"--- \n{block}---\n", "utf-8")  # `--- ` is no front matter
    (root / "Meetings/list.md").write_text(f"---\n{block}---\n{BODY_TASK}", "utf-8")
    vault, report, _ = read_vault(root)
    assert not vault.notes[rel].has_properties  # a first line of `--- ` opens no block
    for line, _message in warnings_for(report, rel):
        assert line >= 1
    found = warnings_for(report, "Meetings/list.md")
    assert len(found) == 1 and found[0][0] >= 1, found
    assert_body_task_read(as_dicts(report), "Meetings/list.md")


# --- alias bombs and deep nesting (run in a subprocess: they must not hang or blow up) ----


def alias_bomb(prop: str, levels: int = 9, width: int = 9) -> str:
    """Billion laughs: `levels` levels of `width` references each; 9x9 expands to 9**9 (387
    million) strings, 8x20 to 20**8 (25 billion), when anything walks it."""
    names = "abcdefghijklmnop"
    lines = [f"{names[0]}: &{names[0]} [" + ",".join(['"lol"'] * width) + "]"]
    for i in range(1, levels):
        refs = ",".join([f"*{names[i - 1]}"] * width)
        lines.append(f"{names[i]}: &{names[i]} [{refs}]")
    lines.append(f"{prop}: *{names[levels - 1]}")
    return "\n".join(lines) + "\n"


BOMBED = [
    "people", "attendees", "introduced_by", "advice_from", "report_back_to", "reported_back_to",
    "reports_on", "tags", "type", "categories", "aliases", "alias", "name", "email", "company",
    "date", "report_back_by", "last_contact", "keep_in_touch", "reported_back", "outcome",
]


@pytest.mark.parametrize(("levels", "width"), [(9, 9), (8, 20)], ids=["9x9", "8x20"])
def test_yaml_alias_bomb_in_every_property(tmp_path: Path, levels: int, width: int) -> None:
    """One meeting and one person note per property, each with a bomb in that property."""
    root = make_vault(tmp_path)
    for prop in BOMBED:
        bomb = alias_bomb(prop, levels, width)
        (root / f"Meetings/2026-11-21 Bomb {prop}.md").write_text(
            f"---\n{bomb}---\n{BODY_TASK}", "utf-8"
        )
        # People/ makes it a person note whatever its properties say.
        (root / f"People/Bomb {prop}.md").write_text(f"---\n{bomb}---\n", "utf-8")
    run, data = cli_json(root)
    for prop in BOMBED:
        rel = f"Meetings/2026-11-21 Bomb {prop}.md"
        mine = [f for f in data["followups"] if f["source"] == rel]
        assert any("task" in f["reasons"] for f in mine), f"{prop}: the body task was lost"
        for line, message in json_warnings(data, rel):
            assert line >= 1 and len(message) < 1000, (prop, line, message[:200])
    assert len(run.stdout) < 1_000_000, "the output grew with the expansion of a bomb"


def test_alias_bomb_of_mappings(tmp_path: Path) -> None:
    root = make_vault(tmp_path)
    names = "abcdefghi"
    lines = ["a: &a {x: lol, y: lol, z: lol}"]
    for i in range(1, 9):
        lines.append(f"{names[i]}: &{names[i]} " + "{" + ", ".join(
            f"k{j}: *{names[i - 1]}" for j in range(9)) + "}")
    block = "\n".join(lines) + "\npeople: [*i, *i]\nintroduced_by: *i\ndate: *i\n"
    (root / "Meetings/2026-11-21 Map bomb.md").write_text(f"---\n{block}---\n{BODY_TASK}", "utf-8")
    cli_json(root)


def flow_nesting(prop: str, depth: int, leaf: str) -> str:
    return f"{prop}: " + "[" * depth + leaf + "]" * depth + "\n"


def block_nesting(prop: str, depth: int, leaf: str) -> str:
    lines = [f"{prop}:"]
    lines += ["  " * (i + 1) + "-" for i in range(depth)]
    lines.append("  " * (depth + 1) + f"- {leaf}")
    return "\n".join(lines) + "\n"


def map_nesting(prop: str, depth: int, leaf: str) -> str:
    return f"{prop}: " + "{a: " * depth + leaf + "}" * depth + "\n"


NESTED_PROPS = ["people", "introduced_by", "tags", "aliases", "name", "email", "date",
                "keep_in_touch", "reported_back", "reported_back_to", "outcome"]


@pytest.mark.parametrize("depth", [5000, 999, 100])
@pytest.mark.parametrize("shape", ["flow", "block", "mapping"])
def test_deeply_nested_values(tmp_path: Path, shape: str, depth: int) -> None:
    """5000 levels (past any parser's limit) and 999 / 100 (which a YAML parser accepts and
    hands to vaultsync as a nested list): a warning or nothing, never a crash."""
    root = make_vault(tmp_path)
    build = {"flow": flow_nesting, "block": block_nesting, "mapping": map_nesting}[shape]
    if shape == "block" and depth > 1000:
        depth = 2000  # 2 * 2000**2 / 2 = 4 MB of indentation: deep enough, still a note
    for prop in NESTED_PROPS:
        (root / f"Meetings/2026-11-21 Deep {prop}.md").write_text(
            "---\n" + build(prop, depth, '"2026-11-01"') + "---\n" + BODY_TASK, "utf-8"
        )
    _, data = cli_json(root)
    for prop in NESTED_PROPS:
        rel = f"Meetings/2026-11-21 Deep {prop}.md"
        assert any(f["source"] == rel for f in data["followups"]), rel
        for line, _message in json_warnings(data, rel):
            assert line >= 1


def test_deeply_nested_markdown_body(tmp_path: Path) -> None:
    """Blockquotes, lists and brackets thousands deep, then a report-back task."""
    root = make_vault(tmp_path)
    quotes = "> " * 5000 + "deep\n\n"
    lists = "".join("  " * i + "- item\n" for i in range(3000)) + "\n"
    brackets = "- [ ] report back to [[Bob Good]] " + "[" * 5000 + "(" * 5000 + "\n\n"
    for name, body in (("quotes", quotes), ("lists", lists), ("brackets", brackets)):
        (root / f"Meetings/2026-11-21 Deep {name}.md").write_text(
            "---\ndate: 2026-11-21\n---\n" + body + BODY_TASK, "utf-8"
        )
    _, data = cli_json(root)
    for name in ("quotes", "lists", "brackets"):
        rel = f"Meetings/2026-11-21 Deep {name}.md"
        found = [f for f in data["followups"] if f["source"] == rel]
        assert [(f["person"], f["reasons"], f["due"]) for f in found] == [
            ("Bob Good", ["task"], "2026-11-30")
        ], f"{name}: the task after the nesting was lost"


def outline(depth: int, indent: str = "  ") -> str:
    return "".join(indent * i + f"- level {i + 1}\n" for i in range(depth))


@pytest.mark.parametrize("indent", ["  ", "\t", "    "], ids=["2-spaces", "tab", "4-spaces"])
@pytest.mark.parametrize("depth", [3, 9, 12, 30])
def test_report_back_task_in_and_after_a_deep_outline(
    tmp_path: Path, depth: int, indent: str
) -> None:
    """SPEC §6: a task item counts at any indent. Outliner users nest a dozen levels deep."""
    root = make_vault(tmp_path)
    inside = outline(depth, indent) + indent * depth + BODY_TASK
    after = outline(depth, indent) + "\n" + BODY_TASK
    (root / "Meetings/2026-11-21 Inside.md").write_text(inside, "utf-8")
    (root / "Meetings/2026-11-21 After.md").write_text(after, "utf-8")
    _, report, _ = read_vault(root)
    for rel in ("Meetings/2026-11-21 Inside.md", "Meetings/2026-11-21 After.md"):
        found = [(f.person.name, f.reasons, f.due) for f in report.followups if f.source == rel]
        assert found == [("Bob Good", ["task"], dt.date(2026, 11, 30))], rel


# --- bytes that are not text ---------------------------------------------------------------


def test_binary_data_in_a_note(tmp_path: Path) -> None:
    root = make_vault(tmp_path)
    rng = random.Random(20261127)
    data = bytes(rng.randrange(256) for _ in range(200_000))
    (root / "Meetings/binary.md").write_bytes(b"\0" + data)
    (root / "Meetings/late nul.md").write_bytes(b"---\ndate: 2026-11-01\n---\n" + data + b"\0")
    (root / "People/pic.md").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + data)
    _, report, _ = read_vault(root)
    for rel in ("Meetings/binary.md", "People/pic.md"):
        found = warnings_for(report, rel)
        assert len(found) == 1 and "binary" in found[0][1], found
    assert warnings_for(report, "Meetings/late nul.md"), "random bytes that are not UTF-8: warn"


def test_invalid_utf8_is_a_warning_with_its_line_and_the_note_is_read(tmp_path: Path) -> None:
    root = make_vault(tmp_path)
    rel = "Meetings/latin1.md"
    raw = (
        b'---\ndate: 2026-11-21\nname: Jos\xe9\nintroduced_by: "[[Bob Good]]"\n---\n'
        b"Caf\xe9 \xff\xfe\n" + BODY_TASK.encode()
    )
    (root / rel).write_bytes(raw)
    vault, report, _ = read_vault(root)
    found = warnings_for(report, rel)
    assert len(found) == 1, found
    assert found[0][0] == 3 and "UTF-8" in found[0][1]
    note = vault.notes[rel]
    assert note.has_properties and note.name == "Jos\ufffd"
    followups = [f for f in as_dicts(report) if f["source"] == rel]
    assert [(f["person"], f["reasons"], f["due"]) for f in followups] == [
        ("Bob Good", ["introduction", "task"], "2026-11-30")  # the task's date comes first
    ]


@pytest.mark.parametrize(
    "content",
    [b"", b"\n", b"   \r\n\t\n", b"---", b"---\n", b"---\n---", b"---\n---\n", b"\xef\xbb\xbf",
     b"...\n", b"---\n...\n", b"\r", b"\r\r\r---"],
    ids=["empty", "newline", "blank", "dashes", "dashes-nl", "empty-block", "empty-block-nl",
         "bom", "dots", "dots-close", "cr", "crs"],
)
def test_empty_and_degenerate_files(tmp_path: Path, content: bytes) -> None:
    root = make_vault(tmp_path)
    (root / "Meetings/degenerate.md").write_bytes(content)
    vault, report, _ = read_vault(root)
    assert "Meetings/degenerate.md" in vault.notes
    assert not vault.notes["Meetings/degenerate.md"].has_properties
    for line, _message in warnings_for(report, "Meetings/degenerate.md"):
        assert line >= 1


# --- size -----------------------------------------------------------------------------------


def test_five_megabyte_note(tmp_path: Path) -> None:
    """Many task-like lines without a phrase, and one real report-back task at the end."""
    root = make_vault(tmp_path)
    rel = "Meetings/2026-11-10 Big.md"
    lines = ["---", 'people: ["[[Carol]]"]', "date: 2026-11-10",
             "summary: " + "long text " * 20_000, "---"]
    size, i = 0, 0
    while size < 5 * 1024 * 1024:
        line = f"- [ ] item {i} about [[Bob Good]] with nothing owed, and [ ] {'x' * (i % 50)}"
        lines.append(line)
        size += len(line) + 1
        i += 1
    lines.append("- [ ] Report back to [[Bob Good]] 📅 2026-11-30")
    (root / rel).write_text("\n".join(lines) + "\n", "utf-8")
    assert (root / rel).stat().st_size > 5 * 1024 * 1024
    _, report, _ = read_vault(root)
    big = [f for f in as_dicts(report) if f["source"] == rel]
    assert [(f["person"], f["reasons"], f["due"]) for f in big] == [
        ("Bob Good", ["task"], "2026-11-30")
    ]
    assert warnings_for(report, rel) == []


HOSTILE_LINES = {
    # One megabyte each; read by linear code in milliseconds, by a backtracking regex in hours.
    "brackets-in-property": ('---\npeople: "' + "[" * 1_000_000 + '"\n---\n', ""),
    "link-openers-in-task": ("---\ndate: 2026-11-21\n---\n",
                             "- [ ] report back to [[Bob Good]] " + "[a](" * 250_000 + "\n"),
    "dots-in-email": ('---\ntags: [person]\nkeep_in_touch: 1w\nemail: "x@'
                      + "." * 1_000_000 + '@"\n---\n', ""),
    "backticks-after-a-comment": ("---\ndate: 2026-11-21\n---\n",
                                  "- [ ] report back to [[Bob Good]] %%\n" + "`" * 1_000_000
                                  + "\n%%\n"),
    "spaces-in-a-value": ("---\ntopic: a" + " " * 1_000_000 + "b\n---\n", ""),
    "spaces-in-a-list-item": ("---\ntopics:\n  - a" + " " * 1_000_000 + "b\n---\n", ""),
    "spaces-in-a-flow-list": ("---\ntopics: [a" + " " * 1_000_000 + "b]\n---\n", ""),
    "template-openers-in-property": ('---\npeople: "' + "<%" * 500_000 + '"\n---\n', ""),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_LINES))
def test_megabyte_lines_do_not_hang(tmp_path: Path, case: str) -> None:
    root = make_vault(tmp_path)
    head, body = HOSTILE_LINES[case]
    folder = "People" if "email" in case else "Meetings"
    rel = f"{folder}/2026-11-21 Hostile.md"
    (root / rel).write_text(head + body + BODY_TASK, "utf-8")
    _, data = cli_json(root)
    if folder == "Meetings":
        assert any(f["source"] == rel and "task" in f["reasons"] for f in data["followups"])
    else:
        assert any(f["kind"] == "reconnect" and f["person_note"] == rel for f in data["followups"])
        # and the rendered note (which offers a mailto: link) is computed too
        run = subprocess.run(
            [str(console_script()), "scan", str(root), "--today", TODAY],
            capture_output=True, text=True, timeout=HANG_GUARD, check=False,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        lines = (root / "Follow-ups.md").read_text("utf-8").split("\n")
        assert lines.count(BEGIN) == 1 and lines.count(END) == 1


# --- the file system --------------------------------------------------------------------------


def test_names_that_are_not_utf8_are_warnings_not_a_crash(tmp_path: Path) -> None:
    """A note or folder copied from an old archive may be named in Latin-1: its name cannot be
    written into a link, an id or the output, so it is passed over with a warning."""
    root = make_vault(tmp_path)
    meetings = os.fsencode(root / "Meetings")
    note = b"---\ndate: 2026-11-20\nreport_back_to: \"[[Sam]]\"\n---\n"
    with open(meetings + b"/caf\xe9 meeting.md", "wb") as handle:
        handle.write(note)
    os.mkdir(meetings + b"/Sch\xf6n")
    with open(meetings + b"/Sch\xf6n/inside.md", "wb") as handle:
        handle.write(note)
    vault, report, _ = read_vault(root)
    assert sorted(vault.notes) == sorted([GOOD_PERSON, GOOD_SOURCE])
    for shown in ("Meetings/caf\\xe9 meeting.md", "Meetings/Sch\\xf6n"):
        found = warnings_for(report, shown)
        assert len(found) == 1 and "not UTF-8" in found[0][1], report.warnings
    # The watcher's rule passes over such a note too, and the command line prints the warning.
    latin1 = os.fsdecode(b"Meetings/caf\xe9 x.md")
    assert Layout.of(root, Config()).skip_reason(latin1) == "not utf-8"
    run = subprocess.run(
        [str(console_script()), "scan", str(root), "--today", TODAY],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and "caf\\xe9 meeting.md" in run.stdout + run.stderr, run


def test_symlink_loop(tmp_path: Path) -> None:
    root = make_vault(tmp_path)
    (root / "Loop").mkdir()
    (root / "Loop/note.md").write_text("---\ndate: 2026-11-01\n---\n", "utf-8")
    os.symlink("..", root / "Loop/again")  # a folder linked to its parent
    os.symlink(".", root / "Loop/self")
    os.symlink("../People/Bob Good.md", root / "Loop/Bob link.md")  # a note linked inside
    vault, report, _ = read_vault(root)
    assert sorted(vault.notes) == sorted([GOOD_PERSON, GOOD_SOURCE, "Loop/note.md"])
    assert [row.person.note for row in report.people if row.person.note] == [GOOD_PERSON]


def test_symlink_to_a_note_outside_the_vault_is_not_read(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "2026-11-22 Secret.md"
    secret.write_text('---\nintroduced_by: "[[Eve]]"\n---\n' + BODY_TASK, "utf-8")
    os.symlink(secret, root / "Meetings/2026-11-22 Secret.md")
    vault, report, _ = read_vault(root)
    assert "Meetings/2026-11-22 Secret.md" not in vault.notes
    assert not [f for f in as_dicts(report) if "Secret" in str(f["source"])]
    assert "Eve" not in {row.person.name for row in report.people}
    found = warnings_for(report, "Meetings/2026-11-22 Secret.md")
    assert len(found) == 1 and "symbolic link" in found[0][1], found


def test_symlinked_folder_pointing_outside_the_vault(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    outside = tmp_path / "elsewhere"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep/2026-11-22 Elsewhere.md").write_text(
        '---\nintroduced_by: "[[Eve]]"\n---\n', "utf-8"
    )
    os.symlink(outside, root / "Linked")
    os.symlink("/", root / "Root")
    vault, report, _ = read_vault(root)
    assert not [rel for rel in vault.notes if rel.startswith(("Linked/", "Root/"))]
    assert "Eve" not in {row.person.name for row in report.people}
    for rel in ("Linked", "Root"):
        found = warnings_for(report, rel)
        assert len(found) == 1 and "symbolic link" in found[0][1], found
    # and a real scan writes inside the vault only
    scan(root, DAY)
    assert sorted(p.name for p in outside.rglob("*")) == ["2026-11-22 Elsewhere.md", "deep"]


def test_output_file_symlinked_out_of_the_vault_is_neither_read_nor_written(
    tmp_path: Path,
) -> None:
    """SPEC §2: nothing outside the vault root is ever read or written; Follow-ups.md itself
    may be a link to a file elsewhere."""
    root = make_vault(tmp_path / "vault")
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "elsewhere.md"
    content = f"SECRET above\n{BEGIN}\n{END}\nSECRET below\n".encode()
    target.write_bytes(content)
    os.symlink(target, root / "Follow-ups.md")
    run = subprocess.run([str(console_script()), "scan", str(root), "--today", TODAY],
                         capture_output=True, text=True, timeout=HANG_GUARD, check=False)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode in (0, 3), (run.stdout, run.stderr)
    assert target.read_bytes() == content
    assert sorted(p.name for p in outside.iterdir()) == ["elsewhere.md"]
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert b"SECRET" not in path.read_bytes(), f"{path} holds text read from outside"


def test_output_folder_symlinked_out_of_the_vault_is_not_written(tmp_path: Path) -> None:
    root = make_vault(tmp_path / "vault")
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, root / "Meta")
    (root / ".vaultsync.toml").write_text('output = "Meta/Follow-ups.md"\n', "utf-8")
    run = subprocess.run([str(console_script()), "scan", str(root), "--today", TODAY],
                         capture_output=True, text=True, timeout=HANG_GUARD, check=False)
    assert "Traceback" not in run.stderr, run.stderr
    assert list(outside.iterdir()) == [], "vaultsync wrote outside the vault"


def test_fifo_named_like_a_note_does_not_block(tmp_path: Path) -> None:
    root = make_vault(tmp_path)
    os.mkfifo(root / "x.md")
    os.mkfifo(root / "Meetings/2026-11-21 Pipe.md")
    _, data = cli_json(root)
    assert not [f for f in data["followups"] if "Pipe" in str(f["source"])]
    # The watcher's path: re-reading one changed path must not open the FIFO either.
    code = (
        "import sys; from pathlib import Path; from vaultsync.scan import Vault\n"
        "v = Vault(Path(sys.argv[1])); v.load()\n"
        "v.refresh(['x.md', 'Meetings/2026-11-21 Pipe.md'])\n"
        "print(sorted(v.notes))\n"
    )
    try:
        run = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True,
                             text=True, timeout=HANG_GUARD, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("Vault.refresh opened a FIFO and blocked")
    assert run.returncode == 0, run.stderr
    assert "Pipe" not in run.stdout and "x.md" not in run.stdout


def test_note_deleted_between_listing_and_reading(tmp_path: Path) -> None:
    root = make_vault(tmp_path)
    rel = "Meetings/2026-11-21 Gone.md"
    (root / rel).write_text('---\nintroduced_by: "[[Eve]]"\n---\n', "utf-8")
    config = Config()
    paths, _ = discover(root, Layout.of(root, config))
    assert rel in paths
    (root / rel).unlink()
    note = NoteReader(config).read(root, rel)
    assert note.path == rel and not note.has_properties and not note.links
    assert len(note.warnings) == 1 and note.warnings[0].path == rel

    # The same through Vault: loaded, then the file goes, then the watcher refreshes it.
    (root / rel).write_text('---\nintroduced_by: "[[Eve]]"\n---\n', "utf-8")
    vault = Vault(root)
    vault.load()
    assert rel in vault.notes
    (root / rel).unlink()
    vault.refresh([rel])
    assert rel not in vault.notes
    report = vault.report(DAY)
    assert_good(as_dicts(report))
    assert "Eve" not in {row.person.name for row in report.people}


def test_note_replaced_by_a_folder_between_listing_and_reading(tmp_path: Path) -> None:
    root = make_vault(tmp_path)
    rel = "Meetings/2026-11-21 Odd.md"
    (root / rel).write_text("---\ndate: 2026-11-21\n---\n", "utf-8")
    config = Config()
    paths, _ = discover(root, Layout.of(root, config))
    (root / rel).unlink()
    (root / rel).mkdir()
    note = NoteReader(config).read(root, rel)
    assert rel in paths and len(note.warnings) == 1 and note.warnings[0].path == rel


def test_a_note_larger_than_the_limit_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notes, "MAX_NOTE_BYTES", 100)
    front = b"---\ndate: 2026-11-21\n---\n"
    (tmp_path / "fits.md").write_bytes(front + b"x" * (100 - len(front)))
    (tmp_path / "over.md").write_bytes(front + b"x" * (101 - len(front)))
    reader = NoteReader(Config())
    fits, over = reader.read(tmp_path, "fits.md"), reader.read(tmp_path, "over.md")
    assert not fits.warnings and fits.date == dt.date(2026, 11, 21)
    assert [w.message for w in over.warnings] == ["larger than 64 MiB; not read"]
    assert over.date is None


@pytest.mark.parametrize("limit", [10_000, 60])
def test_a_note_still_being_written_is_read_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """Its size is taken before it is read; what was added since is read too, up to the
    limit. A FIFO stands for it: its size is 0, and its bytes come in parts."""
    monkeypatch.setattr(notes, "MAX_NOTE_BYTES", limit)
    text = b'---\ndate: 2026-11-21\nintroduced_by: "[[Eve]]"\n---\nMet Carol.\n'
    os.mkfifo(tmp_path / "growing.md")

    def write() -> None:
        with contextlib.suppress(BrokenPipeError), open(tmp_path / "growing.md", "wb") as pipe:
            for start in range(0, len(text), 7):
                pipe.write(text[start : start + 7])
                pipe.flush()
                time.sleep(0.005)

    writer = threading.Thread(target=write)
    writer.start()
    note = NoteReader(Config()).read(tmp_path, "growing.md")
    writer.join(HANG_GUARD)
    if limit > len(text):
        assert not note.warnings and note.date == dt.date(2026, 11, 21)
        assert [link.target for link in note.links["introduced_by"]] == ["Eve"]
    else:
        assert [w.message for w in note.warnings] == ["larger than 64 MiB; not read"]


# --- unreadable files --------------------------------------------------------------------

# Runs `vaultsync scan` once as root (output thrown away; --dry-run writes nothing) so that
# every module the run needs is imported while the interpreter's files are still readable
# (it may live under a folder only root can enter), then drops to nobody for good and runs
# the same scan again. Only that second run's output and exit code count.
DROP_AND_SCAN = f"""
import contextlib, io, os, sys
from vaultsync.cli import app
args = ["scan", *sys.argv[1:]]
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        app(args, prog_name="vaultsync")
    except SystemExit:
        pass
{BECOME_NOBODY}
app(args, prog_name="vaultsync")
"""


def unreadable_vault(base: Path) -> Path:
    root = make_vault(base / "vault")
    secret = root / "Meetings/2026-11-22 Secret.md"
    secret.write_text('---\nintroduced_by: "[[Eve]]"\n---\n', "utf-8")
    locked = root / "Locked"
    locked.mkdir()
    (locked / "2026-11-22 Inside.md").write_text('---\nintroduced_by: "[[Eve]]"\n---\n', "utf-8")
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    os.chmod(secret, 0o000)
    os.chmod(locked, 0o000)
    return root


def check_unreadable(data: dict[str, object]) -> None:
    assert_good(data["followups"])
    secret = json_warnings(data, "Meetings/2026-11-22 Secret.md")
    assert len(secret) == 1 and "read" in secret[0][1], data["warnings"]
    assert len(json_warnings(data, "Locked")) == 1, data["warnings"]
    assert "Eve" not in {p["person"] for p in data["people"]}


NOT_ROOT = "dropping to uid 65534 needs root (the chmod test runs instead)"
IS_ROOT = "root reads a chmod 000 file (the nobody test runs instead)"


@pytest.mark.skipif(os.geteuid() != 0, reason=NOT_ROOT)
def test_unreadable_note_as_nobody(world_readable_dir: Path) -> None:
    root = unreadable_vault(world_readable_dir)
    try:
        run = subprocess.run(
            [sys.executable, "-c", DROP_AND_SCAN, str(root), "--today", TODAY, "--dry-run",
             "--format", "json"],
            capture_output=True, text=True, timeout=HANG_GUARD, check=False, cwd="/",
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the scan as nobody hung")
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.returncode == 0, run.stderr[-3000:]
    check_unreadable(json.loads(run.stdout))
    assert not (root / "Follow-ups.md").exists()


# Reads a vault as nobody, as the watcher does, then reads some of its notes again.
DROP_AND_REFRESH = f"""
import datetime as dt, json, os, sys
from pathlib import Path
from vaultsync.scan import UNSURE, Vault, scan
root, paths = Path(sys.argv[1]), sys.argv[2:]
scan(root, dt.date.fromisoformat("{TODAY}"), dry_run=True, use_cache=False)
{BECOME_NOBODY}
vault = Vault(root, stamps=True)
vault.load(use_cache=False)
seen = []
for _ in range(2):
    for rel in paths:
        note = vault.notes.get(rel)
        seen.append([note and [w.message for w in note.warnings], vault.stamps.get(rel) == UNSURE])
    vault.refresh(paths)
print(json.dumps(seen))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason=NOT_ROOT)
def test_a_note_refused_is_kept_with_a_warning_and_tried_again(world_readable_dir: Path) -> None:
    """Under watch, a note the system refuses (or a disk error) is not a deleted note: it is
    kept with the warning a scan gives, and its time stamp does not vouch for it, so the
    watcher's next walk tries it again."""
    root = make_vault(world_readable_dir / "vault")
    # One in a folder that can be listed but not entered, one that cannot be opened.
    paths = ["Half-open/2026-11-22 Inside.md", "Meetings/2026-11-22 Secret.md"]
    (root / "Half-open").mkdir()
    for rel in paths:
        (root / rel).write_text('---\nintroduced_by: "[[Eve]]"\n---\n', "utf-8")
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    os.chmod(root / "Half-open", 0o644)
    os.chmod(root / paths[1], 0o000)
    run = subprocess.run(
        [sys.executable, "-c", DROP_AND_REFRESH, str(root), *paths],
        capture_output=True, text=True, timeout=HANG_GUARD, check=False, cwd="/",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    refused = [["cannot read this note: Permission denied"], True]
    assert json.loads(run.stdout) == [refused] * 4


# Scans as nobody with both caches, lets the note be read (its owner may), and scans again.
DROP_SCAN_ALLOW_SCAN = f"""
import datetime as dt, json, os, sys
from pathlib import Path
from vaultsync.scan import scan
root, rel, caches = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
today = dt.date.fromisoformat("{TODAY}")
os.environ["XDG_CACHE_HOME"] = caches + "/root"
scan(root, today, dry_run=True)  # what a scan with caches imports, imported as root
os.environ["XDG_CACHE_HOME"] = caches + "/nobody"
{BECOME_NOBODY}
seen = []
for _ in range(2):
    report = scan(root, today).report
    seen.append([w.message for w in report.warnings if w.path == rel])
    seen.append(sorted({{f.person.name for f in report.followups if f.source == rel}}))
    os.chmod(root / rel, 0o644)
print(json.dumps(seen))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason=NOT_ROOT)
def test_a_note_refused_once_is_read_when_allowed(world_readable_dir: Path) -> None:
    """A permission put right moves no mtime: neither cache may keep the refusal."""
    root = make_vault(world_readable_dir / "vault")
    rel = "Meetings/2026-11-22 Secret.md"
    (root / rel).write_text('---\nintroduced_by: "[[Eve]]"\n---\n', "utf-8")
    caches = world_readable_dir / "caches"
    (caches / "nobody").mkdir(parents=True)
    for path in [root, *root.rglob("*"), caches / "nobody"]:
        os.chown(path, NOBODY, NOBODY)
        os.utime(path, (1_700_000_000, 1_700_000_000))  # old enough to be cached
    os.chmod(root / rel, 0o000)
    run = subprocess.run(
        [sys.executable, "-c", DROP_SCAN_ALLOW_SCAN, str(root), rel, str(caches)],
        capture_output=True, text=True, timeout=HANG_GUARD, check=False, cwd="/",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    refused = ["cannot read this note: Permission denied"]
    assert json.loads(run.stdout) == [refused, [], [], ["Eve"]]
    assert sorted(p.name[:6] for p in (caches / "nobody/vaultsync").iterdir()) == [
        "notes-", "result",
    ]  # fmt: skip


@pytest.mark.skipif(os.geteuid() == 0, reason=IS_ROOT)
def test_unreadable_note_chmod(tmp_path: Path) -> None:
    root = unreadable_vault(tmp_path)
    try:
        _, data = cli_json(root)
        check_unreadable(data)
    finally:
        os.chmod(root / "Locked", 0o755)
        os.chmod(root / "Meetings/2026-11-22 Secret.md", 0o644)


# --- configuration -------------------------------------------------------------------------

BAD_CONFIG = """\
colour = "red"
horizon_days = -3
graph = "yes"
output = "../outside.md"
people_folders = [1, 2]
task_phrases = ""
ignore = "*.md"
[due_days]
intro = 3
advice = "30"
[properties]
bogus = ["x"]
participants = 5
"""
BAD_KEYS = ["colour", "horizon_days", "graph", "output", "people_folders", "task_phrases",
            "due_days.intro", "due_days.advice", "properties.bogus", "properties.participants"]


def test_config_with_unknown_keys_and_bad_values(tmp_path: Path) -> None:
    root = make_vault(tmp_path)
    (root / ".vaultsync.toml").write_text(BAD_CONFIG, "utf-8")
    before = sorted(p.name for p in root.rglob("*"))
    run = subprocess.run([str(console_script()), "scan", str(root), "--today", TODAY],
                         capture_output=True, text=True, timeout=HANG_GUARD, check=False)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr
    assert ".vaultsync.toml" in run.stderr
    missing = [key for key in BAD_KEYS if f"`{key}`" not in run.stderr]
    assert missing == [], f"not every problem was listed: {missing}\n{run.stderr}"
    assert sorted(p.name for p in root.rglob("*")) == before  # nothing written


@pytest.mark.parametrize(
    "raw",
    [b"output = \n", b"[due_days\n", b"\xff\xfe = 1\n", b"output = 'a.md'\noutput = 'b.md'\n",
     b"\0\0\0"],
    ids=["no-value", "unclosed-table", "not-utf8", "duplicate", "binary"],
)
def test_config_that_is_not_toml(tmp_path: Path, raw: bytes) -> None:
    root = make_vault(tmp_path)
    (root / ".vaultsync.toml").write_bytes(raw)
    run = subprocess.run([str(console_script()), "scan", str(root), "--today", TODAY],
                         capture_output=True, text=True, timeout=HANG_GUARD, check=False)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr and ".vaultsync.toml" in run.stderr
    assert not (root / "Follow-ups.md").exists()


# --- names that try to break links, tables and markers ---------------------------------------

ANN = "Ann]] |x %% #tag\nLee\r^b\\q `c` <i>"
BOB = "Bo%%b | c"
MEETING = "2026-11-20 Meet ]] | %% # \n x"


def test_hostile_names_cannot_break_the_output(tmp_path: Path) -> None:
    root = make_vault(tmp_path)
    (root / f"People/{ANN}.md").write_text(
        "---\ntags: [person]\nemail: ann@example.com\nkeep_in_touch: 1w\n---\n", "utf-8"
    )
    (root / f"People/{BOB}.md").write_text("---\ntags: [person]\n---\n", "utf-8")
    (root / f"Meetings/{MEETING}.md").write_text(
        "---\nintroduced_by: " + json.dumps(ANN) + "\npeople: " + json.dumps([BOB, ANN])
        + "\nreport_back_to: " + json.dumps(BOB) + "\n---\nNotes.\n",
        "utf-8",
    )
    result = scan(root, DAY)
    report = result.report
    assert_good(as_dicts(report))
    source = f"Meetings/{MEETING}.md"
    mine = {(f.person.note, tuple(f.reasons)) for f in report.followups if f.source == source}
    assert mine == {(f"People/{ANN}.md", ("introduction",)), (f"People/{BOB}.md", ("explicit",))}
    assert any(f.kind == "reconnect" and f.person.name == ANN for f in report.followups)
    rows = {row.person.name: row for row in report.people}
    assert rows[ANN].last_contact == rows[BOB].last_contact == dt.date(2026, 11, 20)

    text = (root / "Follow-ups.md").read_bytes().decode("utf-8")
    assert text == result.text
    lines = text.split("\n")
    assert lines.count(BEGIN) == 1 and lines.count(END) == 1
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    assert "\r" not in text
    for line in lines:
        if line not in (BEGIN, END):
            assert "%%" not in line, f"an Obsidian comment opens in: {line!r}"
    tasks = [line for line in lines if line.startswith("- [ ] ")]
    assert len(tasks) == len(report.followups)
    for line in tasks:
        assert line.rsplit(" ", 1)[-1].startswith("^vs-"), line
        stripped = re.sub(r"\[\[[^\[\]\n|]+(\|[^\[\]\n]+)?\]\]", "", line)
        assert "[[" not in stripped and "]]" not in stripped, line
    header = lines.index("| Person | Last contact | Open | Reported back |")
    rows = []
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    assert len(rows) == 3, rows  # Ann, Bob Good, Bo%%b | c
    for row in rows:
        cells = re.split(r"(?<!\\)\|", row)
        assert len(cells) == 6 and cells[0] == "" and cells[-1] == "", row  # 4 cells
    # The same scan again finds nothing to change: the output is a pure function.
    assert not scan(root, DAY).changed


def test_markdown_link_to_a_note_whose_name_holds_a_pipe(tmp_path: Path) -> None:
    """`|` means nothing in a Markdown link's URL (only a wikilink has an alias part), so
    `[Bob](People/Bo%25%25b%20%7C%20c.md)` is the note `People/Bo%%b | c.md`."""
    root = make_vault(tmp_path)
    (root / f"People/{BOB}.md").write_text("---\ntags: [person]\n---\n", "utf-8")
    (root / "Meetings/2026-11-20 Pipe.md").write_text(
        "---\nreport_back_to: '[Bob](People/Bo%25%25b%20%7C%20c.md)'\n---\n"
        "- [ ] Report back to [Bob](People/Bo%25%25b%20%7C%20c.md) 📅 2026-11-30\n",
        "utf-8",
    )
    _, report, _ = read_vault(root)
    mine = [(f.person.note, f.reasons) for f in report.followups
            if f.source == "Meetings/2026-11-20 Pipe.md"]
    assert mine == [(f"People/{BOB}.md", ["explicit", "task"])]
