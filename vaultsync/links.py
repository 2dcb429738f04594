"""Links as Obsidian writes them, and how Obsidian resolves them to notes.

Parsing: `[[Target]]`, `[[Target|Shown]]`, `[[Folder/Target]]`, `[[Target#Heading]]`,
`[Shown](Folder/Target.md)` (percent-encoded, possibly relative) and bare names.
Resolution: a path resolves to that file (or to the shortest path ending with it); a bare
target by file name, then by alias. Ties prefer person notes, then the shortest path.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

WIKILINK = re.compile(r"!?\[\[([^\[\]\n]+?)\]\]")
# What Obsidian leaves when `[[` is typed in a property and nothing chosen: it names nobody.
_EMPTY_WIKILINK = re.compile(r"!?\[\[\s*\]\]")
# Linear on hostile text: link text stops at the next `[`, a destination allows one level of
# balanced parentheses (`Meeting (draft).md`) and no `(` otherwise, so nothing backtracks far.
MDLINK = re.compile(
    r"!?\[((?:\\.|[^\[\]\\\n])*)\]\(\s*(<[^<>\n]*>|(?:[^()\s<]|\([^()\s]*\))+)"
    r"(?:\s+\"[^\"\n]*\")?\s*\)"
)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# A link to one of these opens that file, where no note of the name exists: it names no
# person. Obsidian's own attachment formats, and documents people keep beside their notes.
FILE = re.compile(
    r".*\.(?:png|jpe?g|gif|bmp|svg|webp|avif|heic|tiff?|mp3|wav|m4a|ogg|flac|3gp|webm|mp4|ogv"
    r"|mov|mkv|pdf|canvas|base|docx?|xlsx?|pptx?|odt|ods|odp|csv|txt|json|zip|epub|html?)",
    re.IGNORECASE | re.DOTALL,
)


# What ends or splits a wikilink, or opens an Obsidian comment inside one.
UNSAFE_IN_WIKILINK = re.compile(r"[\[\]|#^%\\\r\n\t`]")


def fits_wikilink(target: str) -> bool:
    """Whether `[[target]]` reads back (here and in Obsidian) as exactly `target`."""
    return (
        bool(target)
        and target == target.strip()
        and not UNSAFE_IN_WIKILINK.search(target)
        and not target.lower().endswith(".md")  # `[[x.md]]` is the note `x`
    )


@dataclass(frozen=True, slots=True)
class Link:
    """A reference to a note: `target` is a path or name without `.md`, heading or alias."""

    target: str
    bare: bool = False  # written as plain text, not as a link

    def __reduce__(self) -> tuple[Callable[[str, bool], Link], tuple[str, bool]]:
        return received, (self.target, self.bare)


# The links taken in from the second reading process, each once: it sends its notes a part
# at a time, each part with its own copies (at 50,000 notes, 41,000 copies of 5,000 links).
RECEIVED: dict[tuple[str, bool], Link] = {}


def received(target: str, bare: bool) -> Link:
    """A link as unpickled: the one taken in before, if any (see `RECEIVED`)."""
    found = RECEIVED.get((target, bare))
    if found is None:
        found = RECEIVED[target, bare] = Link(target, bare)
    return found


def _strip_md(target: str) -> str:
    target = target.strip()
    if target.lower().endswith(".md"):
        target = target[:-3]
    return target.strip().lstrip("/")


def clean_target(raw: str) -> str:
    """The note a wikilink's inside names: no alias, heading or block (`\\|` is a table's `|`)."""
    return _strip_md(raw.split("|", 1)[0].replace("\\", "").split("#", 1)[0])


def url_target(url: str, source_dir: str = "") -> str | None:
    """The vault path a Markdown link's URL names, or None for a web address or a path that
    leaves the vault. The fragment is cut before decoding: `%23` is a `#` in the name."""
    url = url.strip("<>")
    if _SCHEME.match(url):
        return None
    return _in_vault(_strip_md(unquote(url.split("#", 1)[0])), source_dir)


def _in_vault(target: str, source_dir: str) -> str | None:
    """A link's target with `./` and `../` taken from the linking note's folder (Obsidian's
    "relative path" link format), or None when it leaves the vault."""
    if target.startswith(("./", "../")) or "/./" in target or "/../" in target:
        target = posixpath.normpath(posixpath.join(source_dir, target))
    if not target or target == "." or target == ".." or target.startswith("../"):
        return None
    return target


def links_in(text: str, source_dir: str = "") -> list[Link]:
    """Every wikilink and Markdown link to a note (or a file) in the vault in `text`, in order
    of appearance."""
    if "[" not in text:  # both kinds start with one
        return []
    found: list[tuple[int, Link]] = []
    for match in WIKILINK.finditer(text):
        target = _in_vault(clean_target(match.group(1)), source_dir)
        if target:
            found.append((match.start(), Link(target)))
    for match in MDLINK.finditer(text):
        path = url_target(match.group(2), source_dir)
        if path:
            found.append((match.start(), Link(path)))
    return [link for _, link in sorted(found, key=lambda pair: pair[0])]


def parse_reference(text: str, source_dir: str = "") -> list[Link]:
    """A property value naming notes: its links, or the whole text as a bare name. A value
    whose links all lead out of the vault (a web page, `../` past its root) names nothing."""
    if "[[" in text:
        text = _EMPTY_WIKILINK.sub("", text)
    found = links_in(text, source_dir)
    if found or ("[" in text and (WIKILINK.search(text) or MDLINK.search(text))):
        return found
    name = _strip_md(text.strip().strip("\"'"))  # `Bob Smith.md` names the note `Bob Smith`
    return [Link(name, bare=True)] if name else []


def composed(text: str) -> str:
    """`text` with its accents composed (NFC), as Obsidian keeps every path: macOS may store
    `é` in a file name as `e` and a combining accent, which a link must not copy."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def fold(name: str) -> str:
    """A name as links compare it: without case, and `composed`, so that a decomposed file
    name and the link typed to it meet."""
    return composed(name.lower())


