"""Ticked boxes in Follow-ups.md, recorded in the notes they came from.

Every generated task line ends with its item's block id (`^vs-…`). A line ticked `[x]` is
recorded as a report-back made today (`reported_back_to: "[[Person]] YYYY-MM-DD"` in the
source note) or, for a reconnect, as today's contact (`last_contact` in the person note);
`[-]` is recorded as `"[[Person]] won't"`, closed without a date. Then the block is
regenerated and the item is closed. A tick that cannot be recorded stays ticked (the line is
rendered ticked again) with a warning, so the user's answer is never lost.

`done` is the command-line twin of a tick, for people who do not use Obsidian.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import RecordError, UsageError
from .followups import item_id
from .links import LinkIndex, fold, parse_reference
from .model import FollowUp, Person, Report, ScanWarning
from .output import block_span, splice
from .people import unresolved_key
from .record import (
    LAST_CONTACT,
    REPORTED_BACK_TO,
    add_reported_back_to,
    entry_text,
    record_file,
    reference,
    set_last_contact,
)
from .render import task_line
from .tasks import done_on

if TYPE_CHECKING:
    from .scan import ScanResult, Vault

DONE, WONT = "x", "-"
# In every ticked line; searched for first, as most files have none (no anchor: anchored to
# line starts, the search takes seven times as long on a file of 4 MB).
_ANY_MARK = re.compile(rb"\[[xX-]\][ \t]")
# The id may be followed by more: the Tasks plugin, or the user, may add a ✅ date after it.
# An id after a backslash is not it: it is in a name, which is written with `^` escaped.
_TICKED = re.compile(r"[ \t]*[-*+][ \t]+\[([xX-])\][ \t].*?(?<!\\)\^(vs-[0-9a-f]{10})(?:[ \t].*)?")


@dataclass(frozen=True, slots=True)
class Tick:
    id: str  # the block id, `vs-…`
    mark: str  # DONE or WONT
    line: int  # 1-based, in the output file as read
    text: str  # the line as read, without its line break

    def day(self, today: dt.date, f: FollowUp) -> dt.date:
        """The day it was ticked: the ✅ date the Tasks plugin writes (a box ticked on a phone
        may be synced days later), else today; never later than today. Looked for only in
        what was added to the line written for `f`: a name in it may hold a ✅ date too."""
        ticked, written = (line.split("] ", 1)[-1] for line in (self.text, task_line(f)))
        pairs = zip(ticked, written, strict=False)
        same = next((at for at, (a, b) in enumerate(pairs) if a != b), len(written))
        done = done_on(ticked[same:])
        return done if done is not None and done <= today else today


def find_ticks(data: bytes | None) -> list[Tick]:
    """The generated task lines ticked `[x]`, `[X]` or `[-]`, one per id, in file order, in
    the output file's bytes.

    Only between one pair of markers: with none, or with broken ones, the file will not be
    rewritten, so a tick recorded now would be recorded again at every scan.
    """
    if not data or not _ANY_MARK.search(data):
        return []  # the usual case, found without reading a file of thousands of lines
    span = block_span(data)
    if span is None:
        return []
    (_, inside), (after, _) = span
    first = data.count(b"\n", 0, inside) + 1  # the line number of the block's first line
    found: dict[str, Tick] = {}
    text = data[inside:after].decode("utf-8", "surrogateescape")
    for number, line in enumerate(text.split("\n"), first):
        line = line.rstrip("\r")
        match = _TICKED.fullmatch(line)
        if match and match.group(2) not in found:
            mark = WONT if match.group(1) == "-" else DONE
            found[match.group(2)] = Tick(match.group(2), mark, number, line)
    return list(found.values())


def describe(f: FollowUp) -> str:
    if f.kind == "reconnect":
        return f"Reconnect with {f.person.name}"
    source = (f.source or "").rsplit("/", 1)[-1][:-3]
    return f"Report back to {f.person.name} on {source}"


def person_reference(person: Person, index: LinkIndex) -> str:
    """The person as a link that resolves to them: `[[Name]]` when no other note has that
    file name, else `[[Folder/Name]]`; an unresolved person as the name the notes use."""
    if person.note is None:
        return reference(person.name)
    alone = len(index.named(person.note)) == 1
    return reference(person.name if alone else person.note[:-3])


def record(vault: Vault, f: FollowUp, mark: str, today: dt.date) -> str:
    """Write one ticked follow-up into its note; the note's vault-relative path.

    Raises RecordError when the note cannot be edited safely (gone, unreadable, broken
    front matter, changed under us more than a few times in a row).
    """
    roles = vault.config.properties
    if f.kind == "reconnect":
        if mark == WONT:
            raise RecordError(
                "a reconnect cannot be marked `[-]`, only a contact can be recorded: tick it "
                "`[x]` once you are in touch, or remove `keep_in_touch` from the person note"
            )
        rel = f.person.note
        if rel is None:
            raise RecordError("this person has no note to record the contact in")
        names = roles.get("last_contact", (LAST_CONTACT,))
        edit = partial(set_last_contact, on=today, names=names)
    else:
        assert f.source is not None
        rel = f.source
        who = person_reference(f.person, vault.link_index())
        entry = entry_text(who, None if mark == WONT else today)
        names = roles.get("reported_back_to", (REPORTED_BACK_TO,))
        edit = partial(add_reported_back_to, entry=entry, names=names)
    record_file(vault.root / rel, edit)
    return rel


@dataclass(slots=True)
class TickOutcome:
    """What became of the ticks of one scan."""

    keep: dict[str, str] = field(default_factory=dict)  # id -> mark its line keeps
    orphans: list[str] = field(default_factory=list)  # ticked lines whose item is gone
    warnings: list[ScanWarning] = field(default_factory=list)
    recorded: dict[str, tuple[str, Tick, FollowUp]] = field(default_factory=dict)  # by id
    pending: int = 0  # ticks a dry run would have recorded

    @property
    def notes(self) -> list[str]:
        """The notes edited, to be read again."""
        return sorted({rel for rel, _, _ in self.recorded.values()})

    def settle(self, report: Report) -> None:
        """After the notes are read again: a recorded item still open keeps its tick (and
        says why), rather than lose the user's answer in silence."""
        # A reconnect comes back, due a cadence later: one still due as before failed, unless
        # its person was in touch that day already (a cadence within the week lists it even
        # then). Kept ticked, it would be recorded again on a later day, as a contact then.
        still_open = {f.id: f.due for f in report.followups}
        last_contact = {row.person.key: row.last_contact for row in report.people}
        for ident, (rel, tick, f) in self.recorded.items():
            last = last_contact.get(f.person.key)
            if f.kind == "reconnect" and last is not None and last >= tick.day(report.today, f):
                continue
            if ident in still_open and still_open[ident] == f.due:
                self.keep[ident] = tick.mark
                self.warnings.append(
                    ScanWarning(
                        rel,
                        0,
                        f"the tick on “{describe(f)}” was written into this note, but vaultsync "
                        "still reads the item as open (does the link resolve to the person?); "
                        "it stays ticked",
                    )
                )


