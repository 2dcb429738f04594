"""vaultsync.render: escaping, so that no note title breaks a link, a table, the graph or the
markers (SPEC §8, §12)."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from conftest import splice_text as splice
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vaultsync.links import Link, composed, links_in
from vaultsync.model import FollowUp, Person, PersonRow, Report
from vaultsync.output import BEGIN, END
from vaultsync.render import escape_text, link, mermaid_label, one_line, render_block

TODAY = dt.date(2026, 11, 27)


def render_text(report: Report, graph: bool = True) -> str:
    return render_block(report, graph).decode("utf-8")

PIECES = [
    "]]", "[[", "[", "]", "|", "%%", "%", "#", "^", "`", "```", "\n", "\r", "\r\n", "\t", "\\",
    "é", "漢字", "🙂", " ", "  ", "a", "Bob", "/", ".", "(", ")", "<", ">", "*", "_", "~", "=",
    "$", '"', "'", "!", ":", "&", ";", "-", "+", "\u2028", "\x85", "\x0b", "\ufeff",
    BEGIN, END, "#quot;", "^abc", "- [ ] ",
]
TITLE = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=8).map("".join),
    st.text(max_size=20),
)
SEGMENT = st.one_of(
    st.lists(st.sampled_from([p for p in PIECES if p != "/"]), min_size=1, max_size=6).map("".join),
    st.text(alphabet=st.characters(blacklist_characters="/", blacklist_categories=("Cs",)),
            min_size=1, max_size=12),
)


def _is_vault_path(target: str) -> bool:
    """A note path without `.md` as a vault can hold it."""
    parts = target.split("/")
    return (
        target == target.strip()
        and all(p and not p.startswith(".") for p in parts)
        and not target.lower().endswith(".md")
    )


TARGET = st.lists(SEGMENT, min_size=1, max_size=3).map("/".join).filter(_is_vault_path)


def split_escapes(text: str) -> list[tuple[str, bool]]:
    """Each character of Markdown text with whether a backslash escapes it."""
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append((text[i + 1], True))
            i += 2
        else:
            out.append((text[i], False))
            i += 1
    return out


def unescaped_pipes(line: str) -> int:
    return sum(1 for char, escaped in split_escapes(line) if char == "|" and not escaped)


# --- link -----------------------------------------------------------------------------------


@settings(deadline=None)
@given(TITLE, TITLE, st.booleans())
def test_link_is_a_single_line(target: str, shown: str, in_table: bool) -> None:
    out = link(target, shown, in_table=in_table)
    assert "\n" not in out
    assert "\r" not in out


@settings(deadline=None)
@given(TARGET, TITLE, st.booleans())
def test_link_parses_back_to_its_target(target: str, shown: str, in_table: bool) -> None:
    out = link(target, shown, in_table=in_table)
    # Composed, as Obsidian keeps names: `豈` (U+F900) is written as its equal U+8C48.
    assert links_in(out) == [Link(composed(target))], out


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("People/Bob Smith", "Bob Smith"),
        ("Bob Smith", "Bob Smith"),
        ("Bob", "Robert"),
        ("People/Bob", "Bob [work]"),  # a Markdown link: `]` escaped in its text
        ("People/Bob]]", "Bob]]"),
        ("People/Bob", "Bob | work"),
        ("People/100% Bob", "100% Bob"),
        ("People/Bob `x`", "Bob `x`"),
        ("People/Tom #1", "Tom #1"),  # `#` is not a heading here: it is in the file name
        ("People/A|B", "A|B"),
        ("People/Back\\slash", "Back\\slash"),
        ("People/Caret^1", "Caret^1"),
        ("People/%% vaultsync:end %%", "%% vaultsync:end %%"),
    ],
)
def test_link_examples_parse_back(target: str, shown: str) -> None:
    out = link(target, shown)
    assert "\n" not in out
    assert links_in(out) == [Link(target)], out


def test_simple_names_give_wikilinks() -> None:
    assert link("Bob Smith", "Bob Smith") == "[[Bob Smith]]"
    assert link("People/Bob Smith", "Bob") == "[[People/Bob Smith|Bob]]"
    assert link("People/Bob Smith", "Bob", in_table=True) == "[[People/Bob Smith\\|Bob]]"


@settings(deadline=None)
@given(TITLE, TITLE)
def test_link_in_a_table_row_keeps_the_cells(target: str, shown: str) -> None:
    row = f"| {link(target, shown, in_table=True)} | 2026-11-27 | 1 |"
    assert unescaped_pipes(row) == 4, row


@pytest.mark.parametrize(
    ("target", "shown"),
    [("A|B", "A|B"), ("Bob", "x|y"), ("People/Bob", "Bob\\"), ("a", "\\|")],
)
def test_link_in_a_table_row_examples(target: str, shown: str) -> None:
    row = f"| {link(target, shown, in_table=True)} | x |"
    assert unescaped_pipes(row) == 3, row


# --- escape_text ----------------------------------------------------------------------------


@settings(deadline=None)
@given(TITLE)
def test_escape_text(text: str) -> None:
    out = escape_text(text)
    assert "\n" not in out
    assert "\r" not in out
    chars = split_escapes(out)
    unescaped = [c for c, escaped in chars if not escaped]
    for bad in "[]|\\":
        assert bad not in unescaped, (bad, out)
    for (a, a_escaped), (b, b_escaped) in itertools.pairwise(chars):
        assert not (a == b == "%" and not a_escaped and not b_escaped), out
    assert "%%" not in "".join(c if not e else "\0" for c, e in chars)
    # lossless: removing the escapes gives back the text on one line
    assert "".join(c for c, _ in chars) == one_line(text)


@pytest.mark.parametrize(
    "text", ["%%", "%% vaultsync:end %%", "a]]b", "[[x]]", "x|y", "#tag", "^block", "a\nb\r\nc"]
)
def test_escape_text_examples(text: str) -> None:
    out = escape_text(text)
    assert "%%" not in out.replace("\\%", "")
    assert "\n" not in out and "\r" not in out
    assert not re.search(r"(?<!\\)[\[\]|]", out)


# --- mermaid --------------------------------------------------------------------------------


@settings(deadline=None)
@given(TITLE)
def test_mermaid_label(text: str) -> None:
    label = mermaid_label(text)
    for bad in ('"', "\n", "\r", "`"):
        assert bad not in label


# --- the whole block ------------------------------------------------------------------------


@st.composite
def reports(draw: st.DrawFn) -> Report:
    names = draw(st.lists(TITLE, min_size=1, max_size=4))
    people = []
    for i, name in enumerate(names):
        resolved = draw(st.booleans())
        note = f"People/{name}.md" if resolved else None
        people.append(
            Person(
                key=note or f"?{i}{name.lower()}",
                name=name,
                note=note,
                display=draw(st.one_of(st.just(name), TITLE)),
                email=draw(st.one_of(st.none(), st.emails(), TITLE)),
                cadence_days=draw(st.one_of(st.none(), st.integers(1, 400))),
            )
        )
    followups = []
    for i, person in enumerate(people):
        source = f"Meetings/{draw(TITLE)}.md"
        status = draw(st.sampled_from(["overdue", "due", "upcoming", "undated"]))
        due = None if status == "undated" else TODAY + dt.timedelta(days=draw(st.integers(-9, 9)))
        followups.append(
            FollowUp(
                id=f"vs{i}a",
                kind="report-back",
                person=person,
                source=source,
                reasons=draw(
                    st.lists(
                        st.sampled_from(["introduction", "advice", "explicit", "task"]),
                        min_size=1, max_size=3, unique=True,
                    )
                ),
                due=due,
                status=status,
                ready=draw(st.booleans()),
            )
        )
        if draw(st.booleans()):
            followups.append(
                FollowUp(f"vs{i}r", "reconnect", person, None, ["cadence"], TODAY, "due")
            )
    rows = [
        PersonRow(p, draw(st.one_of(st.none(), st.just(TODAY))), draw(st.integers(0, 3)),
                  draw(st.integers(0, 3)))
        for p in people
    ]
    intros = [(a, b) for a, b in itertools.pairwise(people)]
    return Report(
        today=TODAY, followups=followups, closed=[], people=rows, warnings=[],
        interactions=len(followups), introductions=intros,
    )


def _section(lines: list[str], title: str) -> list[str]:
    if title not in lines:
        return []
    start = lines.index(title) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


@settings(deadline=None)
@given(reports(), st.booleans())
def test_render_block_structure(report: Report, graph: bool) -> None:
    block = render_text(report, graph=graph)
    assert "\r" not in block
    lines = block.split("\n")
    assert lines[0] == BEGIN
    # After a blank line: right under a table row, a list item or the callout, the marker
    # (and what the user writes under it) would be read as part of them.
    assert lines[-2:] == ["", END]
    for split in (block.split("\n"), block.splitlines()):
        assert sum(line.strip() == BEGIN for line in split) == 1
        assert sum(line.strip() == END for line in split) == 1
    # one task line per follow-up: no title adds a line
    assert sum(line.startswith("- [ ] ") for line in lines) == len(report.followups)
    task_lines = [line for line in lines if line.startswith("- [ ] ")]
    for line in task_lines:
        assert "%%" not in "".join(c if not e else "\0" for c, e in split_escapes(line))
    # the People table: every row has its five cell borders
    listed = [r for r in report.people if r.open or r.reported_back or r.person.cadence_days]
    table = [line for line in _section(lines, "## People") if line.startswith("|")]
    assert len(table) == (len(listed) + 2 if listed else 0), lines
    for row in table:
        assert unescaped_pipes(row) == 5, row
    # the graph: one quoted label per node, nothing that closes the quote or the fence
    if graph and report.introductions:
        start = lines.index("```mermaid")
        end = lines.index("```", start)
        for line in lines[start + 1 : end]:
            assert re.fullmatch(r'  p\d+\["[^"\n]*"\]|  p\d+ --> p\d+|graph LR|  class .*', line)
    else:
        assert "```mermaid" not in lines


@settings(deadline=None)
@given(reports(), reports())
def test_rendered_block_splices_again(first: Report, second: Report) -> None:
    written = splice(None, render_text(first))
    user = "# My follow-ups\n\n" + written + "\nMy own notes %% hidden %%\n"
    again = splice(user, render_text(second))
    assert again == "# My follow-ups\n\n" + render_text(second) + "\n\nMy own notes %% hidden %%\n"


def test_render_block_of_an_empty_report() -> None:
    report = Report(TODAY, [], [], [], [], 0, [])
    block = render_text(report)
    lines = block.split("\n")
    assert lines[0] == BEGIN and lines[-1] == END
    assert not any(line.startswith("## ") for line in lines)


def test_render_block_hostile_names_example() -> None:
    evil = "x]]|%% vaultsync:end %%\n- [ ] fake [[y]] #tag ^id `code`"
    bob = Person("People/" + evil + ".md", evil, "People/" + evil + ".md", evil, "a@b.co")
    follow = FollowUp("vs1", "report-back", bob, "Meetings/" + evil + ".md", ["advice"], TODAY,
                      "due", ready=True)
    report = Report(TODAY, [follow], [], [PersonRow(bob, TODAY, 1, 0)], [], 1, [(bob, bob)])
    lines = render_text(report).split("\n")
    assert lines[0] == BEGIN and lines[-1] == END
    assert [line.strip() for line in lines].count(END) == 1
    (task,) = [line for line in lines if line.startswith("- [ ] ")]
    assert task.endswith("📅 2026-11-27 ^vs1")
    rows = [line for line in lines if line.startswith("| ")]
    assert len(rows) == 3  # header, rule, Bob
    assert all(unescaped_pipes(row) == 5 for row in rows)


@pytest.mark.parametrize(
    ("horizon", "title"),
    [(7, "## Due this week"), (30, "## Due within 30 days"), (1, "## Due within 1 day")],
)
def test_the_due_section_says_how_far_it_looks(horizon: int, title: str) -> None:
    bob = Person("People/Bob.md", "Bob", "People/Bob.md", "Bob")
    follow = FollowUp("vs1", "report-back", bob, "Meetings/Lunch.md", ["advice"], TODAY, "due")
    report = Report(TODAY, [follow], [], [], [], 1, [])
    lines = render_block(report, horizon_days=horizon).decode().split("\n")
    assert [line for line in lines if line.startswith("## ")] == [title]


def test_task_line_offers_mailto_only_for_an_email() -> None:
    with_mail = Person("People/Bob.md", "Bob", "People/Bob.md", "Bob", email="bob@example.com")
    without = Person("People/Eve.md", "Eve", "People/Eve.md", "Eve", email="not an email")
    report = Report(
        TODAY,
        [
            FollowUp("a1", "report-back", with_mail, "Meetings/Lunch.md", ["introduction"],
                     TODAY, "due"),
            FollowUp("a2", "report-back", without, "Meetings/Lunch.md", ["advice"], TODAY, "due"),
        ],
        [], [], [], 1, [],
    )
    lines = [line for line in render_text(report).split("\n") if line.startswith("- [ ] ")]
    assert "mailto:bob@example.com?subject=" in lines[0]
    assert "mailto:" not in lines[1]


@settings(deadline=None)
@given(TITLE, st.emails())
def test_mailto_subject_never_breaks_the_line(title: str, email: str) -> None:
    bob = Person("People/Bob.md", "Bob", "People/Bob.md", "Bob", email=email)
    assume(title.strip())
    follow = FollowUp("m1", "report-back", bob, f"Meetings/{title}.md", ["explicit"], TODAY, "due")
    lines = render_text(Report(TODAY, [follow], [], [], [], 1, [])).split("\n")
    (task,) = [line for line in lines if line.startswith("- [ ] ")]
    assert task.endswith("📅 2026-11-27 ^m1")
