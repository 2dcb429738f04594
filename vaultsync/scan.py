"""The pipeline, end to end: discover → read → compute → render → write.

`Vault` keeps every note it has read, so that a caller that knows which files changed (the
watcher) can re-read just those and recompute; `scan` is the one-shot use of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .config import Config, load_config
from .errors import UsageError
from .followups import compute
from .model import Note, Report, ScanWarning
from .notes import NoteReader
from .output import read_text, splice, write_atomic
from .render import render_block
from .vault import Layout, discover

Progress = Callable[[int, int], None]  # (notes read, notes found)


@dataclass(slots=True)
class ScanResult:
    report: Report
    output: Path
    text: str  # the whole output file as it is (or would be) after this scan
    changed: bool  # the file differs (or differed, before writing) from `text`


class Vault:
    """A vault's notes as last read, with the configuration they were read under."""

    def __init__(self, root: Path, config: Config | None = None) -> None:
        if not root.is_dir():
            raise UsageError(f"{root} is not a folder: give the path of your vault")
        self.root = root
        self.config = config if config is not None else load_config(root)
        self.layout = Layout.of(root, self.config)
        self.reader = NoteReader(self.config)
        self.notes: dict[str, Note] = {}
        self.discovery_warnings: list[ScanWarning] = []

    @property
    def output(self) -> Path:
        return self.root / self.config.output

    def load(self, progress: Progress | None = None) -> None:
        """Read every note from scratch."""
        paths, self.discovery_warnings = discover(self.root, self.layout)
        self.notes = {}
        for count, rel in enumerate(paths, 1):
            self.notes[rel] = self.reader.read(self.root, rel)
            if progress is not None:
                progress(count, len(paths))

    def refresh(self, paths: Iterable[str]) -> None:
        """Read these vault-relative paths again: changed, created or deleted notes."""
        for rel in paths:
            if self.layout.skip_reason(rel) is None and (self.root / rel).is_file():
                self.notes[rel] = self.reader.read(self.root, rel)
            else:
                self.notes.pop(rel, None)

    def report(self, today: dt.date) -> Report:
        report = compute(self.notes.values(), self.config, today)
        if self.discovery_warnings:
            report.warnings = sorted(
                set(report.warnings) | set(self.discovery_warnings),
                key=lambda w: (w.path, w.line, w.message),
            )
        return report

    def render(self, report: Report) -> tuple[str, bool]:
        """The output file's new text, and whether it differs from what is on disk."""
        existing = read_text(self.output)
        text = splice(existing, render_block(report, self.config.graph), self.config.output)
        return text, text != existing

    def write(self, today: dt.date, *, dry_run: bool = False) -> ScanResult:
        report = self.report(today)
        text, changed = self.render(report)
        if changed and not dry_run:
            write_atomic(self.output, text)
        return ScanResult(report, self.output, text, changed)


def scan(
    root: Path, today: dt.date, *, dry_run: bool = False, progress: Progress | None = None
) -> ScanResult:
    """Scan the vault at `root` and bring its Follow-ups.md up to date (unless `dry_run`)."""
    vault = Vault(root)
    vault.load(progress)
    return vault.write(today, dry_run=dry_run)