def _former_ids(report: Report) -> dict[str, FollowUp]:
    """The report-backs by the ids they had while their person had no note: a link clicked
    in Obsidian creates the note, and a box ticked before that must still find its item."""
    former = {}
    for f in [*report.followups, *report.closed]:
        if f.kind == "report-back" and f.person.note is not None and f.source is not None:
            for name in (f.person.name, f.person.note[:-3]):
                former[item_id(f.source, unresolved_key(name))] = f
    return former


def apply_ticks(
    vault: Vault, report: Report, ticks: list[Tick], today: dt.date, *, dry_run: bool = False
) -> TickOutcome:
    """Record each tick on an open item of `report` in its note (unless `dry_run`, or
    `record_ticks` is off).

    A tick on an item closed meanwhile (by hand, or by this tick on another machine) goes
    with its line, as does one on a reconnect that is no longer due; a tick on an item that
    is gone altogether (its note renamed or deleted before the tick was recorded) is kept
    as it was written, with a warning, since it may be the only record of the answer.
    """
    out = TickOutcome()
    open_items = {f.id: f for f in report.followups}
    settled = {f.id for f in report.closed}
    settled |= {item_id("reconnect", row.person.key) for row in report.people}
    output = vault.config.output
    former: dict[str, FollowUp] | None = None
    for tick in ticks:
        f = open_items.get(tick.id)
        if f is None and tick.id not in settled:
            if former is None:
                former = _former_ids(report)
            f = former.get(tick.id)
            if f is not None and f.status == "closed":
                continue  # closed meanwhile: the tick goes with its line
        if f is None:
            if tick.id not in settled:
                out.orphans.append(tick.text)
                out.warnings.append(
                    ScanWarning(
                        output,
                        tick.line,
                        f"a box is ticked (^{tick.id}) for an item vaultsync no longer finds: "
                        "was its note renamed or deleted, or the person taken out of it? Record "
                        "it in the note by hand if it still matters, then delete the line",
                    )
                )
            continue
        if not vault.config.record_ticks:
            out.keep[f.id] = tick.mark
            out.warnings.append(
                ScanWarning(
                    output,
                    tick.line,
                    f"“{describe(f)}” is ticked, but `record_ticks = false` in .vaultsync.toml, "
                    "so vaultsync leaves it alone: record it in the note by hand, or turn "
                    "`record_ticks` on",
                )
            )
            continue
        if f.kind == "reconnect" and tick.mark == WONT:
            out.keep[f.id] = tick.mark
            out.warnings.append(
                ScanWarning(
                    output,
                    tick.line,
                    f"“{describe(f)}” is marked `[-]`, but only a contact can be recorded for a "
                    f"reconnect: tick it `[x]` once you are in touch, or remove `keep_in_touch` "
                    f"from {f.person.note or f.person.name} to stop these reminders",
                )
            )
            continue
        if dry_run:
            out.keep[f.id] = tick.mark
            out.pending += 1
            continue
        try:
            rel = record(vault, f, tick.mark, tick.day(today, f))
        except RecordError as exc:
            out.keep[f.id] = tick.mark
            target = f.source if f.kind != "reconnect" else f.person.note
            out.warnings.append(
                ScanWarning(
                    target or output,
                    0,
                    f"the tick on “{describe(f)}” in {output} is not recorded in this note: "
                    f"{exc}; the box stays ticked and is tried again at the next scan",
                )
            )
            continue
        out.recorded[f.id] = (rel, tick, f)
    return out


