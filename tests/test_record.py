"""Recording a tick in a note's front matter: only the intended lines change, byte for byte.

The pure edits (`add_reported_back_to`, `set_last_contact`) are checked shape by shape, then
on every note of the real-vault corpus that has front matter, as written and with CRLF and
BOM variants derived here (the corpus has neither): the edited bytes must equal the original
with exactly the new lines inserted, and the reader must then see the item as closed.
`record_file` is checked on real files, including a writer that changes the note between
our read and our write.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import corpus_vaults, needs_corpus, saved_in_place, time_limit

from vaultsync.config import ROLES, Config
from vaultsync.errors import RecordError
from vaultsync.followups import item_id
from vaultsync.ledger import compute
from vaultsync.links import Link, parse_reference
from vaultsync.model import Note
from vaultsync.notes import NoteReader, split_entry
from vaultsync.output import FileChanged, write_atomic
from vaultsync.people import is_person_note
from vaultsync.record import (
    add_reported_back_to,
    entry_text,
    record_file,
    reference,
    set_last_contact,
    yaml_quote,
)

DAY = dt.date(2026, 11, 27)
ENTRY = "[[Sam Rivera]] 2026-11-27"
SAM = Link("Sam Rivera")
READER = NoteReader(Config())
BOM = "\ufeff".encode()
LAST_CONTACT_NAMES = ROLES["last_contact"]


def read(text: str | bytes, rel: str = "Meetings/m.md") -> Note:
    raw = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    return READER.parse(rel, raw)


def crlf(raw: bytes) -> bytes:
    return re.sub(rb"(?<!\r)\n", b"\r\n", raw)


VARIANTS: dict[str, Callable[[bytes], bytes]] = {
    "lf": lambda raw: raw,
    "crlf": crlf,
    "bom": lambda raw: BOM + raw,
    "crlf+bom": lambda raw: BOM + crlf(raw),
}


# -- the shapes of reported_back_to -------------------------------------------------------

SHAPES = [
    # (name, before, after)
    (
        "no front matter",
        "Notes from the call.\n",
        '---\nreported_back_to:\n  - "[[Sam Rivera]] 2026-11-27"\n---\nNotes from the call.\n',
    ),
    (
        "empty note",
        "",
        '---\nreported_back_to:\n  - "[[Sam Rivera]] 2026-11-27"\n---\n',
    ),
    (
        "empty block",
        "---\n---\nbody\n",
        '---\nreported_back_to:\n  - "[[Sam Rivera]] 2026-11-27"\n---\nbody\n',
    ),
    (
        "new key at the end",
        "---\ndate: 2026-11-19  # the call\nwith: '[[Jo]]'\n---\nbody\n",
        "---\ndate: 2026-11-19  # the call\nwith: '[[Jo]]'\n"
        'reported_back_to:\n  - "[[Sam Rivera]] 2026-11-27"\n---\nbody\n',
    ),
    (
        "closed by dots",
        "---\ndate: 2026-11-19\n...\nbody\n",
        '---\ndate: 2026-11-19\nreported_back_to:\n  - "[[Sam Rivera]] 2026-11-27"\n...\nbody\n',
    ),
    (
        "block list, indented",
        '---\nreported_back_to:\n    - "[[Ann]]"\n    - "[[Bo]]"  # late\n\n# end\nz: 1\n---\n',
        '---\nreported_back_to:\n    - "[[Ann]]"\n    - "[[Bo]]"  # late\n'
        '    - "[[Sam Rivera]] 2026-11-27"\n\n# end\nz: 1\n---\n',
    ),
    (
        "block list, not indented",
        "---\nreported_back_to:\n- '[[Ann]]'\nz: 1\n---\n",
        "---\nreported_back_to:\n- '[[Ann]]'\n- \"[[Sam Rivera]] 2026-11-27\"\nz: 1\n---\n",
    ),
    (
        "flow list",
        "---\nreported_back_to: ['[[Ann]]', \"[[Bo]]\"]  # c\nz: 1\n---\n",
        "---\nreported_back_to: ['[[Ann]]', \"[[Bo]]\", \"[[Sam Rivera]] 2026-11-27\"]  # c\n"
        "z: 1\n---\n",
    ),
    (
        "empty flow list",
        "---\nreported_back_to: []\n---\n",
        '---\nreported_back_to: ["[[Sam Rivera]] 2026-11-27"]\n---\n',
    ),
    (
        "flow list over lines, trailing comma",
        "---\nreported_back_to: [\n  '[[Ann]]',\n]\n---\n",
        "---\nreported_back_to: [\n  '[[Ann]]', \"[[Sam Rivera]] 2026-11-27\",\n]\n---\n",
    ),
    (
        "one value",
        '---\nReported Back To: "[[Ann]]"  # said so\nz: 1\n---\n',
        '---\nReported Back To:  # said so\n  - "[[Ann]]"\n  - "[[Sam Rivera]] 2026-11-27"\n'
        "z: 1\n---\n",
    ),
    (
        "a bare link is a nested list in YAML",
        "---\nreported-back-to: [[Ann]]\n---\n",
        '---\nreported-back-to:\n  - "[[Ann]]"\n  - "[[Sam Rivera]] 2026-11-27"\n---\n',
    ),
    (
        "empty value",
        "---\nreported_back_to:\nz: 1\n---\n",
        '---\nreported_back_to:\n  - "[[Sam Rivera]] 2026-11-27"\nz: 1\n---\n',
    ),
    (
        "null",
        "---\nreported_back_to: null  # nobody yet\n---\n",
        '---\nreported_back_to:  # nobody yet\n  - "[[Sam Rivera]] 2026-11-27"\n---\n',
    ),
    (
        "empty string",
        "---\nreported_back_to: ''\n---\n",
        '---\nreported_back_to:\n  - "[[Sam Rivera]] 2026-11-27"\n---\n',
    ),
    (
        "a block scalar becomes one entry",
        "---\nreported_back_to: >\n  [[Ann]]\nz: 1\n---\n",
        '---\nreported_back_to:\n  - "[[Ann]]\\n"\n  - "[[Sam Rivera]] 2026-11-27"\nz: 1\n---\n',
    ),
    (
        "an indented mapping",
        "---\n  date: 2026-11-19\n---\n",
        '---\n  date: 2026-11-19\n  reported_back_to:\n    - "[[Sam Rivera]] 2026-11-27"\n---\n',
    ),
    (
        "already there: nothing changes",
        '---\nreported_back_to:\n  - "[[Sam Rivera]] 2026-11-27"\n---\n',
        '---\nreported_back_to:\n  - "[[Sam Rivera]] 2026-11-27"\n---\n',
    ),
    (
        "JSON front matter stays JSON",
        '---\n{\n  "tags": "journal",\n  "publish": false\n}\n---\nbody\n',
        '---\n{\n  "tags": "journal",\n  "publish": false,\n'
        '  "reported_back_to": ["[[Sam Rivera]] 2026-11-27"]\n}\n---\nbody\n',
    ),
    (
        "a flow mapping on one line",
        "---\n{date: 2026-11-19, reported_back_to: [Ann]}\n---\n",
        '---\n{date: 2026-11-19, reported_back_to: [Ann, "[[Sam Rivera]] 2026-11-27"]}\n---\n',
    ),
    (
        "the same name twice: YAML keeps the last, so the last is edited",
        "---\nreported_back_to: '[[Ann]]'\nreported_back_to: '[[Bo]]'\n---\n",
        "---\nreported_back_to: '[[Ann]]'\nreported_back_to:\n  - '[[Bo]]'\n"
        '  - "[[Sam Rivera]] 2026-11-27"\n---\n',
    ),
    (
        "a BOM that starts the properties, which libyaml leaves out of its positions",
        "---\n\ufeffreported_back_to: '[[Ann]]' # c\n---\n",
        "---\n\ufeffreported_back_to: # c\n  - '[[Ann]]'\n  - \"[[Sam Rivera]] 2026-11-27\"\n---\n",
    ),
    (
        "a list with an anchor",
        '---\nreported_back_to: &told\n  - "[[Ann]] 2026-11-01"\n---\n',
        '---\nreported_back_to: &told\n  - "[[Ann]] 2026-11-01"\n  - "[[Sam Rivera]] 2026-11-27"\n'
        "---\n",
    ),
    (
        "a list with a tag",
        '---\nreported_back_to: !!seq\n- "[[Ann]] 2026-11-01"\n---\n',
        '---\nreported_back_to: !!seq\n- "[[Ann]] 2026-11-01"\n- "[[Sam Rivera]] 2026-11-27"\n'
        "---\n",
    ),
    (
        "tabs after a colon and after values, which libyaml reads as YAML allows",
        '---\ndate:\t2026-11-10\ntopic: Coffee chat\t\nreported_back_to: "[[Ann]]"\t\n---\n',
        '---\ndate:\t2026-11-10\ntopic: Coffee chat\t\nreported_back_to:\t\n  - "[[Ann]]"\n'
        '  - "[[Sam Rivera]] 2026-11-27"\n---\n',
    ),
]


@pytest.mark.parametrize(("name", "before", "after"), SHAPES, ids=[s[0] for s in SHAPES])
def test_add_reported_back_to_shapes(name: str, before: str, after: str) -> None:
    assert add_reported_back_to(before, ENTRY) == after
    note = read(after)
    assert SAM in note.links["reported_back_to"]
    assert note.reported_back_dates[SAM] == DAY


@pytest.mark.parametrize(("name", "before", "after"), SHAPES, ids=[s[0] for s in SHAPES])
@pytest.mark.parametrize("variant", ["crlf", "bom", "crlf+bom"])
def test_shapes_keep_crlf_and_bom(name: str, before: str, after: str, variant: str) -> None:
    convert = VARIANTS[variant]
    raw_before = convert(before.encode())
    expected = convert(after.encode())
    if not before:  # an empty note has no line end to follow: LF, after the BOM if any
        expected = (BOM if "bom" in variant else b"") + after.encode()
    edited = add_reported_back_to(raw_before.decode(), ENTRY)
    assert edited.encode() == expected


@pytest.mark.parametrize(
    ("before", "message"),
    [
        ("---\ndate: [2026\n---\n", "not valid YAML"),
        ("---\n- a\n- b\n---\n", "not a list of `name: value`"),
        ("---\n{reported_back_to: '[[Ann]]'}\n---\n", "not a `[…]` list"),
        ("---\ndate: 2026-11-19\nno closing line\n", "no closing `---`"),
        ("---\na: &x ['[[Ann]]']\nreported_back_to: *x\n---\n", "alias"),
        ("---\nreported_back_to: {Ann: yes}\n---\n", "pairs"),
        ("---\nbase: &b {reported_back_to: '[[Ann]]'}\n<<: *b\n---\n", "merges in"),
        ("---\n<<: {last_contact: 2026-12-01}\n---\n", "merges in"),
    ],
)
def test_what_cannot_be_edited_safely_is_refused(before: str, message: str) -> None:
    with pytest.raises(RecordError, match=re.escape(message)):
        add_reported_back_to(before, ENTRY)


def test_the_key_is_found_by_any_configured_name() -> None:
    before = "---\nclosed_loops:\n  - '[[Ann]]'\n---\n"
    after = add_reported_back_to(before, ENTRY, names=("reported_back_to", "closed_loops"))
    assert after == "---\nclosed_loops:\n  - '[[Ann]]'\n  - \"[[Sam Rivera]] 2026-11-27\"\n---\n"


# -- values that must stay valid YAML -----------------------------------------------------

HOSTILE_NAMES = [
    'Ann "the Fixer" Lee',
    "back\\slash",
    "colon: and # hash",
    "tab\there",
    "line\u2028separator",
    "quote' and ]] and |",
    "%% vaultsync:end %%",
    "Zoë Ångström 李",
    "- looks like a list",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_names_are_quoted_so_yaml_reads_them_back(name: str) -> None:
    person = reference(name)
    entry = entry_text(person, DAY)
    before = "---\ndate: 2026-11-19\n---\nbody\n"
    after = add_reported_back_to(before, entry)
    data = yaml.safe_load(after.split("---\n")[1])
    assert data["reported_back_to"] == [entry]
    note = read(after)
    links = parse_reference(split_entry(entry)[0], "Meetings")
    assert links, entry
    for link in links:
        assert link in note.links["reported_back_to"]
        assert note.reported_back_dates[link] == DAY


@pytest.mark.parametrize("char", ["\0", "\x07", "\x1b", "\x85", "\u2029", "\ufeff", "\ud800"])
def test_yaml_quote_escapes_what_a_reader_would_refuse_or_fold(char: str) -> None:
    text = f"a{char}b"
    assert yaml.safe_load(yaml_quote(text)) == text
    assert char not in yaml_quote(text)


def test_wont_is_closed_without_a_date() -> None:
    after = add_reported_back_to("---\ndate: 2026-11-19\n---\n", entry_text("[[Sam Rivera]]", None))
    assert '  - "[[Sam Rivera]] won\'t"\n' in after
    note = read(after)
    assert SAM in note.reported_back_dates
    assert note.reported_back_dates[SAM] is None


# -- last_contact ---------------------------------------------------------------------------

LAST_CONTACT_SHAPES = [
    ("", "---\nlast_contact: 2026-11-27\n---\n"),
    ("Met at the meetup.\r\n", "---\r\nlast_contact: 2026-11-27\r\n---\r\nMet at the meetup.\r\n"),
    ("---\ntype: person\n---\nx", "---\ntype: person\nlast_contact: 2026-11-27\n---\nx"),
    (
        "---\nlast_contact: 2026-01-02  # coffee\ntype: person\n---\n",
        "---\nlast_contact: 2026-11-27  # coffee\ntype: person\n---\n",
    ),
    ("---\nLast Contacted: '2026-01-02'\n---\n", "---\nLast Contacted: 2026-11-27\n---\n"),
    ("---\nlast-interaction:\n---\n", "---\nlast-interaction: 2026-11-27\n---\n"),
    (  # a log of days: the day is added to it, none is lost
        "---\nlast_contact:\n  - 2026-01-02\n  - 2025-01-02\nz: 1\n---\n",
        "---\nlast_contact:\n  - 2026-01-02\n  - 2025-01-02\n  - 2026-11-27\nz: 1\n---\n",
    ),
    (
        '---\nlast_interaction: [2026-10-01, "[[2026-11-01]]"]   # coffee, call\n---\n',
        '---\nlast_interaction: [2026-10-01, "[[2026-11-01]]", "[[2026-11-27]]"]   # coffee, call\n'
        "---\n",
    ),
    (  # a log of daily notes: one more, as the last was written
        '---\nlast_contact:\n  - "[[2026-09-01]]"\n  - "[[Daily/2026-10-01|Oct 1]]"\n---\n',
        '---\nlast_contact:\n  - "[[2026-09-01]]"\n  - "[[Daily/2026-10-01|Oct 1]]"\n'
        '  - "[[2026-11-27]]"\n---\n',
    ),
    (
        '---\n{"last_contact": ["2020-01-02"]}\n---\n',
        '---\n{"last_contact": ["2020-01-02", "2026-11-27"]}\n---\n',
    ),
    (
        # the reader takes the first name written, so that one is set
        "---\ndate_last_spoken: 2026-01-02\nlast_contact: 2025-01-02\n---\n",
        "---\ndate_last_spoken: 2026-11-27\nlast_contact: 2025-01-02\n---\n",
    ),
    (  # a tag before the list
        "---\nlast_contact: !!seq\n  - 2026-10-01\n---\n",
        "---\nlast_contact: !!seq\n  - 2026-10-01\n  - 2026-11-27\n---\n",
    ),
    ("---\nlast_contact: 2026-11-27\n---\n", "---\nlast_contact: 2026-11-27\n---\n"),
    (
        '---\n{"type": "person"}\n---\n',
        '---\n{"type": "person", "last_contact": "2026-11-27"}\n---\n',
    ),
    ('---\n{"last_contact": "2020-01-02"}\n---\n', '---\n{"last_contact": "2026-11-27"}\n---\n'),
    ('---\nlast_contact: "[[2026-10-01]]"\n---\n', '---\nlast_contact: "[[2026-11-27]]"\n---\n'),
    (
        '---\n{"last_contact": "[[2026-10-01]]"}\n---\n',
        '---\n{"last_contact": "[[2026-11-27]]"}\n---\n',
    ),
]


@pytest.mark.parametrize(("before", "after"), LAST_CONTACT_SHAPES)
def test_set_last_contact_shapes(before: str, after: str) -> None:
    assert set_last_contact(before, DAY, LAST_CONTACT_NAMES) == after
    assert read(after, "People/Sam Rivera.md").last_contact == DAY


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-20 (coffee at Blue Bottle)",
        "20/11/2026",
        "'[[2026-11-20]] lunch'",
        "{on: 2026-01-02, where: Blue Bottle}",
        "[2026-01-02, {where: Blue Bottle}]",
    ],
)
def test_a_last_contact_that_is_not_a_date_is_left_alone(value: str) -> None:
    with pytest.raises(RecordError, match="not a date"):
        set_last_contact(f"---\nlast_contact: {value}\n---\n", DAY, LAST_CONTACT_NAMES)


def test_a_last_contact_that_is_an_alias_bomb_of_days_is_judged_at_once() -> None:
    """Nine levels of ten aliases: 10**9 days if every one were looked at."""
    text = "---\na: &a [" + ", ".join(["2026-01-01"] * 10) + "]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        text += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]\n"
    text += "last_contact: *i\n---\n"
    with time_limit(10), pytest.raises(RecordError, match="alias"):
        set_last_contact(text, DAY, LAST_CONTACT_NAMES)


def test_a_last_contact_shared_by_an_anchor_is_left_alone_with_a_reason() -> None:
    """Setting it would change `created` too, or (the anchor dropped) break the YAML."""
    for text in (
        "---\nlast_contact: &seen 2026-10-01\ncreated: *seen\n---\n",
        "---\nlast_contact: !!str &seen 2026-10-01\ncreated: *seen\n---\n",
        "---\nlast_contact: &seen [2026-10-01]\nlog: *seen\n---\n",
    ):
        with pytest.raises(RecordError, match="anchor"):
            set_last_contact(text, DAY, LAST_CONTACT_NAMES)
    # Its name only written in a text, not an alias: nothing shares the day.
    quoted = '---\nlast_contact: &seen 2026-10-01\nnote: "ask *seen"\n---\n'
    assert "2026-11-27" in set_last_contact(quoted, DAY, LAST_CONTACT_NAMES)
    alone = "---\nlast_contact: &seen 2026-10-01\n---\n"  # nothing uses it: it may go
    after = set_last_contact(alone, DAY, LAST_CONTACT_NAMES)
    assert after == "---\nlast_contact: 2026-11-27\n---\n"


def test_a_later_day_in_a_list_of_last_contacts_stays() -> None:
    text = "---\nlast_contact: [2026-12-20, 2025-01-02]\n---\n"
    assert set_last_contact(text, DAY, LAST_CONTACT_NAMES) == text


# -- the corpus -------------------------------------------------------------------------------


def _notes(vault: Path) -> list[Path]:
    return sorted(
        p
        for p in vault.rglob("*.md")
        if not any(part.startswith(".") for part in p.relative_to(vault).parts)
    )


def _closing_offset(raw: bytes) -> int | None:
    """Where the closing `---`/`...` line of the front matter starts, found independently of
    the code under test; None when the note has no front matter."""
    start = len(BOM) if raw.startswith(BOM) else 0
    lines = raw[start:].split(b"\n")
    if lines[0].rstrip(b"\r") != b"---" or len(lines) < 2:
        return None
    offset = start + len(lines[0]) + 1
    for line in lines[1:]:
        if line.rstrip(b"\r") in (b"---", b"..."):
            return offset
        offset += len(line) + 1
    return None


def _owing(raw: bytes, at: int, nl: bytes) -> bytes:
    """The note made to owe the probe person a report-back, for the closing check."""
    return raw[:at] + b'report_back_to: "[[Vaultsync Probe]]"' + nl + raw[at:]


def _is_json(raw: bytes) -> bool:
    """Front matter written as a JSON object, which Obsidian accepts too."""
    return raw.split(b"\n", 1)[1].lstrip()[:1] == b"{"


def _one_insertion(before: bytes, after: bytes, at: int, wanted: bytes) -> None:
    """`after` is `before` with bytes inserted at one place before `at`, holding `wanted`."""
    prefix = 0
    while prefix < len(before) and before[prefix] == after[prefix]:
        prefix += 1
    suffix = len(before) - prefix
    assert after[len(after) - suffix :] == before[prefix:]
    assert prefix <= at
    inserted = after[prefix : len(after) - suffix]
    assert wanted in after[: at + len(inserted)]
    assert b"\n" not in inserted.replace(b"\r\n", b"").replace(b"\n", b"", 1)


@needs_corpus
@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("vault", corpus_vaults(), ids=lambda p: p.parent.name)
def test_corpus_notes_change_only_the_added_lines(vault: Path, variant: str) -> None:
    convert = VARIANTS[variant]
    nl = b"\r\n" if "crlf" in variant else b"\n"
    probe = Link("Vaultsync Probe")
    entry = entry_text("[[Vaultsync Probe]]", DAY)
    edited = closed_checked = refused = 0
    for path in _notes(vault):
        rel = path.relative_to(vault).as_posix()
        raw = convert(path.read_bytes())
        at = _closing_offset(raw)
        if at is None:
            continue
        text = raw.decode("utf-8", "surrogateescape")
        before = READER.parse(rel, raw)
        try:
            new = add_reported_back_to(text, entry).encode("utf-8", "surrogateescape")
        except RecordError:
            # Only a front matter that the reader cannot read either is refused.
            assert not before.has_properties and before.warnings, rel
            refused += 1
            continue
        if _is_json(raw):
            _one_insertion(raw, new, at, b'"reported_back_to": ["[[Vaultsync Probe]] 2026-11-27"]')
        else:
            added = b'reported_back_to:' + nl + b'  - "[[Vaultsync Probe]] 2026-11-27"' + nl
            assert new == raw[:at] + added + raw[at:], rel
        after = READER.parse(rel, new)
        assert probe in after.links["reported_back_to"], rel
        assert after.reported_back_dates[probe] == DAY, rel
        edited += 1

        contact = set_last_contact(text, DAY, LAST_CONTACT_NAMES).encode("utf-8", "surrogateescape")
        if _is_json(raw):
            _one_insertion(raw, contact, at, b'"last_contact": "2026-11-27"')
        else:
            assert contact == raw[:at] + b"last_contact: 2026-11-27" + nl + raw[at:], rel
        assert READER.parse(rel, contact).last_contact == DAY, rel

        # The engine closes the item: make the note owe the probe, record, compute.
        if _is_json(raw):
            continue
        owing = _owing(raw, at, nl)
        ident = item_id(rel, "?vaultsync probe")
        report = compute([READER.parse(rel, owing)], Config(), DAY)
        if ident not in {f.id for f in report.followups}:
            # Only a person note owes nothing by its properties.
            assert is_person_note(READER.parse(rel, owing), Config().people_folders), rel
            continue
        recorded = add_reported_back_to(owing.decode("utf-8", "surrogateescape"), entry)
        report = compute([READER.parse(rel, recorded.encode("utf-8", "surrogateescape"))],
                         Config(), DAY)
        closed = {f.id: f for f in report.closed}
        assert ident in closed and closed[ident].closed_on == DAY, rel
        assert ident not in {f.id for f in report.followups}, rel
        closed_checked += 1
    assert edited > 0
    assert closed_checked > 0 or vault.parent.name == "czottmann-people"  # people only
    assert refused <= edited  # refusals are the exception


@needs_corpus
@pytest.mark.parametrize("vault", corpus_vaults(), ids=lambda p: p.parent.name)
def test_corpus_notes_without_front_matter_get_a_new_block(vault: Path) -> None:
    seen = 0
    for path in _notes(vault)[:200]:
        raw = path.read_bytes()
        if _closing_offset(raw) is not None or raw.startswith(b"---"):
            continue
        for variant in ("lf", "bom"):
            data = VARIANTS[variant](raw)
            bom = BOM if variant == "bom" else b""
            nl = b"\r\n" if b"\r\n" in data.split(b"\n", 1)[0] + b"\n" else b"\n"
            new = add_reported_back_to(data.decode("utf-8", "surrogateescape"), ENTRY)
            block = b"---" + nl + b"reported_back_to:" + nl
            block += b'  - "[[Sam Rivera]] 2026-11-27"' + nl + b"---" + nl
            assert new.encode("utf-8", "surrogateescape") == bom + block + data[len(bom):]
        seen += 1
    assert seen > 0 or vault.parent.name == "kepano-obsidian"


# -- the file ---------------------------------------------------------------------------------


def edit_entry(text: str) -> str:
    return add_reported_back_to(text, ENTRY)


def test_record_file_writes_only_the_new_lines_and_keeps_non_utf8_bytes(tmp_path: Path) -> None:
    note = tmp_path / "m.md"
    raw = b"---\r\ndate: 2026-11-19\r\n---\r\nCaf\xe9 in cp1252\r\n"
    note.write_bytes(raw)
    os.chmod(note, 0o640)
    assert record_file(note, edit_entry)
    assert note.read_bytes() == (
        b'---\r\ndate: 2026-11-19\r\nreported_back_to:\r\n  - "[[Sam Rivera]] 2026-11-27"\r\n'
        b"---\r\nCaf\xe9 in cp1252\r\n"
    )
    assert note.stat().st_mode & 0o777 == 0o640
    assert not record_file(note, edit_entry)  # recorded already: not written again
    assert [p.name for p in tmp_path.iterdir()] == ["m.md"]  # no temporary file left


def test_a_change_made_between_our_read_and_our_write_is_kept(tmp_path: Path) -> None:
    note = tmp_path / "m.md"
    note.write_bytes(b"---\ndate: 2026-11-19\n---\nFirst line.\n")
    theirs = b"---\ndate: 2026-11-19\noutcome: got the job\n---\nFirst line.\nTyped meanwhile.\n"
    calls: list[str] = []

    def racing_edit(text: str) -> str:
        calls.append(text)
        if len(calls) == 1:
            note.write_bytes(theirs)  # Obsidian saves while we are editing the old text
        return edit_entry(text)

    assert record_file(note, racing_edit)
    assert len(calls) == 2  # the first edit was thrown away, the note read again
    assert note.read_bytes() == (
        b"---\ndate: 2026-11-19\noutcome: got the job\n"
        b'reported_back_to:\n  - "[[Sam Rivera]] 2026-11-27"\n---\nFirst line.\nTyped meanwhile.\n'
    )


def test_a_note_read_while_an_editor_saves_it_is_edited_once_saved(tmp_path: Path) -> None:
    """Read in the instant an in-place save leaves it empty, the note was edited as empty, and
    replaced by the new property alone; the editor's save went to the file it had open."""
    note = tmp_path / "m.md"
    theirs = b"---\ndate: 2026-11-19\n---\nTwo pages of notes.\n"
    note.write_bytes(theirs)
    with saved_in_place(note, theirs):
        assert record_file(note, edit_entry)
    assert note.read_bytes() == (
        b'---\ndate: 2026-11-19\nreported_back_to:\n  - "[[Sam Rivera]] 2026-11-27"\n---\n'
        b"Two pages of notes.\n"
    )


