"""vaultsync.links: parsing every link form of SPEC §4, and resolving links like Obsidian."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import pytest
from conftest import time_limit
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vaultsync.links import Link, LinkIndex, composed, fold, links_in, parse_reference
from vaultsync.scan import scan
from vaultsync.ticks import done


def targets(text: str, source_dir: str = "") -> list[str]:
    return [link.target for link in links_in(text, source_dir)]


# --- links_in / parse_reference -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[Bob Smith]]", "Bob Smith"),
        ("[[Bob Smith|Bob]]", "Bob Smith"),
        ("[[People/Bob Smith]]", "People/Bob Smith"),
        ("[[People/Bob Smith.md]]", "People/Bob Smith"),
        ("[[Bob Smith#Contact]]", "Bob Smith"),
        ("[[Bob Smith#Contact|call him]]", "Bob Smith"),
        ("[[Bob Smith#^block1|x]]", "Bob Smith"),
        ("[[Bob Smith#^block1]]", "Bob Smith"),
        ("[[ Bob Smith ]]", "Bob Smith"),
        ("[[Bob Smith\\|Bob]]", "Bob Smith"),  # the escaped pipe of a link in a table
        ("![[Bob Smith]]", "Bob Smith"),
        ("[Bob](People/Bob%20Smith.md)", "People/Bob Smith"),
        ("[Bob](Bob.md)", "Bob"),
        ("[Bob](<People/Bob Smith.md>)", "People/Bob Smith"),
        ("[Bob](People/Bob%20Smith.md#Contact)", "People/Bob Smith"),
        ('[Bob](People/Bob%20Smith.md "Bob\'s note")', "People/Bob Smith"),
        ("[Zoë](People/Zo%C3%AB.md)", "People/Zoë"),
        ("[Bob]( People/Bob.md )", "People/Bob"),
        ("[](Bob.md)", "Bob"),
    ],
)
def test_single_link_forms(text: str, expected: str) -> None:
    assert links_in(text) == [Link(expected)]
    assert parse_reference(text) == [Link(expected)]
    assert parse_reference(f"  Met {text} at the conference ") == [Link(expected)]


@pytest.mark.parametrize(
    ("text", "source_dir", "expected"),
    [
        ("[X](../People/X.md)", "Meetings", "People/X"),
        ("[X](../People/X%20Y.md)", "Meetings/2026", "Meetings/People/X Y"),
        ("[X](../../People/X.md)", "Meetings/2026", "People/X"),
        ("[X](./X.md)", "Meetings", "Meetings/X"),
        ("[X](./Sub/X.md)", "", "Sub/X"),
        ("[X](<../People/X Y.md>)", "Meetings", "People/X Y"),
    ],
)
def test_relative_markdown_links_resolve_against_source_dir(
    text: str, source_dir: str, expected: str
) -> None:
    assert targets(text, source_dir) == [expected]


def test_relative_link_above_the_vault_root_is_not_a_note_in_the_vault() -> None:
    # `../X.md` from a note at the root points outside the vault; it is not the note `X`.
    assert targets("[X](../X.md)") == []
    assert targets("[X](../../People/X.md)", "Meetings") == []


@pytest.mark.parametrize(
    "text",
    [
        "[site](https://example.com/Bob.md)",
        "[mail](mailto:bob@example.com)",
        "[call](tel:+123456)",
        "[open](obsidian://open?vault=v&file=Bob)",
        "[file](file:///home/bob/Bob.md)",
        "<https://example.com>",
        "[heading](#Contact)",
        "[[#Contact]]",
        "[[]]",
        "[[|shown]]",
        "plain text, no link",
        "[not a link]",
        "[[unclosed",
    ],
)
def test_not_note_links(text: str) -> None:
    assert links_in(text) == []


def test_links_in_order_of_appearance() -> None:
    text = "[C](C.md) met [[A]] and ![[B|b]], then [D](<D D.md>) and [[E#x]]"
    assert targets(text) == ["C", "A", "B", "D D", "E"]


def test_links_in_several_on_a_line_and_lines() -> None:
    assert targets("[[A]][[B]]\n[[C]] [x](https://x.y) [[D|d]]") == ["A", "B", "C", "D"]


def test_markdown_link_text_with_escaped_brackets() -> None:
    # CommonMark allows `\]` in link text; the link still points at People/Bob.md.
    assert targets("[Bob \\[work\\]](People/Bob.md)") == ["People/Bob"]
    assert targets("[a\\]b](T.md)") == ["T"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bob Smith", [Link("Bob Smith", bare=True)]),
        ("  Bob Smith  ", [Link("Bob Smith", bare=True)]),
        ('"Bob Smith"', [Link("Bob Smith", bare=True)]),
        ("'Bob'", [Link("Bob", bare=True)]),
        ("", []),
        ("   ", []),
        ('""', []),
        ("[[Bob]]", [Link("Bob")]),
        ("[[Bob]], [[Carol|C]]", [Link("Bob"), Link("Carol")]),
        # What Obsidian leaves when `[[` is typed in a property and nothing chosen: no one.
        ("[[]]", []),
        ("[[ ]]", []),
        ("Ann [[]]", [Link("Ann", bare=True)]),
        ("[[|shown]]", []),
        ("[[#Contact]]", []),
    ],
)
def test_parse_reference(text: str, expected: list[Link]) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize(
    ("text", "target"),
    [("![[Diagram.png]]", "Diagram.png"), ("![pic](Attachments/a%20b.png)", "Attachments/a b.png")],
)
def test_links_to_files_are_links(text: str, target: str) -> None:
    """Read as links: whether one names a person is for resolution to say (a note may be
    called `Diagram.png.md`)."""
    assert links_in(text) == [Link(target)]
    assert parse_reference(f"Met at {text}") == [Link(target)]


@pytest.mark.parametrize("text", ["[[../../Zed]]", "[Zed](https://zed.example)", "[[#Notes]]"])
def test_a_value_whose_links_lead_nowhere_in_the_vault_names_no_one(text: str) -> None:
    assert parse_reference(text) == []


@pytest.mark.parametrize(
    ("text", "source_dir", "expected"),
    [
        ("[[../People/Bob|Bob]]", "Meetings", "People/Bob"),
        ("[[./Cy]]", "Meetings/2026", "Meetings/2026/Cy"),
        ("[[../Bob.md]]", "Meetings", "Bob"),
        ("[[../../Bob]]", "Meetings", None),  # out of the vault
    ],
)
def test_relative_wikilinks_start_at_the_linking_note(
    text: str, source_dir: str, expected: str | None
) -> None:
    """Obsidian's "relative path to file" link format."""
    assert targets(text, source_dir) == ([expected] if expected else [])