# -- the command line's twin -----------------------------------------------------------------


@dataclass(slots=True)
class DoneResult:
    followup: FollowUp
    note: str | None  # the note written, None when the item was already closed
    scan: ScanResult | None


def _strip_link(text: str) -> str:
    """`[[Sam Rivera|Sam]]`, `Sam Rivera` or a path, as the target it names."""
    found = parse_reference(text)
    return found[0].target if found else ""


def _source_name(wanted: str, root: Path) -> str:
    """What `--source` names, folded and without `.md`: a vault-relative path, a file name,
    or a path to the file from the current folder."""
    name = _strip_link(wanted).replace("\\", "/")
    on_disk = Path(wanted)
    if on_disk.is_file():
        with contextlib.suppress(ValueError):  # a file outside the vault is no source
            name = on_disk.resolve().relative_to(root.resolve()).as_posix()
    return fold(name[:-3] if name.lower().endswith(".md") else name)


def matching(items: list[FollowUp], query: str, source: str | None = None) -> list[FollowUp]:
    """The items that `query` (an id, `^id`, or a person's name) and `source` (as
    `_source_name` gives it) name."""

    def names(p: Person) -> tuple[str, ...]:
        return (fold(p.name), fold(p.display)) + ((fold(p.note[:-3]),) if p.note else ())

    def from_source(f: FollowUp) -> bool:
        stem = (f.source or "")[:-3]
        return f.source is not None and source in (fold(stem), fold(stem.rsplit("/", 1)[-1]))

    wanted = query.strip().lstrip("^")
    found = [f for f in items if f.id == wanted]
    if not found:
        name = fold(_strip_link(query))
        if not name:
            return []  # an empty name (a script's unset variable) must match nothing
        found = [f for f in items if name in names(f.person)]
    # An id with another note's name beside it is a mistake, not an answer to carry out.
    return found if source is None else [f for f in found if from_source(f)]


def done(
    root: Path,
    query: str,
    today: dt.date,
    *,
    source: str | None = None,
    wont: bool = False,
) -> DoneResult:
    """Record the open item that `query` names as reported back today (or `wont`), then
    bring Follow-ups.md up to date, as ticking its box would. Raises UsageError when no
    item or several match, RecordError when its note cannot be edited."""
    from .scan import Vault

    vault = Vault(root)
    output = vault.output
    # Else, run from the wrong folder, it would edit a note of any copy of a vault below it.
    if vault.existing(output) is None:
        raise UsageError(
            f"{root} holds no {vault.config.output}, so it is not a vault you scanned: run "
            "`vaultsync done` in your vault or give `--vault PATH` (after `vaultsync scan`)"
        )
    vault.load()
    report = vault.report(today)
    wanted = None if source is None else _source_name(source, root)
    found = matching(report.followups, query, wanted)
    if not found:
        closed = matching(report.closed, query, wanted)
        if len(closed) == 1:
            return DoneResult(closed[0], None, None)
        where = f" from {source}" if source else ""
        raise UsageError(
            f"no open follow-up matches {query!r}{where}: give an id (`^vs-…` at the end of "
            "its line in Follow-ups.md) or a person's name as in their note's file name"
        )
    if len(found) > 1:
        listed = "\n".join(
            f"  {f.id}  {describe(f)}" + (f" (due {f.due.isoformat()})" if f.due else "")
            for f in found
        )
        raise UsageError(
            f"{query!r} matches {len(found)} open follow-ups:\n{listed}\n"
            "say which with `--source NOTE`, or give its id"
        )
    f = found[0]
    if wont and f.kind == "reconnect":
        raise UsageError(
            "`--wont` is for report-backs; a reconnect is closed by a contact: run it without "
            "`--wont` once you are in touch, or remove `keep_in_touch` from the person note"
        )
    # Refused before the note is touched, not after: the user must not be told that nothing
    # happened while the note was edited.
    splice(vault.existing(output), b"", vault.config.output)
    try:
        rel = record(vault, f, WONT if wont else DONE, today)
    except RecordError as exc:
        target = f.source if f.kind != "reconnect" else f.person.note
        raise RecordError(f"cannot record it in {target}: {exc}" if target else str(exc)) from None
    vault.refresh([rel])
    return DoneResult(f, rel, vault.write(today))