def test_an_empty_note_is_never_edited(tmp_path: Path) -> None:
    note = tmp_path / "m.md"
    note.write_bytes(b" \n")
    with pytest.raises(RecordError, match="it is empty"):
        record_file(note, edit_entry)
    assert note.read_bytes() == b" \n"


def test_a_note_that_keeps_changing_is_left_as_the_other_writer_made_it(tmp_path: Path) -> None:
    note = tmp_path / "m.md"
    note.write_bytes(b"---\ndate: 2026-11-19\n---\n")
    count = 0

    def always_racing(text: str) -> str:
        nonlocal count
        count += 1
        note.write_bytes(f"---\ndate: 2026-11-19\n---\nedit {count}\n".encode())
        return edit_entry(text)

    with pytest.raises(RecordError, match="kept changing"):
        record_file(note, always_racing, attempts=3)
    assert note.read_bytes() == b"---\ndate: 2026-11-19\n---\nedit 3\n"
    assert [p.name for p in tmp_path.iterdir()] == ["m.md"]


def test_write_atomic_refuses_when_the_file_changed(tmp_path: Path) -> None:
    target = tmp_path / "f.md"
    target.write_bytes(b"new content")
    with pytest.raises(FileChanged):
        write_atomic(target, "ours", expected=b"old content")
    with pytest.raises(FileChanged):
        write_atomic(target, "ours", expected=None)  # we thought it did not exist
    assert target.read_bytes() == b"new content"
    write_atomic(target, "ours", expected=b"new content")
    assert target.read_bytes() == b"ours"
    assert [p.name for p in tmp_path.iterdir()] == ["f.md"]