def test_a_bare_name_with_md_names_the_note() -> None:
    assert parse_reference("Bob Smith.md") == [Link("Bob Smith", bare=True)]


def test_bare_reference_is_marked_bare() -> None:
    (link,) = parse_reference("Bob")
    assert link.bare
    (link,) = parse_reference("[[Bob]]")
    assert not link.bare


_SAFE_TARGET = st.text(
    alphabet=st.characters(
        blacklist_characters="[]|#^\n\\", blacklist_categories=("Cs",)
    ),
    min_size=1,
    max_size=30,
)


@settings(deadline=None)
@given(_SAFE_TARGET, st.text(alphabet=st.characters(blacklist_characters="[]\n"), max_size=20))
def test_wikilink_round_trip(target: str, shown: str) -> None:
    expected = target.strip()
    assume(expected and not expected.startswith("/") and not expected.lower().endswith(".md"))
    assume(not {".", ".."} & set(expected.split("/")))  # relative: see the test above
    assert links_in(f"[[{target}]]") == [Link(expected)]
    assert links_in(f"[[{target}|{shown}]]") == [Link(expected)]
    assert links_in(f"before ![[{target}|{shown}]] after") == [Link(expected)]
    assert parse_reference(f"[[{target}]]") == [Link(expected)]


@settings(deadline=None)
@given(st.text())
def test_links_in_never_raises(text: str) -> None:
    for link in links_in(text, "Some/Folder"):
        assert link.target


