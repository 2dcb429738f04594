"""Front matter as Obsidian reads it (SPEC §3): split_front_matter and NoteReader.parse."""

from __future__ import annotations

import datetime as dt
import time

import frontmatter
import pytest
import yaml
from conftest import time_limit
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultsync.config import Config
from vaultsync.links import Link
from vaultsync.model import Note
from vaultsync.notes import NoteReader, split_front_matter

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
READER = NoteReader(Config())
TASK = "- [ ] Report back to [[Bob]]"


def parse(text: str | bytes, rel: str = "Meetings/Lunch.md") -> Note:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return READER.parse(rel, raw)


def lines_of(note: Note) -> list[int]:
    return [w.line for w in note.warnings]


# --- split_front_matter ---------------------------------------------------------------------


def test_split_simple() -> None:
    text = "---\ntype: person\n---\nBody\n"
    yaml_text, body_start, unclosed = split_front_matter(text)
    assert yaml_text == "type: person\n"
    assert text[body_start:] == "Body\n"
    assert unclosed is False


def test_split_dots_close_the_block() -> None:
    text = "---\ntype: person\n...\nBody\n"
    yaml_text, body_start, unclosed = split_front_matter(text)
    assert yaml_text == "type: person\n"
    assert text[body_start:] == "Body\n"
    assert not unclosed


def test_split_crlf() -> None:
    text = "---\r\ntype: person\r\n---\r\nBody\r\n"
    yaml_text, body_start, unclosed = split_front_matter(text)
    assert yaml_text is not None
    assert yaml.load(yaml_text, Loader=Loader) == {"type": "person"}
    assert text[body_start:] == "Body\r\n"
    assert not unclosed


def test_split_closing_at_end_of_text() -> None:
    text = "---\na: 1\n---"
    yaml_text, body_start, unclosed = split_front_matter(text)
    assert yaml_text == "a: 1\n"
    assert body_start == len(text)
    assert not unclosed


def test_split_empty_block() -> None:
    yaml_text, body_start, unclosed = split_front_matter("---\n---\nBody")
    assert yaml_text == ""
    assert body_start == len("---\n---\n")
    assert not unclosed


@pytest.mark.parametrize(
    "text",
    [
        "\n---\ntype: person\n---\nBody\n",  # a blank line first
        " ---\ntype: person\n---\n",
        '{"type": "person"}\n---\n',
        "{type: person}\n",
        "----\ntype: person\n---\n",
        "--- title\ntype: person\n---\n",
        "# Heading\n---\ntype: person\n---\n",
        "",
        "Body only\n",
    ],
)
def test_split_no_front_matter(text: str) -> None:
    assert split_front_matter(text) == (None, 0, False)


@pytest.mark.parametrize("text", ["---", "---\n", "---\ntype: person\n", "---\na: 1\n--- \n"])
def test_split_unclosed(text: str) -> None:
    yaml_text, body_start, unclosed = split_front_matter(text)
    assert yaml_text is None
    assert body_start == 0
    assert unclosed


def test_split_first_closing_line_wins() -> None:
    text = "---\na: 1\n---\nb: 2\n---\nBody"
    yaml_text, body_start, _ = split_front_matter(text)
    assert yaml_text == "a: 1\n"
    assert text[body_start:] == "b: 2\n---\nBody"


_LINE_PIECES = st.sampled_from(
    ["---", "...", "--- ", "----", "a: 1", "- x", "", " ", "\r", "b: [", "#", "---\r", "...\r"]
)
_LINES = st.lists(st.one_of(_LINE_PIECES, st.text(max_size=8)), max_size=8)
_TEXTS = st.one_of(
    st.text(),
    st.builds(
        lambda opening, lines, nl: opening + nl.join(lines),
        st.sampled_from(["---\n", "---\r\n", "---", "\ufeff---\n", "\n---\n", ""]),
        _LINES,
        st.sampled_from(["\n", "\r\n"]),
    ),
)


