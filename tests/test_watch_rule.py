"""The watcher's ignore rule, `classify`: pure, so every case is a line of a table."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaultsync.scan import UNSURE, stamp
from vaultsync.vault import Layout, glob_regex
from vaultsync.watch import classify, is_editor_temp

LAYOUT = Layout(output="Follow-ups.md", templates=("Templates",), ignore=("Archive/**",))


@pytest.mark.parametrize(
    ("rel", "kind"),
    [
        # notes, as a full scan reads them
        ("Home.md", "note"),
        ("Meetings/2026-11-20 Coffee with Carol.md", "note"),
        ("People/Bob.MD", "note"),
        ("~notes.md", "note"),  # a tilde at the start is no editor's mark
        ("#ideas#.md", "note"),
        # our own output and its temporary files
        ("Follow-ups.md", "output"),
        ("follow-ups.md", "output"),
        (".vaultsync-abc123.tmp", "ignore"),
        ("Sub/.vaultsync-x.tmp", "ignore"),
        # configuration
        (".vaultsync.toml", "config"),
        (".obsidian/templates.json", "config"),
        (".obsidian/plugins/templater-obsidian/data.json", "config"),
        (".obsidian/workspace.json", "ignore"),
        (".obsidian/plugins/other/data.json", "ignore"),
        ("Sub/.vaultsync.toml", "ignore"),
        # hidden paths
        (".trash/Old meeting.md", "ignore"),
        (".git/HEAD", "ignore"),
        ("Meetings/.hidden.md", "ignore"),
        # vim
        ("Meetings/.x.md.swp", "ignore"),
        ("Meetings/x.md.swp", "ignore"),
        ("Meetings/x.md.swx", "ignore"),
        ("Meetings/4913", "ignore"),
        ("Meetings/x.md~", "ignore"),
        # emacs
        ("Meetings/.#x.md", "ignore"),
        ("Meetings/#x.md#", "ignore"),
        # downloads, sync clients, office, JetBrains, Kate
        ("Meetings/x.md.tmp", "ignore"),
        ("Meetings/x.md.crdownload", "ignore"),
        ("Meetings/x.md.part", "ignore"),
        ("Meetings/~$report.docx", "ignore"),
        ("Meetings/x.md___jb_tmp___", "ignore"),
        ("Meetings/x.md.kate-swp", "ignore"),
        # not notes
        ("image.png", "ignore"),
        ("Notes/readme.txt", "ignore"),
        ("Templates/Meeting.md", "ignore"),
        ("Archive/2020/old.md", "ignore"),
        ("Meetings/x (conflict 2026-01-01).md", "ignore"),
        ("Meetings/x.sync-conflict-20260101-abc.md", "ignore"),
        # the root itself, and anything outside it
        (".", "ignore"),
        ("", "ignore"),
        ("../elsewhere.md", "ignore"),
    ],
)
def test_files(rel: str, kind: str) -> None:
    assert classify(rel, LAYOUT) == kind


@pytest.mark.parametrize(
    ("rel", "kind"),
    [
        ("Meetings", "folder"),
        ("Meetings/2026", "folder"),
        ("Templates", "ignore"),
        ("Templates/Sub", "ignore"),
        ("Archive", "ignore"),  # `Archive/**` skips all that is in it, so the folder itself
        ("Archive/2020", "ignore"),
        (".trash", "ignore"),
        (".git/objects", "ignore"),
        (".obsidian", "config"),  # replaced as a whole by a sync client
        (".obsidian/plugins/templater-obsidian", "config"),
        (".obsidian/snippets", "ignore"),
        (".", "ignore"),
    ],
)
def test_folders(rel: str, kind: str) -> None:
    assert classify(rel, LAYOUT, is_dir=True) == kind


def test_the_output_path_follows_the_configuration() -> None:
    layout = Layout(output="Reports/Follow-ups.md", templates=(), ignore=())
    assert classify("Reports/Follow-ups.md", layout) == "output"
    assert classify("Follow-ups.md", layout) == "note"


def test_the_output_is_known_however_its_accents_are_stored() -> None:
    # macOS, which stores names decomposed, opens the same file for either spelling.
    layout = Layout(output="Réseau/Suivi.md", templates=(), ignore=())
    assert classify(unicodedata.normalize("NFD", "réseau/suivi.md"), layout) == "output"


def test_a_note_name_is_never_an_editor_temp_file() -> None:
    # The rule must never hide a note that a full scan reads.
    for name in ("~$budget.md", "a~b.md", "x.tmp.md", "4913.md", "#1.md"):
        assert not is_editor_temp(name), name


_SEGMENTS = st.sampled_from(
    ["Archive", "archive", "Templates", "Meetings", ".obsidian", "a b", "x.md", "Note.MD", "*"]
)
_PATHS = st.lists(_SEGMENTS, min_size=1, max_size=4).map("/".join)
_PATTERNS = st.lists(
    st.sampled_from(["Archive/**", "*.md", "**/x.md", "Meetings/*", "a b", "Note.md", "**"]),
    max_size=3,
).map(tuple)


@given(patterns=_PATTERNS, rel=_PATHS)
def test_the_ignore_patterns_match_as_one_what_each_matches(
    patterns: tuple[str, ...], rel: str
) -> None:
    """The rules run once per file, so the patterns are joined into one; it must match
    exactly the paths that one of them matches, for files and for folders."""
    layout = Layout(output="Follow-ups.md", templates=(), ignore=patterns)
    one_of = any(glob_regex(p).fullmatch(rel) for p in patterns)
    assert (layout.skip_reason(rel) == "ignored") == (
        one_of and rel.lower().endswith(".md") and not rel.startswith(".") and "/." not in rel
    )
    folder = one_of or any(glob_regex(p).fullmatch(rel + "/") for p in patterns)
    assert layout.skips_folder(rel) == (folder or rel.startswith(".") or "/." in rel)


SECOND = 1_000_000_000


@pytest.mark.parametrize(
    ("mtime", "ctime", "now", "expected"),
    [
        (5 * SECOND + 7, 5 * SECOND + 7, 5 * SECOND + 7 + 30_000_000, 5 * SECOND + 7),
        (5 * SECOND + 7, 5 * SECOND + 7, 5 * SECOND + 7 + 10_000_000, UNSURE),  # same tick
        (5 * SECOND, 5 * SECOND, 6 * SECOND + 900_000_000, UNSURE),  # FAT's two-second tick
        (5 * SECOND, 5 * SECOND, 7 * SECOND, 5 * SECOND),  # whole seconds, long past
        (5 * SECOND, 9 * SECOND + 7, 20 * SECOND, 9 * SECOND + 7),  # `cp -p` kept the mtime
        (9 * SECOND + 7, 5 * SECOND, 20 * SECOND, 9 * SECOND + 7),  # Windows: creation time
        (5 * SECOND, 5 * SECOND, 4 * SECOND, 5 * SECOND),  # ahead of our clock: not ours to judge
    ],
)
def test_a_time_stamp_vouches_for_a_note_once_its_tick_is_past(
    mtime: int, ctime: int, now: int, expected: int
) -> None:
    assert stamp(mtime, ctime, now) == expected