@settings(deadline=None)
@given(st.text(alphabet="[]()<>|#^!\\ ./%:ab\n", max_size=40), st.sampled_from(["", "A", "A/B"]))
def test_links_in_never_raises_on_bracket_soup(text: str, source_dir: str) -> None:
    for link in links_in(text, source_dir):
        assert link.target
        assert not link.target.startswith("/")


@settings(deadline=None)
@given(st.text())
def test_parse_reference_never_raises(text: str) -> None:
    for link in parse_reference(text):
        assert link.target


# --- LinkIndex.resolve ----------------------------------------------------------------------


def index(paths: dict[str, list[str]], people: tuple[str, ...] = ()) -> LinkIndex:
    idx = LinkIndex(is_preferred=lambda path: path in people)
    for path, aliases in paths.items():
        idx.add(path, aliases)
    return idx


VAULT = {
    "People/Bob Smith.md": ["Bobby", "Robert Smith"],
    "Meetings/2026-11-20 Coffee.md": [],
    "Archive/2020/People/Old Friend.md": [],
    "Carol.md": [],
    "People/Dana.md": ["Carol"],  # an alias equal to another note's name
}


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("People/Bob Smith", "People/Bob Smith.md"),
        ("people/bob smith", "People/Bob Smith.md"),
        ("Bob Smith", "People/Bob Smith.md"),
        ("bob smith", "People/Bob Smith.md"),
        ("BOB SMITH", "People/Bob Smith.md"),
        ("Bobby", "People/Bob Smith.md"),
        ("robert smith", "People/Bob Smith.md"),
        ("People/Old Friend", "Archive/2020/People/Old Friend.md"),  # a path suffix
        ("2020/People/Old Friend", "Archive/2020/People/Old Friend.md"),
        ("Old Friend", "Archive/2020/People/Old Friend.md"),
        ("Meetings/2026-11-20 Coffee", "Meetings/2026-11-20 Coffee.md"),
        ("Carol", "Carol.md"),  # the file name wins over an alias
        ("Dana", "People/Dana.md"),
    ],
)
def test_resolve(target: str, expected: str) -> None:
    assert index(VAULT).resolve(target) == (expected, [])


@pytest.mark.parametrize(
    "target", ["Nobody", "", "   ", "Other/Bob Smith", "ople/Bob Smith", "Bob", "Smith"]
)
def test_resolve_nothing(target: str) -> None:
    assert index(VAULT).resolve(target) == (None, [])


def test_links_by_path_to_notes_that_share_a_name_resolve_apart() -> None:
    """`index.md` in every folder: each link by path compared every note of that name, so
    8,000 of them took half a minute."""
    idx = LinkIndex()
    for i in range(8000):
        idx.add(f"People/P{i}/index.md")
    with time_limit(5):
        for i in range(8000):
            assert idx.resolve(f"People/P{i}/index") == (f"People/P{i}/index.md", [])
        assert idx.resolve("P7/index") == ("People/P7/index.md", [])  # a path suffix
    idx.add("Other/P7/index.md")
    assert idx.resolve("P7/index") == ("Other/P7/index.md", ["People/P7/index.md"])
    idx.remove("Other/P7/index.md")
    assert idx.resolve("P7/index") == ("People/P7/index.md", [])


def test_ambiguous_name_prefers_person_notes() -> None:
    idx = index(
        {"Alex.md": [], "Projects/Deep/Alex.md": [], "People/Work/Alex.md": []},
        people=("People/Work/Alex.md",),
    )
    chosen, others = idx.resolve("alex")
    assert chosen == "People/Work/Alex.md"
    assert sorted(others) == ["Alex.md", "Projects/Deep/Alex.md"]