@settings(deadline=None)
@given(_TEXTS)
def test_split_is_consistent(text: str) -> None:
    yaml_text, body_start, unclosed = split_front_matter(text)
    # A lone CR is a line end for Obsidian too: `---\r\r\n` is `---` and an empty line.
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if yaml_text is None:
        assert body_start == 0
        # Left open only when the first line is `---`; no properties otherwise.
        assert unclosed == (first_line == "---")
        if unclosed:
            later = [line.removesuffix("\r") for line in text.split("\n")[1:]]
            assert "---" not in later and "..." not in later
        return
    assert not unclosed
    assert first_line == "---"
    opening = text[: text.index("\n") + 1]
    assert text.startswith(opening + yaml_text)
    closing = text[len(opening) + len(yaml_text) : body_start]
    assert closing.removesuffix("\n").removesuffix("\r") in ("---", "...")
    assert closing.endswith("\n") or body_start == len(text)
    # text = `---` + newline + yaml + closing line + body
    assert opening + yaml_text + closing + text[body_start:] == text
    # the closing line is the first one that can close the block
    inner = [line.removesuffix("\r") for line in yaml_text.split("\n")]
    assert "---" not in inner and "..." not in inner


@settings(deadline=None)
@given(st.binary(max_size=200))
def test_parse_never_raises_on_bytes(raw: bytes) -> None:
    note = READER.parse("x.md", raw)
    assert all(w.line >= 0 for w in note.warnings)


@settings(deadline=None)
@given(_TEXTS)
def test_parse_never_raises_on_front_matter_like_text(text: str) -> None:
    note = parse(text)
    assert all(w.line >= 0 for w in note.warnings)


# --- NoteReader.parse: which notes have properties ------------------------------------------


def test_parse_reads_properties() -> None:
    note = parse("---\ntype: person\ndate: 2026-01-02\nname: Bob Smith\n---\nHello\n")
    assert note.has_properties
    assert note.keywords.get("type") == frozenset({"person"})
    assert note.date == dt.date(2026, 1, 2)
    assert note.name == "Bob Smith"
    assert note.warnings == []


def test_parse_bom_then_front_matter() -> None:
    note = parse(b"\xef\xbb\xbf---\ntype: person\n---\n")
    assert note.has_properties
    assert note.keywords.get("type") == frozenset({"person"})
    assert note.warnings == []


def test_parse_crlf_front_matter() -> None:
    note = parse("---\r\ntype: person\r\ndate: 2026-01-02\r\n---\r\nHello\r\n")
    assert note.has_properties
    assert note.date == dt.date(2026, 1, 2)
    assert note.keywords.get("type") == frozenset({"person"})


def test_parse_dots_closing() -> None:
    note = parse("---\ntype: person\n...\nHello\n")
    assert note.keywords.get("type") == frozenset({"person"})


@pytest.mark.parametrize(
    "text",
    [
        "\n---\ntype: person\ndate: 2026-01-02\n---\n",
        "  \n---\ntype: person\ndate: 2026-01-02\n---\n",
        '{"type": "person", "date": "2026-01-02"}\n',
        '{\n"type": "person",\n"date": "2026-01-02"\n}\n',
    ],
)
def test_parse_no_properties_without_leading_dashes(text: str) -> None:
    note = parse(text)
    assert not note.has_properties
    assert note.date is None
    assert "type" not in note.keywords
    assert note.warnings == []


def test_parse_unclosed_block_warns_and_reads_no_properties() -> None:
    note = parse("---\ntype: person\ndate: 2026-01-02\n" + TASK + "\n")
    assert not note.has_properties
    assert note.date is None
    assert "type" not in note.keywords
    assert len(note.warnings) == 1
    assert note.warnings[0].line == 1
    assert note.warnings[0].path == "Meetings/Lunch.md"
    assert "---" in note.warnings[0].message


def test_parse_date_from_file_name_when_no_date_property() -> None:
    note = parse("---\ntype: meeting\n---\n", rel="Meetings/2026-11-20 Coffee with Carol.md")
    assert note.date == dt.date(2026, 11, 20)


# --- YAML errors and their lines ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("---\ntype: meeting\nwith: a: b\n---\n", {3}),
        ("---\r\ntype: meeting\r\nwith: a: b\r\n---\r\n", {3}),
        ("\ufeff---\ntype: meeting\nwith: a: b\n---\n", {3}),
        # the `]` is missing on line 5; the parser notices on line 6
        ("---\na: 1\nb: 2\nc: 3\nd: [1, 2\ne: 5\n---\n", {5, 6}),
        # the tab that breaks the block is on line 3
        ("---\ntype: meeting\n\tdate: 2026-01-02\n---\n", {3}),
        ("---\ntype: meeting\npeople:\n  - Bob\n bad: 1\n---\n", {5}),
        # an unclosed quote: the line where it opened is the one to fix
        ('---\ntype: meeting\nname: "Bob\nemail: x\n---\n', {3}),
    ],
)
def test_yaml_error_warns_with_file_line(text: str, lines: set[int]) -> None:
    note = parse(text + TASK + "\n")
    assert not note.has_properties
    assert len(note.warnings) == 1, note.warnings
    warning = note.warnings[0]
    assert warning.path == "Meetings/Lunch.md"
    assert warning.line in lines, warning
    assert "YAML" in warning.message
    # the body is still read
    assert [t.line for t in note.tasks] == [text.count("\n") + 1]