def _key(path: str) -> str:
    return fold(path[:-3] if path.lower().endswith(".md") else path)


def _stem(path: str) -> str:
    """The file name a note is found by: folded, without `.md`."""
    return _key(path).rsplit("/", 1)[-1]


# A name -> the path of the one note by it, or the paths of the few that share it (a list
# for each of 50,000 names would take 3 MB).
Paths = dict[str, "str | list[str]"]


def put_path(table: Paths, name: str, path: str) -> None:
    found = table.get(name)
    if found is None:
        table[name] = path
    elif isinstance(found, str):
        table[name] = [found, path]
    else:
        found.append(path)


def drop_path(table: Paths, name: str, path: str) -> None:
    """Undo `put_path(table, name, path)`."""
    found = table.get(name)
    if found == path:
        del table[name]
    elif isinstance(found, list) and path in found:
        found.remove(path)
        if len(found) == 1:
            table[name] = found[0]


def paths_of(table: Paths, name: str) -> list[str]:
    found = table.get(name)
    return [] if found is None else [found] if isinstance(found, str) else found


@dataclass(slots=True)
class LinkIndex:
    """Finds the note a link points at; built once from all note paths and their aliases."""

    is_preferred: Callable[[str], bool] = lambda path: False
    _stems: Paths = field(default_factory=dict)  # folded file name -> paths
    _aliases: Paths = field(default_factory=dict)
    # Answers already given: a vault names the same few people in thousands of notes.
    _resolved: dict[str, tuple[str | None, list[str]]] = field(default_factory=dict)
    # For a file name many notes share (`index.md` in every folder): their folded paths, made
    # when a link by path first needs them; else each such link compared them all.
    _by_path: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def add(self, path: str, aliases: Iterable[str] = ()) -> None:
        self._resolved.clear()
        stem = _stem(path)
        put_path(self._stems, stem, path)
        self._by_path.pop(stem, None)
        for alias in aliases:
            put_path(self._aliases, fold(alias.strip()), path)

    def remove(self, path: str, aliases: Iterable[str] = ()) -> None:
        """Undo `add(path, aliases)`."""
        self._resolved.clear()
        stem = _stem(path)
        drop_path(self._stems, stem, path)
        self._by_path.pop(stem, None)
        for alias in aliases:
            drop_path(self._aliases, fold(alias.strip()), path)

    def named(self, path: str) -> list[str]:
        """The notes with the file name of `path` (without case), `path` among them."""
        return paths_of(self._stems, _stem(path))

    def resolve(self, target: str) -> tuple[str | None, list[str]]:
        """The note for `target` and the other candidates it was chosen over (for a warning)."""
        found = self._resolved.get(target)
        if found is None:
            found = self._resolved[target] = self._resolve(target)
        return found

    def _folded(self, stem: str) -> dict[str, list[str]]:
        """The notes with this folded file name, by their folded paths."""
        found = self._by_path.get(stem)
        if found is None:
            found = {}
            for path in paths_of(self._stems, stem):
                found.setdefault(_key(path), []).append(path)
            if len(found) > 1:  # kept only for a name notes share: most have one note
                self._by_path[stem] = found
        return found

    def _resolve(self, target: str) -> tuple[str | None, list[str]]:
        key = fold(target.strip())
        if not key:
            return None, []
        if "/" in key:
            by_path = self._folded(key.rsplit("/", 1)[-1])
            exact = by_path.get(key)
            if exact:  # `A.md` and `a.md` (a case-sensitive disk): the last in path order
                return max(exact), []
            suffix = "/" + key
            candidates = [p for k, paths in by_path.items() if k.endswith(suffix) for p in paths]
        else:
            candidates = paths_of(self._stems, key) or paths_of(self._aliases, key)
        if not candidates:
            return None, []
        if len(candidates) == 1:
            return candidates[0], []
        # Measured as Obsidian sees them, composed: the choice is the same on every disk.
        def rank(path: str) -> tuple[bool, int, str, str]:
            seen = composed(path)
            return not self.is_preferred(path), len(seen), seen, path

        ranked = sorted(set(candidates), key=rank)
        return ranked[0], ranked[1:]
