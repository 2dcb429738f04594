"""vaultsync.tasks: report-back tasks in a note's body (SPEC §6, "Tasks")."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaultsync.config import DEFAULT_PHRASES, Config
from vaultsync.links import Link
from vaultsync.notes import NoteReader
from vaultsync.tasks import CANCELLED, DONE, OPEN, Task, TaskFinder


def find(
    body: str,
    first_line: int = 1,
    phrases: tuple[str, ...] = DEFAULT_PHRASES,
    source_dir: str = "",
) -> list[Task]:
    """The tasks of `body` (a body this shallow is never too deep to read)."""
    found, too_deep = TaskFinder(phrases).find(body, first_line, source_dir)
    assert too_deep is None
    return found


def one(body: str, **kwargs: object) -> Task:
    found = find(body, **kwargs)  # type: ignore[arg-type]
    assert len(found) == 1, found
    return found[0]


BOB = (Link("Bob"),)


# --- what is a task -------------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["-", "*", "+", "1.", "1)", "7.", "42)"])
def test_every_list_marker(marker: str) -> None:
    task = one(f"{marker} [ ] Report back to [[Bob]]\n")
    assert task.status == OPEN
    assert task.links == BOB
    assert task.line == 1
    assert task.text.strip() == "Report back to [[Bob]]"


@pytest.mark.parametrize(
    "body",
    [
        "- Parent\n  - [ ] Report back to [[Bob]]\n",
        "- Parent\n    - [ ] Report back to [[Bob]]\n",
        "- Parent\n\t- [ ] Report back to [[Bob]]\n",
        "- Parent\n  - Child\n    - [ ] Report back to [[Bob]]\n",
        "1. Parent\n   1. [ ] Report back to [[Bob]]\n",
        "- [ ] Parent task\n  - [ ] Report back to [[Bob]]\n",
        "Some text\n- [ ] Report back to [[Bob]]\n",
        "  - [ ] Report back to [[Bob]]\n",
        "   * [ ] Report back to [[Bob]]\n",
    ],
)
def test_any_indent(body: str) -> None:
    task = one(body)
    assert task.links == BOB
    assert task.line == body.count("\n")


@pytest.mark.parametrize(
    "body",
    [
        "> - [ ] Report back to [[Bob]]\n",
        "> [!todo] Follow-ups\n> - [ ] Report back to [[Bob]]\n",
        "> [!note]- Folded\n> - [ ] Report back to [[Bob]]\n",
        "> quote\n>\n> > - [ ] Report back to [[Bob]]\n",
        ">- [ ] Report back to [[Bob]]\n",
    ],
)
def test_in_blockquotes_and_callouts(body: str) -> None:
    task = one(body)
    assert task.links == BOB
    assert task.line == body.count("\n")


@pytest.mark.parametrize(
    "body",
    [
        "```\n- [ ] Report back to [[Bob]]\n```\n",
        "```markdown\n- [ ] Report back to [[Bob]]\n```\n",
        "~~~\n- [ ] Report back to [[Bob]]\n~~~\n",
        "````\n```\n- [ ] Report back to [[Bob]]\n```\n````\n",
        "Text\n\n    - [ ] Report back to [[Bob]]\n",
        "    - [ ] Report back to [[Bob]]\n",
        "\t- [ ] Report back to [[Bob]]\n",
        "- Item\n\n  ```\n  - [ ] Report back to [[Bob]]\n  ```\n",
        "> ```\n> - [ ] Report back to [[Bob]]\n> ```\n",
        "```\nunclosed fence\n- [ ] Report back to [[Bob]]\n",
        "<div>\n- [ ] Report back to [[Bob]]\n</div>\n",  # an HTML block
    ],
)
def test_not_inside_code(body: str) -> None:
    assert find(body) == []


@pytest.mark.parametrize(
    "body",
    [
        "%%\n- [ ] Report back to [[Bob]]\n%%\n",
        "Put aside: %%\n- [ ] Report back to [[Bob]]\n",  # unclosed: to the end
        "> %% quoted\n> - [ ] Report back to [[Bob]]\n> %%\n",
        "%%\n```\n```\n- [ ] Report back to [[Bob]]\n%%\n",  # code inside a comment
    ],
)
def test_not_inside_an_obsidian_comment(body: str) -> None:
    """Obsidian hides `%% … %%`, and the Tasks plugin ignores tasks there."""
    assert find(body) == []


@pytest.mark.parametrize(
    "body",
    [
        "- [ ] Report back to [[Bob]] %% why: he asked %%\n",
        "%% one line %%\n- [ ] Report back to [[Bob]]\n",
        "```\n%%\n```\n- [ ] Report back to [[Bob]]\n",  # `%%` in code is text
        "Use `%%` for comments.\n\n- [ ] Report back to [[Bob]]\n",
        "%%\nhidden\n%%\n- [ ] Report back to [[Bob]]\n",
        "```\ncode\n``` not a closing fence\n%%\n```\n- [ ] Report back to [[Bob]]\n",
        "- ```\n  %%\n  ```\n- [ ] Report back to [[Bob]]\n",  # a fence in a list item
        "    %% indented code\n\n- [ ] Report back to [[Bob]]\n",
        "Code ``a ` %% b`` here.\n\n- [ ] Report back to [[Bob]]\n",
    ],
)
def test_a_comment_hides_only_what_is_in_it(body: str) -> None:
    assert one(body).links == BOB


def test_code_then_real_task() -> None:
    body = "```\n- [ ] Report back to [[Carol]]\n```\n- [ ] Report back to [[Bob]]\n"
    task = one(body)
    assert task.links == BOB
    assert task.line == 4


@pytest.mark.parametrize(
    "body",
    [
        "- [ ] Report back to Bob\n",  # no link
        "- [ ] Report back to [Bob](https://example.com)\n",  # not a note
        "- [ ] Call [[Bob]] about the party\n",  # no phrase
        "- Report back to [[Bob]]\n",  # not a task
        "Report back to [[Bob]]\n",
        "- [] Report back to [[Bob]]\n",
        "- [ ]Report back to [[Bob]]\n",
        "-[ ] Report back to [[Bob]]\n",
        "",
    ],
)
def test_not_a_report_back_task(body: str) -> None:
    assert find(body) == []


@pytest.mark.parametrize(
    "text",
    [
        "REPORT BACK to [[Bob]]",
        "Reported back to [[Bob]]?",
        "Follow up with [[Bob]]",
        "follow-up: [[Bob]]",
        "Close The Loop with [[Bob]]",
        "[[Bob]]: report back",
        # However the words are joined: a non-breaking space, hyphens, dashes, or nothing.
        "Report\u00a0back to [[Bob]]",
        "Report-back to [[Bob]]",
        "Follow\u2011up with [[Bob]]",
        "Follow\u2013up with [[Bob]]",
        "Followup with [[Bob]]",
        "Close  the\u00a0loop with [[Bob]]",
    ],
)
def test_phrases_case_insensitive(text: str) -> None:
    assert one(f"- [ ] {text}\n").links == BOB


@pytest.mark.parametrize(
    "body",
    [
        "- [ ] Follow upstream changes with [[Bob]]\n",  # a phrase inside a word
        "- [ ] Report backlog to [[Bob]]\n",
        "- [ ] Follow up `[[Bob]]`\n",  # a link in inline code
        "- [ ] Follow up %% with [[Bob]] %%\n",  # in comments
        "- [ ] Follow up <!-- with [[Bob]] -->\n",
        "- [ ] Follow up on [[2026-12-05]]\n",  # a daily note
        "- [ ] Follow up on [[Daily/2026-12-05|Friday]]\n",
    ],
)
def test_only_what_obsidian_shows_as_the_tasks_words_and_people(body: str) -> None:
    assert find(body) == []


@pytest.mark.parametrize(
    ("body", "due"),
    [
        ("- [ ] Follow-ups with [[Bob]]\n", None),  # a plural is the phrase too
        ("- [ ] Follow up with [[Bob]] `[[Carol]]` 📅 2026-12-01\n", dt.date(2026, 12, 1)),
        ("- [ ] Follow up with [[Bob]] %% 📅 2026-11-01 [[Carol]] %%\n", None),
        ("- [ ] Follow up with [[Bob]] <!-- - [ ] follow up [[Carol]] -->\n", None),
        ("- [ ] Follow up with [[Bob]] on [[2026-12-05]] 📅 2026-12-05\n", dt.date(2026, 12, 5)),
    ],
)
def test_the_task_is_what_obsidian_shows(body: str, due: dt.date | None) -> None:
    task = one(body)
    assert (task.links, task.due) == (BOB, due)


def test_configured_phrases() -> None:
    assert find("- [ ] Ping [[Bob]] with news\n") == []
    assert one("- [ ] PING [[Bob]] with news\n", phrases=("ping",)).links == BOB
    assert find("- [ ] Report back to [[Bob]]\n", phrases=("ping",)) == []


@pytest.mark.parametrize(
    ("phrase", "text"),
    [
        ("报告", "向[[Bob]]报告情况"),  # no spaces between words: found anywhere
        ("FYI:", "FYI:[[Bob]]"),
        ("→ report", "Meeting → report [[Bob]]"),
        ("Rückmeldung", "Rückmeldung an [[Bob]]"),
    ],
)
def test_configured_phrases_in_any_script(phrase: str, text: str) -> None:
    assert one(f"- [ ] {text}\n", phrases=(phrase,)).links == BOB


def test_configured_phrases_are_whole_words_where_words_are_spaced() -> None:
    assert find("- [ ] Pinged [[Bob]] with news\n", phrases=("ping",)) == []
    assert find("- [ ] Shipping [[Bob]] the news\n", phrases=("ping",)) == []


def test_markdown_link_task_with_source_dir() -> None:
    task = one("- [ ] Report back to [Bob](../People/Bob.md)\n", source_dir="Meetings")
    assert task.links == (Link("People/Bob"),)


def test_several_links() -> None:
    task = one("- [ ] Report back to [[Bob]] and [[People/Carol|Carol]]\n")
    assert task.links == (Link("Bob"), Link("People/Carol"))


# --- status and dates -----------------------------------------------------------------------


def test_open_task_fields() -> None:
    task = one("- [ ] Report back to [[Bob]]\n")
    assert (task.status, task.due, task.done_on) == (OPEN, None, None)


@pytest.mark.parametrize("mark", ["x", "X"])
def test_done(mark: str) -> None:
    task = one(f"- [{mark}] Reported back to [[Bob]] ✅ 2026-11-30\n")
    assert task.status == DONE
    assert task.done_on == dt.date(2026, 11, 30)


def test_done_without_date() -> None:
    task = one("- [x] Reported back to [[Bob]]\n")
    assert task.status == DONE
    assert task.done_on is None


def test_cancelled() -> None:
    task = one("- [-] Report back to [[Bob]] 📅 2026-12-01\n")
    assert task.status == CANCELLED
    assert task.due == dt.date(2026, 12, 1)


@pytest.mark.parametrize("mark", ["/", ">", "?", "!"])
def test_other_checkbox_marks_are_open(mark: str) -> None:
    assert one(f"- [{mark}] Report back to [[Bob]]\n").status == OPEN


@pytest.mark.parametrize(
    "suffix",
    [
        "📅 2026-12-01",
        "📅2026-12-01",
        "📅\ufe0f 2026-12-01",
        "📆 2026-12-01",  # the Tasks plugin reads these two as a due date as well
        "🗓\ufe0f 2026-12-01",
        "🗓2026-12-01",
        "[due:: 2026-12-01]",
        "(due:: 2026-12-01)",
        "[due::2026-12-01]",
        "⏳ 2026-12-01",  # without a due date, the day it is scheduled for
        "[scheduled:: 2026-12-01]",
        "⏳ 2027-01-15 📅 2026-12-01",  # with one, the due date
    ],
)
def test_due_dates(suffix: str) -> None:
    task = one(f"- [ ] Report back to [[Bob]] {suffix}\n")
    assert task.due == dt.date(2026, 12, 1)


def test_due_and_done_together() -> None:
    task = one("- [x] Report back to [[Bob]] 📅 2026-12-01 ✅ 2026-11-28\n")
    assert task.due == dt.date(2026, 12, 1)
    assert task.done_on == dt.date(2026, 11, 28)
    assert task.status == DONE


def test_invalid_due_date_is_none() -> None:
    assert one("- [ ] Report back to [[Bob]] 📅 2026-02-30\n").due is None


# --- line numbers ---------------------------------------------------------------------------


def test_line_numbers_with_first_line() -> None:
    body = (
        "# Notes\n"  # 10
        "- [ ] Report back to [[Bob]]\n"  # 11
        "\n"  # 12
        "```\n"  # 13
        "- [ ] Report back to [[Zed]]\n"  # 14
        "```\n"  # 15
        "> [!todo]\n"  # 16
        "> - [x] Follow up with [[Carol]]\n"  # 17
        "\n"  # 18
        "1. one\n"  # 19
        "2. [-] close the loop with [[Dan]]\n"  # 20
    )
    found = find(body, first_line=10)
    assert [(t.line, t.links[0].target, t.status) for t in found] == [
        (11, "Bob", OPEN),
        (17, "Carol", DONE),
        (20, "Dan", CANCELLED),
    ]


def test_line_numbers_with_crlf() -> None:
    body = "intro\r\n\r\n- [ ] Report back to [[Bob]]\r\n- [ ] Follow up with [[Carol]]\r\n"
    assert [t.line for t in find(body, first_line=3)] == [5, 6]


def test_line_numbers_in_the_whole_file() -> None:
    text = (
        "---\n"  # 1
        "type: meeting\n"  # 2
        "people: ['[[Bob]]']\n"  # 3
        "---\n"  # 4
        "# Coffee\n"  # 5
        "\n"  # 6
        "- [ ] Report back to [[Bob]] 📅 2026-12-01\n"  # 7
        "- [x] Follow up with [[Carol]] ✅ 2026-11-30\n"  # 8
    )
    note = NoteReader(Config()).parse("Meetings/Coffee.md", text.encode())
    assert [t.line for t in note.tasks] == [7, 8]
    assert note.tasks[0].due == dt.date(2026, 12, 1)


def test_line_numbers_in_the_whole_file_with_crlf_and_bom() -> None:
    text = "\ufeff---\r\ntype: meeting\r\n---\r\n\r\n- [ ] Report back to [[Bob]]\r\n"
    note = NoteReader(Config()).parse("Meetings/Coffee.md", text.encode())
    assert [t.line for t in note.tasks] == [5]


@settings(deadline=None)
@given(
    st.lists(st.sampled_from(["", "text", "# H", "- item", "> quote", "  indented"]), max_size=12),
    st.integers(min_value=1, max_value=500),
)
def test_task_line_after_any_prose(prose: list[str], first_line: int) -> None:
    body = "".join(line + "\n" for line in prose) + "\n- [ ] Report back to [[Bob]]\n"
    task = one(body, first_line=first_line)
    assert task.line == first_line + len(prose) + 1


@settings(deadline=None)
@given(st.text(max_size=200))
def test_find_never_raises(body: str) -> None:
    for task in find(body, first_line=3):
        assert task.line >= 3
        assert task.links