def test_yaml_error_message_comes_from_the_parser() -> None:
    note = parse("---\nwith: a: b\n---\n")
    assert "mapping values are not allowed" in note.warnings[0].message


@pytest.mark.parametrize(
    "block",
    ["- Bob\n- Carol\n", "just some text\n", "42\n", "[1, 2]\n", '"quoted"\n'],
)
def test_non_mapping_front_matter_warns(block: str) -> None:
    note = parse("---\n" + block + "---\n" + TASK + "\n")
    assert not note.has_properties
    assert len(note.warnings) == 1
    assert note.warnings[0].line in (1, 2)
    assert note.warnings[0].path == "Meetings/Lunch.md"
    assert [t.line for t in note.tasks] == [block.count("\n") + 3]


def test_hostile_yaml_never_builds_objects() -> None:
    note = parse("---\na: !!python/object/apply:os.system ['echo hi']\n---\n")
    assert not note.has_properties
    assert len(note.warnings) == 1


@pytest.mark.parametrize("alias", ["c", "i"])
def test_alias_bomb_in_front_matter_is_read_quickly(alias: str) -> None:
    # SPEC §12: no input file, YAML alias bombs included, makes vaultsync hang.
    lines = ["---", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join(['*' + prev] * 9)}]")
    lines += [f"people: *{alias}", "---", ""]
    text = "\n".join(lines)
    start = time.perf_counter()
    with time_limit(2):
        note = parse(text)
    assert time.perf_counter() - start < 1
    assert note.has_properties
    assert len(note.links.get("participants", ())) <= 256


# --- encodings ------------------------------------------------------------------------------


def test_invalid_utf8_warns_with_line_and_uses_replacement_chars() -> None:
    raw = b"---\ntype: person\nname: Bob \xff Smith\n---\nBody\n"
    note = parse(raw, rel="People/Bob.md")
    assert [(w.path, w.line) for w in note.warnings] == [("People/Bob.md", 3)]
    assert "UTF-8" in note.warnings[0].message
    assert note.name == "Bob \ufffd Smith"
    assert note.has_properties


def test_invalid_utf8_in_body_line() -> None:
    raw = b"---\ntype: meeting\n---\nline 4\nline 5 \xc3\x28\n" + TASK.encode() + b"\n"
    note = parse(raw)
    assert lines_of(note) == [5]
    assert [t.line for t in note.tasks] == [6]


def test_latin1_note_is_read_with_a_warning() -> None:
    raw = "---\ntype: person\ncompany: Caf\u00e9\n---\n".encode("latin-1")
    note = parse(raw, rel="People/Zoe.md")
    assert lines_of(note) == [3]
    assert note.company == "Caf\ufffd"


# --- differential: python-frontmatter -------------------------------------------------------


def test_differs_from_python_frontmatter_on_leading_blank_line() -> None:
    text = "\n---\ntype: person\nname: Bob\n---\nBody\n"
    assert frontmatter.loads(text).metadata == {"type": "person", "name": "Bob"}
    assert split_front_matter(text) == (None, 0, False)
    note = parse(text)
    assert not note.has_properties
    assert note.name is None


def test_differs_from_python_frontmatter_on_json_braces() -> None:
    text = '{\n"type": "person"\n}\nBody\n'
    assert frontmatter.loads(text).metadata == {"type": "person"}
    assert split_front_matter(text)[0] is None
    assert not parse(text).has_properties


_KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
_SIMPLE = st.one_of(
    st.text(alphabet="abcdefghij KLMNOP[]|#", max_size=15),
    st.integers(),
    st.booleans(),
    st.dates(),
    st.lists(st.text(alphabet="abcdef [[]]", max_size=8), max_size=3),
)
_BODY_LINES = st.lists(
    st.text(alphabet="abc xyz#-*[]\t", max_size=20).filter(lambda s: s.strip() not in ("---", "")),
    max_size=5,
)


