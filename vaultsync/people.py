"""Who is a person, and which person a reference names (SPEC §4)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from .config import Config
from .links import FILE, Link, LinkIndex, fold
from .model import Note, Person, ScanWarning

# The only `type`, `tags` and `categories` words that matter here; a note keeps no others.
PERSON_WORDS = frozenset({"person", "people", "contact"})


def is_person_note(note: Note, people_folders: tuple[str, ...]) -> bool:
    words = note.keywords
    if words and (  # most notes have no kind words: they are not looked through
        words.get("type", frozenset()) & PERSON_WORDS
        or words.get("tags", frozenset()) & PERSON_WORDS
        or "people" in words.get("categories", frozenset())
    ):
        return True
    return fold(note.path).startswith(_prefixes(people_folders))


@lru_cache(maxsize=8)
def _prefixes(people_folders: tuple[str, ...]) -> tuple[str, ...]:
    """The folders as the start of a folded path: folded once, not for every note."""
    return tuple(fold(folder) + "/" for folder in people_folders)


def names_of(note: Note) -> set[str]:
    """The names (folded) a link can reach `note` by: its file name and its aliases."""
    return {fold(note.stem), *(fold(alias.strip()) for alias in note.aliases)}


def unresolved_key(target: str) -> str:
    """The key of the person a link names when no note has that name (yet)."""
    return "?" + fold(target)


def name_of(target: str) -> str:
    """The name a link target is looked up by (the file name part of a path)."""
    return fold(target.strip()).rsplit("/", 1)[-1]


@dataclass(slots=True)
class Lookups:
    """What resolving one note's links found besides people: warnings about guesses, the
    people it names who have no person note, and every name it looked up (so that a note
    later created, renamed or given an alias with that name is known to change the answers)."""

    warnings: list[ScanWarning] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    others: dict[str, Person] = field(default_factory=dict)  # not from person notes, by key
    warned: set[str] = field(default_factory=set)


def _person_of(note: Note) -> Person:
    return Person(
        key=note.path,
        name=note.stem,
        note=note.path,
        display=note.name or note.stem,
        email=note.email,
        cadence_days=note.cadence_days,
        last_contact=note.last_contact,
    )


class Directory:
    """The vault's notes as link targets, and the people that person notes stand for; kept
    current note by note with `add` and `remove`."""

    def __init__(self, notes: Iterable[Note], config: Config) -> None:
        self.people_folders = config.people_folders
        self.notes: dict[str, Note] = {}
        self.person_notes: set[str] = set()
        self.people: dict[str, Person] = {}  # the person notes' people, by path
        self.index = LinkIndex(is_preferred=self.person_notes.__contains__)
        self._names: dict[str, str] = {}  # link target -> name_of(target), for speed
        for note in notes:
            self.add(note)

    def add(self, note: Note) -> None:
        path = note.path
        self.notes[path] = note
        self.index.add(path, note.aliases)
        if is_person_note(note, self.people_folders):
            self.person_notes.add(path)
            self.people[path] = _person_of(note)

    def remove(self, path: str) -> None:
        note = self.notes.pop(path)
        self.index.remove(path, note.aliases)
        self.person_notes.discard(path)
        self.people.pop(path, None)

    def note_for(self, link: Link, source: str, line: int, lookups: Lookups) -> str | None:
        """The path of the note `link` points at, warning once when the choice was a guess."""
        name = self._names.get(link.target)
        if name is None:
            name = self._names[link.target] = name_of(link.target)
        lookups.names.add(name)
        found, others = self.index.resolve(link.target)
        if found and others and fold(link.target) not in lookups.warned:
            lookups.warned.add(fold(link.target))
            lookups.warnings.append(
                ScanWarning(
                    source,
                    line,
                    f"`{link.target}` matches {len(others) + 1} notes; using {found} "
                    "(link by the note's path, as `[[folder/name]]`, to choose)",
                )
            )
        return found

    def people_for(
        self, link: Link, source: str, line: int, lookups: Lookups, *, persons_only: bool = False
    ) -> list[Person]:
        """The people a reference names. A property that names people may point at any
        note; a task only counts links to person notes or to notes that do not exist yet."""
        path = self.note_for(link, source, line, lookups)
        if path is not None:
            if persons_only and path not in self.person_notes:
                return []
            person = self.people.get(path)
            if person is None:  # a property may name any note: it stands for a person here
                person = lookups.others.get(path) or _person_of(self.notes[path])
                lookups.others[path] = person
            return [person]
        if FILE.fullmatch(link.target):
            return []  # a link to an attachment or a document: no person, even unresolved
        if link.bare and "," in link.target:
            # `with: Ann Lee, Bob Ray` is two people when no note is named the whole text.
            parts = [Link(part.strip(), bare=True) for part in link.target.split(",")]
            return [
                p
                for part in parts
                if part.target
                for p in self.people_for(part, source, line, lookups)
            ]
        key = unresolved_key(link.target)
        if key not in lookups.others:
            lookups.others[key] = Person(key=key, name=link.target, note=None, display=link.target)
        return [lookups.others[key]]
