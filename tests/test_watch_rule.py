"""The watcher's ignore rule, `classify`: pure, so every case is a line of a table."""

from __future__ import annotations

import pytest

from vaultsync.vault import Layout
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


def test_a_note_name_is_never_an_editor_temp_file() -> None:
    # The rule must never hide a note that a full scan reads.
    for name in ("~$budget.md", "a~b.md", "x.tmp.md", "4913.md", "#1.md"):
        assert not is_editor_temp(name), name