@settings(deadline=None)
@given(st.dictionaries(_KEYS, _SIMPLE, min_size=1, max_size=6), _BODY_LINES)
def test_agrees_with_python_frontmatter_on_ordinary_notes(
    props: dict[str, object], body_lines: list[str]
) -> None:
    body = "\n".join(["# Title", *body_lines]) + "\n"
    text = "---\n" + yaml.safe_dump(props, allow_unicode=True, sort_keys=False) + "---\n" + body
    theirs = frontmatter.loads(text)
    yaml_text, body_start, unclosed = split_front_matter(text)
    assert yaml_text is not None and not unclosed
    ours = yaml.load(yaml_text, Loader=Loader)
    assert set(ours) == set(theirs.metadata) == set(props)
    assert ours == theirs.metadata
    assert text[body_start:].strip() == theirs.content.strip()
    assert parse(text).has_properties


@pytest.mark.parametrize(
    "text",
    [
        "---\ntype: person\naliases: [Bobby]\nemail: bob@example.com\n---\n# Bob\n",
        "---\r\ndate: 2026-11-20\r\npeople: ['[[Bob]]', '[[Carol]]']\r\n---\r\nNotes\r\n",
        "---\ntitle: x\ntags:\n  - person\n  - work\n---\n\nBody with --- inside\n",
    ],
)
def test_agrees_with_python_frontmatter_on_sample_notes(text: str) -> None:
    yaml_text, _, _ = split_front_matter(text)
    assert yaml_text is not None
    assert set(yaml.load(yaml_text, Loader=Loader)) == set(frontmatter.loads(text).metadata)


# --- property values: their warnings point at their line ------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("---\ntype: meeting\ndate: tomorrow\n---\n", 3),
        ('---\r\ntype: meeting\r\n"Date": tomorrow\r\n---\r\n', 3),
        ("\ufeff---\n# a comment\ntype: person\nkeep_in_touch: often\n---\n", 4),
        ("---\npeople:\n  - '[[Bob]]'\nreported_back: maybe\n---\n", 4),
        ("---\ntype: meeting\nReport Back By: someday\n---\n", 3),
    ],
)
def test_bad_property_value_warns_at_its_line(text: str, line: int) -> None:
    note = parse(text)
    assert lines_of(note) == [line], note.warnings


def test_unquoted_daily_note_link_is_a_date() -> None:
    # `date: [[2026-01-02]]` without quotes is a list in a list for YAML; Obsidian users
    # write it all the time, and SPEC §3 lists the daily-note link as a date.
    note = parse("---\ntype: meeting\ndate: [[2026-01-02]]\n---\n")
    assert note.date == dt.date(2026, 1, 2)
    assert note.warnings == []


@pytest.mark.parametrize(
    ("yaml_text", "role", "target"),
    [
        ("introduced_by: [[Sam Lee|Sam]]\n", "introduced_by", "Sam Lee"),
        # As a list item, YAML nests it once more: its alias or heading is still not a name.
        ("introduced_by:\n  - [[Sam Lee|Sam]]\n", "introduced_by", "Sam Lee"),
        ("people:\n  - [[Carol#Work]]\n", "participants", "Carol"),
        ("reported_back_to:\n  - [[Sam Lee|Sam]]\n", "reported_back_to", "Sam Lee"),
        ("reports_on:\n  - [[2026-11-02 Lunch|lunch]]\n", "reports_on", "2026-11-02 Lunch"),
    ],
)
def test_unquoted_link_is_a_link_on_one_line_and_as_a_list_item(
    yaml_text: str, role: str, target: str
) -> None:
    note = parse(f"---\n{yaml_text}---\n")
    assert [link.target for link in note.links[role]] == [target]
    assert note.warnings == []


def test_an_alias_written_as_an_unquoted_link_item_is_its_name() -> None:
    """Only links are read through the extra list: an alias is a name, as it was."""
    note = parse("---\ntype: person\naliases:\n  - [[Bobby]]\n---\n", rel="People/Robert.md")
    assert note.aliases == ("Bobby",)


@pytest.mark.parametrize(
    "yaml_text",
    [
        "type: person\nkind: colleague\n",
        "kind: colleague\ntype: person\n",  # SPEC §4: `type` or `kind`, in either order
        "tag: work\ntags: [person]\n",
        "tags: [work]\ntag: contact\n",
        "categories:\n  - [[People|Folks]]\n",  # unquoted, as a list item: a link still
        "categories:\n  - [[Categories/People]]\n",
    ],
)
def test_either_of_two_kind_properties_makes_a_person(yaml_text: str) -> None:
    from vaultsync.people import is_person_note

    note = parse(f"---\n{yaml_text}---\n", rel="Contacts/Ann.md")
    assert is_person_note(note, ("People",))


