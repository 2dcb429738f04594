"""Who is a person, and which person a reference names (SPEC §4)."""

from __future__ import annotations

from collections.abc import Iterable

from .config import Config
from .links import Link, LinkIndex
from .model import Note, Person, ScanWarning

PERSON_WORDS = frozenset({"person", "people", "contact"})


def is_person_note(note: Note, people_folders: Iterable[str]) -> bool:
    words = note.keywords
    if (
        words.get("type", frozenset()) & PERSON_WORDS
        or words.get("tags", frozenset()) & PERSON_WORDS
    ):
        return True
    if "people" in words.get("categories", frozenset()):
        return True
    lowered = note.path.lower()
    return any(lowered.startswith(folder.lower() + "/") for folder in people_folders)


class Directory:
    """The vault's notes as link targets, and the people they stand for."""

    def __init__(self, notes: Iterable[Note], config: Config) -> None:
        self.notes = {note.path: note for note in notes}
        self.person_notes = {
            path for path, note in self.notes.items() if is_person_note(note, config.people_folders)
        }
        self.index = LinkIndex(is_preferred=self.person_notes.__contains__)
        for path in sorted(self.notes):
            self.index.add(path, self.notes[path].aliases)
        self.people: dict[str, Person] = {}
        for path in sorted(self.person_notes):
            self._note_person(path)
        self.warnings: list[ScanWarning] = []
        self._warned: set[tuple[str, str]] = set()

    def _note_person(self, path: str) -> Person:
        person = self.people.get(path)
        if person is None:
            note = self.notes[path]
            person = Person(
                key=path,
                name=note.stem,
                note=path,
                display=note.name or note.stem,
                email=note.email,
                cadence_days=note.cadence_days,
                last_contact=note.last_contact,
            )
            self.people[path] = person
        return person

    def note_for(self, link: Link, source: str, line: int) -> str | None:
        """The path of the note `link` points at, warning once when the choice was a guess."""
        found, others = self.index.resolve(link.target)
        if found and others and (source, link.target.lower()) not in self._warned:
            self._warned.add((source, link.target.lower()))
            self.warnings.append(
                ScanWarning(
                    source,
                    line,
                    f"`{link.target}` matches {len(others) + 1} notes; using {found} "
                    "(write the folder in the link to choose)",
                )
            )
        return found

    def people_for(
        self, link: Link, source: str, line: int, *, persons_only: bool = False
    ) -> list[Person]:
        """The people a reference names. A property that names people may point at any
        note; a task only counts links to person notes or to notes that do not exist yet."""
        path = self.note_for(link, source, line)
        if path is not None:
            if persons_only and path not in self.person_notes:
                return []
            return [self._note_person(path)]
        if link.bare and "," in link.target:
            # `with: Ann Lee, Bob Ray` is two people when no note is named the whole text.
            parts = [Link(part.strip(), bare=True) for part in link.target.split(",")]
            return [p for part in parts if part.target for p in self.people_for(part, source, line)]
        key = "?" + link.target.lower()
        if key not in self.people:
            self.people[key] = Person(key=key, name=link.target, note=None, display=link.target)
        return [self.people[key]]
