"""`vaultsync init`: a commented configuration and the note templates, never overwriting."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

from .config import CONFIG_FILE, load_config
from .errors import UsageError, VaultsyncError
from .vault import (
    CORE_TEMPLATES,
    TEMPLATER,
    inside,
    plugin_folder,
    require_folder,
    templates_folders,
)

CONFIG_TEMPLATE = """\
# vaultsync settings. Every key is optional: remove the `#` to change a default.

# Where the generated list goes, relative to the vault.
# output = "Follow-ups.md"

# Folders whose notes are people even without `type: person` or a `person` tag.
# people_folders = ["People"]

# Folders of templates, never read as notes. Default: Obsidian's and Templater's setting,
# else "Templates".
# templates_folders = ["Templates"]

# Notes to leave out, as globs on vault-relative paths (`**` crosses folders).
# ignore = ["Archive/**", "**/drafts/*.md"]

# How many days ahead counts as "due this week".
# horizon_days = 7

# Phrases that make a task with a link to a person a report-back task.
# task_phrases = ["report back", "reported back", "follow up", "follow-up", "close the loop"]

# Draw the introductions graph (a mermaid block) in Follow-ups.md.
# graph = true

# Ticking a box in Follow-ups.md records it in the note it came from (`reported_back_to`
# on the meeting, `last_contact` on the person). false: ticks are left alone.
# record_ticks = true

# Days after a note's date by which each kind of report-back is due.
# [due_days]
# introduction = 3
# advice = 30
# explicit = 7
# task = 7

# More property names for a role, added to the built-in ones (case, `_`, `-` and spaces
# do not matter). Roles: participants, introduced_by, advice_from, report_back_to,
# report_back_by, reported_back, reported_back_to, reports_on, outcome, date, type, tags,
# categories, aliases, name, email, company, cadence, last_contact.
# [properties]
# participants = ["guests"]
# introduced_by = ["connector"]
"""


def template_files() -> list[tuple[str, bytes]]:
    """The note templates shipped with vaultsync, as (file name, bytes)."""
    packaged = resources.files("vaultsync") / "templates"
    folder = packaged if packaged.is_dir() else Path(__file__).parent.parent / "templates"
    return sorted(
        (item.name, item.read_bytes()) for item in folder.iterdir() if item.name.endswith(".md")
    )


def for_templater(template: bytes) -> bytes:
    """A template in the Templates plugin's placeholders, in Templater's commands instead."""
    return template.replace(b'"{{date:YYYY-MM-DD}}"', b'<% tp.date.now("YYYY-MM-DD") %>').replace(
        b"{{title}}", b"<% tp.file.title %>"
    )


def _check(root: Path, rel: str) -> None:
    """Raise UsageError unless `rel` can be made inside the vault: its nearest existing
    ancestor must be a folder in it (not a file, nor a symbolic link out of it)."""
    nearest = (root / rel).parent
    while not os.path.lexists(nearest):
        nearest = nearest.parent
    where = os.path.relpath(nearest, root)
    if not inside(root, nearest):
        raise UsageError(f"{where} leads out of the vault (a symbolic link?); nothing written")
    if not nearest.is_dir():
        what = "a symbolic link to nothing" if not nearest.exists() else "a file"
        raise UsageError(
            f"{where} is {what}, so {rel} cannot be made; nothing written: rename it, or "
            "set `templates_folders` in .vaultsync.toml"
        )


def _create(path: Path, data: bytes) -> bool:
    """Write `data` to a new file; False (and nothing written) when the file exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "xb") as handle:
            handle.write(data)
    except FileExistsError:
        return False
    return True


def init_vault(root: Path) -> tuple[list[str], list[str]]:
    """Add `.vaultsync.toml` and the templates; returns (created, kept) vault-relative paths."""
    require_folder(root)
    created: list[str] = []
    kept: list[str] = []
    config = load_config(root)  # a broken config is reported before anything is written
    folders = templates_folders(root, config)
    # The example shows the folders in use, so that uncommenting it changes nothing.
    shown = "# templates_folders = " + json.dumps(list(folders), ensure_ascii=False)
    text = CONFIG_TEMPLATE.replace('# templates_folders = ["Templates"]', shown)
    files = [(CONFIG_FILE, text.encode())]
    folder = folders[0]
    # Templater's folder, and not the Templates plugin's: Templater fills in only `<% %>`.
    templater = (
        config.templates_folders is None
        and plugin_folder(root, *CORE_TEMPLATES) is None
        and plugin_folder(root, *TEMPLATER) == folder
    )
    files += [
        (f"{folder}/{name}", for_templater(data) if templater else data)
        for name, data in template_files()
    ]
    for rel, _ in files:  # all of them first: a refusal half-way would leave half a setup
        _check(root, rel)
    for rel, data in files:
        try:
            (created if _create(root / rel, data) else kept).append(rel)
        except OSError as exc:
            made = f" (made so far, and kept: {', '.join(created)})" if created else ""
            raise VaultsyncError(
                f"cannot write {rel}: {exc.strerror or exc}{made}; make its folder writable "
                "and run `vaultsync init` again"
            ) from None
    return created, kept
