"""Which files of a vault are notes (SPEC §2): discovery, with every skip rule.

`skip_reason` is a pure function of a vault-relative path, so that the watcher can apply the
very same rule to a single event that a full scan applies to the whole tree.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .config import Config, subfolder
from .errors import UsageError
from .links import fold
from .model import ScanWarning

UNLISTED = "cannot list this folder"  # how a discovery warning begins for such a folder
_CONFLICT = re.compile(
    r"( \(conflict .*\)| \(conflicted copy .*\)|conflicted copy|\.sync-conflict-)",
    re.IGNORECASE,
)


def is_conflict_copy(name: str) -> bool:
    """Sync clients' copies of a note edited on two machines (Syncthing, Dropbox, Obsidian)."""
    return bool(_CONFLICT.search(name[:-3] if name.lower().endswith(".md") else name))


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A gitignore-like glob: `*` stays within a folder, `**` crosses folders; a pattern
    that matches a folder matches everything in it."""
    out = []
    i = 0
    pattern = pattern.strip().lstrip("/")
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    anchored = "" if "/" in pattern.rstrip("/") else "(?:.*/)?"
    return re.compile(anchored + "".join(out).rstrip("/") + "(?:/.*)?", re.IGNORECASE | re.DOTALL)


def require_folder(root: Path) -> None:
    """Raise UsageError unless `root` is a folder (the vault every command is given)."""
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder: give the path of your vault")


def inside(root: Path, path: Path) -> bool:
    """Whether `path`, symbolic links resolved, is `root` or lies within it."""
    real_root = os.path.realpath(root)
    return os.path.commonpath([real_root, os.path.realpath(path)]) == real_root


# Where Obsidian's Templates plugin and the Templater plugin keep their folder's name.
CORE_TEMPLATES = (".obsidian/templates.json", "folder")
TEMPLATER = (".obsidian/plugins/templater-obsidian/data.json", "templates_folder")


def templates_folders(root: Path, config: Config) -> tuple[str, ...]:
    """The configured templates folders, else Obsidian's and Templater's, else `Templates`."""
    if config.templates_folders is not None:
        return config.templates_folders
    found = [plugin_folder(root, *plugin) for plugin in (CORE_TEMPLATES, TEMPLATER)]
    return tuple(dict.fromkeys(f for f in found if f is not None)) or ("Templates",)


def plugin_folder(root: Path, settings: str, key: str) -> str | None:
    """The templates folder a plugin's settings name, if they name one inside the vault."""
    try:
        value = json.loads((root / settings).read_text("utf-8")).get(key)
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(value, str):
        return None
    return subfolder(value.strip("/ "))  # Obsidian's paths start at the vault: `/Templates`


def ignore_regex(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern that fully matches what any of `patterns` fully matches."""
    if not patterns:
        return None
    either = "|".join(f"(?:{glob_regex(fold(pattern)).pattern})" for pattern in patterns)
    return re.compile(either, re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Layout:
    """What discovery needs to know about a vault, fixed for one configuration."""

    output: str
    templates: tuple[str, ...]
    ignore: tuple[str, ...]
    # The same, prepared once (the rules run for every file of the vault), and folded: a path
    # matches them without case and however its accents are stored (`links.fold`).
    _output: str = field(init=False, repr=False, compare=False)
    _templates: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _ignored: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_output", fold(self.output))
        object.__setattr__(self, "_templates", tuple(fold(f) + "/" for f in self.templates))
        object.__setattr__(self, "_ignored", ignore_regex(self.ignore))

    @classmethod
    def of(cls, root: Path, config: Config) -> Layout:
        return cls(config.output, templates_folders(root, config), config.ignore)

    def skips_folder(self, rel: str) -> bool:
        """Whether nothing inside the folder at vault-relative `rel` is read."""
        if _hidden(rel):
            return True
        folded = fold(rel)
        return (folded + "/").startswith(self._templates) or (
            # `Archive/**` names the folder's contents: "Archive/" stands for all of them.
            self._ignored is not None
            and bool(self._ignored.fullmatch(folded) or self._ignored.fullmatch(folded + "/"))
        )

    def skip_reason(self, rel: str) -> str | None:
        """Why the file at vault-relative `rel` is not read as a note (None: it is read)."""
        if _hidden(rel):
            return "hidden"
        folded = fold(rel)
        if not folded.endswith(".md"):
            return "not markdown"
        if not is_utf8(rel):
            return "not utf-8"
        if folded == self._output:
            return "output"
        if folded.startswith(self._templates):
            return "template"
        if self._ignored is not None and self._ignored.fullmatch(folded):
            return "ignored"
        if is_conflict_copy(rel.rsplit("/", 1)[-1]):
            return "conflict"
        return None


def _hidden(rel: str) -> bool:
    return rel.startswith(".") or "/." in rel


def is_utf8(name: str) -> bool:
    """Whether a name read from the disk was UTF-8 there (else it holds surrogate escapes: a
    file copied from an old archive, say, which Obsidian cannot open either)."""
    return name.isascii() or not any("\udc80" <= char <= "\udcff" for char in name)


def shown(name: str) -> str:
    """A name as a message can print it: bytes that are not UTF-8 as `\\xe9`."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def discover(root: Path, layout: Layout) -> tuple[list[str], list[ScanWarning]]:
    """The vault-relative paths of every note, sorted, and warnings for what was passed over.

    Symbolic links are never followed: a linked note inside the vault is read at its real
    place, and one pointing outside the vault is not read at all.
    """
    notes: list[str] = []
    warnings: list[ScanWarning] = []
    real_root = os.path.realpath(root)
    stack = [""]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(os.path.join(root, folder)))
        except OSError as exc:
            warnings.append(
                ScanWarning(folder or ".", 0, f"{UNLISTED}: {exc.strerror}")
            )
            continue
        for entry in entries:
            rel = f"{folder}/{entry.name}" if folder else entry.name
            if entry.name.startswith("."):
                continue
            try:
                if not is_utf8(entry.name):
                    if entry.name.lower().endswith(".md") or entry.is_dir(follow_symlinks=False):
                        warnings.append(
                            ScanWarning(
                                shown(rel),
                                0,
                                "the name is not UTF-8, so it is not read (Obsidian cannot open "
                                "it either): rename it",
                            )
                        )
                    continue
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    within = os.path.commonpath([real_root, target]) == real_root
                    if not within and (rel.lower().endswith(".md") or os.path.isdir(entry.path)):
                        warnings.append(
                            ScanWarning(rel, 0, "symbolic link out of the vault; not followed")
                        )
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if not layout.skips_folder(rel):
                        stack.append(rel)
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue  # a FIFO or socket named `.md` would block the read forever
            except (OSError, ValueError):
                warnings.append(ScanWarning(rel, 0, "cannot read this entry; skipped"))
                continue
            reason = layout.skip_reason(rel)
            if reason is None:
                notes.append(rel)
            elif reason == "conflict":
                warnings.append(
                    ScanWarning(
                        rel,
                        0,
                        "sync conflict copy; not counted (merge it into the original)",
                    )
                )
    notes.sort()
    return notes, warnings