def test_ambiguous_name_then_shortest_path() -> None:
    idx = index({"Projects/Deep/Alex.md": [], "Notes/Alex.md": [], "Zed/Alex.md": []})
    chosen, others = idx.resolve("Alex")
    assert chosen == "Zed/Alex.md"  # shortest path
    assert sorted(others) == ["Notes/Alex.md", "Projects/Deep/Alex.md"]


def test_ambiguous_person_notes_then_shortest_path() -> None:
    idx = index(
        {"People/A/Alex.md": [], "People/Alex.md": [], "Alex.md": []},
        people=("People/A/Alex.md", "People/Alex.md"),
    )
    chosen, others = idx.resolve("Alex")
    assert chosen == "People/Alex.md"
    assert set(others) == {"People/A/Alex.md", "Alex.md"}


def test_ambiguous_alias() -> None:
    idx = index(
        {"Projects/JD Notes.md": ["JD"], "People/John Doe.md": ["JD"], "J.md": ["jd"]},
        people=("People/John Doe.md",),
    )
    chosen, others = idx.resolve("jd")
    assert chosen == "People/John Doe.md"
    assert set(others) == {"Projects/JD Notes.md", "J.md"}


def test_ambiguous_path_suffix() -> None:
    idx = index({"A/People/Bob.md": [], "B/Long/People/Bob.md": []})
    chosen, others = idx.resolve("People/Bob")
    assert chosen == "A/People/Bob.md"
    assert others == ["B/Long/People/Bob.md"]


def test_exact_path_beats_suffix_match() -> None:
    idx = index({"Archive/People/Bob.md": [], "People/Bob.md": []})
    assert idx.resolve("People/Bob") == ("People/Bob.md", [])


def test_same_alias_twice_is_not_ambiguous() -> None:
    idx = index({"People/Bob.md": ["Bobby", "bobby"]})
    assert idx.resolve("Bobby") == ("People/Bob.md", [])


# --- fold: names compare without case, and however their accents are stored ------------------


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_a_decomposed_file_name_and_a_composed_link_name_one_note() -> None:
    # macOS may store `José` as `Jose` and a combining accent; the link is typed composed.
    idx = index({nfd("People/José Díaz.md"): [nfd("Pepe Núñez")], "People/Zoë.md": []})
    assert nfd("José") != "José"
    for target in ("José Díaz", "people/JOSÉ DÍAZ", "pepe núñez", nfd("José Díaz")):
        assert idx.resolve(target) == (nfd("People/José Díaz.md"), [])
    assert idx.resolve(nfd("Zoë")) == ("People/Zoë.md", [])


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_the_note_chosen_among_several_is_the_same_however_accents_are_stored(form: str) -> None:
    idx = index({unicodedata.normalize(form, "Café/Ann.md"): [], "Work/Ann.md": []})
    assert idx.resolve("Ann") == (
        unicodedata.normalize(form, "Café/Ann.md"),
        ["Work/Ann.md"],
    )


def test_the_same_name_stored_both_ways_is_two_candidates_not_two_people() -> None:
    idx = index({"A/Zoë.md": [], nfd("B/Zoë.md"): []})  # a case-sensitive disk holds both
    chosen, others = idx.resolve("Zoë")
    assert (chosen, others) == ("A/Zoë.md", [nfd("B/Zoë.md")])
    idx.remove(nfd("B/Zoë.md"))
    assert idx.resolve(nfd("zoë")) == ("A/Zoë.md", [])


@settings(deadline=None)
@given(st.text())
def test_fold_meets_every_way_of_storing_the_same_text(text: str) -> None:
    folded = fold(unicodedata.normalize("NFC", text))
    assert fold(nfd(text)) == folded
    assert fold(folded) == folded  # a folded name looked up again finds itself