def test_a_gone_or_linked_note_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="gone"):
        record_file(tmp_path / "missing.md", edit_entry)
    real = tmp_path / "real.md"
    real.write_bytes(b"x\n")
    (tmp_path / "link.md").symlink_to(real)
    with pytest.raises(RecordError, match="symbolic link"):
        record_file(tmp_path / "link.md", edit_entry)
    assert real.read_bytes() == b"x\n"


def test_broken_front_matter_leaves_the_file_untouched(tmp_path: Path) -> None:
    note = tmp_path / "m.md"
    raw = b"---\ndate: [2026\n---\nbody\n"
    note.write_bytes(raw)
    with pytest.raises(RecordError, match="not valid YAML"):
        record_file(note, edit_entry)
    assert note.read_bytes() == raw


def test_the_safety_net_refuses_an_edit_that_changed_another_property() -> None:
    # Every edit is checked by parsing it again; this is the check, fed a broken edit.
    from vaultsync import record

    before = "---\ndate: 2026-11-19\nwith: '[[Jo]]'\n---\n"
    old = record._compose(before.split("---\n")[1])
    good = "---\ndate: 2026-11-19\nwith: '[[Jo]]'\nreported_back_to: [x]\n---\n"
    record._check(old, good, None, "reported_back_to", lambda v: v == ["x"])
    for broken in (
        "---\ndate: 2026-11-20\nwith: '[[Jo]]'\nreported_back_to: [x]\n---\n",  # a value
        "---\ndate: 2026-11-19\nwith: \"[[Jo]]\"\nreported_back_to: [x]\n---\n",  # quoting
        "---\nwith: '[[Jo]]'\ndate: 2026-11-19\nreported_back_to: [x]\n---\n",  # order
        "---\ndate: 2026-11-19\nwith: '[[Jo]]'\nreported_back_to: [y]\n---\n",  # the new value
    ):
        with pytest.raises(RecordError, match="without changing other properties"):
            record._check(old, broken, None, "reported_back_to", lambda v: v == ["x"])