def test_key_lines_is_linear_on_a_long_line_of_spaces() -> None:
    """A quadratic pattern here once took minutes on a 1 MB front matter."""
    from vaultsync.notes import key_lines

    text = "people: [\n" + " " * 1_000_000 + "x]\nlater: 1\n"
    assert key_lines(text) == {"people": 2, "later": 4}


@pytest.mark.parametrize(
    ("yaml_text", "key", "line"),
    [
        ('report_back_to: "[[F]]"\nreported_back_to:\n  - F: 2026-11-20\n', "reported_back_to", 3),
        ('with: ["[[A]]", {B: C}]\n', "with", 2),
        ("introduced_by: {Sam: yes}\n", "introduced_by", 2),
    ],
)
def test_a_name_value_pair_among_links_is_warned_about(yaml_text: str, key: str, line: int) -> None:
    """`- F: 2026-11-20` is YAML for a pair, which names nobody: said, not dropped unseen."""
    note = parse(f"---\n{yaml_text}---\n")
    assert [(w.line, w.message.split(":")[0]) for w in note.warnings] == [(line, f"`{key}`")]
    assert "is not a link or a name" in note.warnings[0].message


BLOCK = "%% vaultsync:begin %%\n- [ ] Report back to [[Ann]] ^vs-0\n%% vaultsync:end %%"


def test_a_block_vaultsync_generated_is_not_read_but_the_rest_of_the_note_is() -> None:
    """An output left behind when `output` moved (or a copy): its lines would owe every item
    a second time. Two blocks pasted in count as one, from the first marker to the last."""
    note = parse(f"---\nwith: '[[Bob]]'\n---\n{TASK}\n{BLOCK}\ntext\n{BLOCK}\n{TASK} 2\n")
    assert [t.line for t in note.tasks] == [4, 12]
    assert [(w.line, w.message) for w in note.warnings] == [
        (5, "holds a block vaultsync generated (an old Follow-ups.md?); that block is not "
            "read, the rest is")
    ]
    assert note.links["participants"] == (Link("Bob"),)


def test_the_markers_shown_in_a_code_block_are_text() -> None:
    note = parse(f"---\nwith: '[[Bob]]'\n---\n```markdown\n{BLOCK}\n```\n{TASK}\n")
    assert [t.line for t in note.tasks] == [9]
    assert not note.warnings
    note = parse(f"---\nwith: '[[Bob]]'\n---\n```markdown\n{BLOCK}\n```\n{TASK}\n{BLOCK}\n")
    assert [t.line for t in note.tasks] == [9]
    assert [w.line for w in note.warnings] == [10]


@pytest.mark.parametrize(
    ("entries", "closing"),
    [
        ("[\"[[Ann]] won't\"]", None),
        ("[\"[[Ann]] won't\", \"[[Ann]]\"]", "absent"),  # reported back, on reported_back's day
        ("[\"[[Ann]]\", \"[[Ann]] won't\"]", "absent"),
        ("[\"[[Ann]] won't\", \"[[Ann]] 2026-11-20\"]", dt.date(2026, 11, 20)),
        ("[\"[[Ann]] 2026-11-20\", \"[[Ann]] won't\"]", dt.date(2026, 11, 20)),
    ],
)
def test_a_report_back_to_someone_beats_a_wont(entries: str, closing: object) -> None:
    note = parse(f"---\nreported_back: 2026-11-14\nreported_back_to: {entries}\n---\n")
    assert note.reported_back_dates.get(Link("Ann"), "absent") == closing


@pytest.mark.parametrize(
    "due",
    # A scheduled day beside it does not stand in for a due date written wrong.
    ["📅 2026-13-45", "[due:: 2026-02-30]", "⏳ 2026-11-30 📅 2026-13-45"],
)
def test_a_task_due_date_that_is_not_a_date_is_warned_about(due: str) -> None:
    note = parse(f"---\ndate: 2026-11-20\n---\n{TASK} {due}\n{TASK} 📅 2026-12-01\n")
    assert [t.due for t in note.tasks] == [None, dt.date(2026, 12, 1)]
    assert [(w.line, w.message.split(";")[0]) for w in note.warnings] == [
        (4, f"the task's due date {due.split()[-1].rstrip(']')} is not a date")
    ]