def test_a_vault_copied_from_macos_reads_as_obsidian_shows_it(tmp_path: Path) -> None:
    """Names stored decomposed on disk, typed composed (or the other way) in notes and in
    the configuration: one person each, the right folders skipped, links written composed."""
    notes = {
        nfd("Équipe/José Díaz.md"): "---\naliases: [Pepe]\n---\n",
        "Modèles/Réunion.md": "---\ndate: 2026-11-01\nreport_back_to: '[[Ghost]]'\n---\n",
        nfd("Archivé/2025 Dîner.md"): "---\ndate: 2026-11-02\nreport_back_to: '[[Ghost]]'\n---\n",
        "Brouillé/Idée.md": "---\ndate: 2026-11-03\nreport_back_to: '[[Ghost]]'\n---\n",
        nfd("Réunions/Brouillon café.md"): "- [ ] Follow up with [[Ghost]]\n",
        "Réunions/2026-11-20 Café.md": (
            "---\ndate: 2026-11-20\n"
            f"people: ['[[José Díaz]]', '[[{nfd('pepe')}]]']\n"
            f"introduced_by: '[[{nfd('Zoë')}]]'\nreport_back_to: ['[[zoë]]']\n---\n"
            f"- [ ] Follow up with [[{nfd('JOSÉ DÍAZ')}]] 📅 2026-11-30\n"
        ),
        ".vaultsync.toml": (
            f'people_folders = ["Équipe"]\ntemplates_folders = ["{nfd("Modèles")}"]\n'
            f'ignore = ["Archivé/**", "{nfd("Brouillé")}/**", "**/brouillon café.md"]\n'
        ),
    }
    for rel, text in notes.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    meeting, jose = "Réunions/2026-11-20 Café.md", nfd("Équipe/José Díaz.md")

    report = scan(tmp_path, dt.date(2026, 11, 27), dry_run=True).report
    assert [(row.person.key, row.person.note) for row in report.people] == [
        (jose, jose),
        ("?zoë", None),
    ]
    assert sorted((f.person.key, f.reasons) for f in report.followups) == [
        ("?zoë", ["introduction", "explicit"]),
        (jose, ["task"]),
    ]
    text = scan(tmp_path, dt.date(2026, 11, 27)).text
    assert "[[Équipe/José Díaz|José Díaz]]" in text and nfd("José") not in text

    result = done(
        tmp_path, nfd("josé díaz"), dt.date(2026, 11, 27), source=nfd("2026-11-20 café")
    )
    assert "reported_back_to:\n  - \"[[José Díaz]] 2026-11-27\"\n" in (
        tmp_path / meeting
    ).read_text("utf-8")
    assert result.scan is not None
    assert [f.person.key for f in result.scan.report.followups] == ["?zoë"]  # José's closed


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_people_are_listed_in_the_same_order_however_accents_are_stored(
    tmp_path: Path, form: str
) -> None:
    names = ["Fay", "Émile", "dan"]
    for name in names:
        (tmp_path / "People").mkdir(exist_ok=True)
        (tmp_path / "People" / unicodedata.normalize(form, f"{name}.md")).write_text("")
    linked = ", ".join(f"'[[{name}]]'" for name in names)
    (tmp_path / "Tea.md").write_text(f"---\ndate: 2026-11-05\nreport_back_to: [{linked}]\n---")
    (tmp_path / "Intro.md").write_text(
        "---\ndate: 2026-11-06\nintroduced_by: '[[Fay]]'\npeople: ['[[Émile]]', '[[dan]]']\n---\n"
    )
    result = scan(tmp_path, dt.date(2026, 11, 27))
    expected = ["dan", "Fay", "Émile"]
    assert [composed(row.person.name) for row in result.report.people] == expected
    items = [composed(f.person.name) for f in result.report.followups]
    assert items == ["Fay", "dan", "Fay", "Émile"]  # the introduction is due first
    graph = result.text[result.text.index("```mermaid") :]
    assert [line.split('"')[1] for line in graph.splitlines() if '["' in line] == [
        "Fay",
        "dan",
        "Émile",
    ]
