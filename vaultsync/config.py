"""`.vaultsync.toml`: every key optional; every problem in it reported at once."""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .properties import normalize_name

CONFIG_FILE = ".vaultsync.toml"

# The property names that play each role (SPEC §4-§6), already normalised; `[properties]`
# in the config adds more names to a role, it never removes these.
ROLES: dict[str, tuple[str, ...]] = {
    "participants": ("people", "attendees", "participants", "with"),
    "introduced_by": ("introduced_by", "intro_by", "introducer", "met_through"),
    "advice_from": ("advice_from", "advised_by", "helped_by", "feedback_from", "referred_by"),
    "report_back_to": ("report_back_to",),
    "report_back_by": ("report_back_by",),
    "reported_back": ("reported_back",),
    "reported_back_to": ("reported_back_to",),
    "reports_on": ("reports_on", "report_back_for", "follow_up_of"),
    "outcome": ("outcome",),
    "date": ("date",),
    "type": ("type", "kind"),
    "tags": ("tags", "tag"),
    "categories": ("categories",),
    "aliases": ("aliases", "alias"),
    "name": ("name",),
    "email": ("email",),
    "company": ("company", "org", "organization"),
    "cadence": ("keep_in_touch", "contact_frequency", "cadence"),
    "last_contact": ("last_contact", "last_contacted", "last_interaction", "date_last_spoken"),
}

DEFAULT_DUE_DAYS = {"introduction": 3, "advice": 30, "explicit": 7, "task": 7}
DEFAULT_PHRASES = ("report back", "reported back", "follow up", "follow-up", "close the loop")
# Between a phrase's words: spaces of any kind (a non-breaking one from pasted mail too),
# hyphens and dashes (non-breaking ones too), or none: "report-back to", "followup".
PHRASE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")


@dataclass(frozen=True, slots=True)
class Config:
    output: str = "Follow-ups.md"
    people_folders: tuple[str, ...] = ("People",)
    # None: read from Obsidian's Templates and Templater settings, else `Templates`.
    templates_folders: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    due_days: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DUE_DAYS))
    horizon_days: int = 7
    task_phrases: tuple[str, ...] = DEFAULT_PHRASES
    properties: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(ROLES))
    graph: bool = True
    # A ticked box in the output is recorded in its note (`reported_back_to`, `last_contact`).
    record_ticks: bool = True

    def role_of(self) -> dict[str, str]:
        """Each property name (normalised) to the role it plays."""
        return {name: role for role, names in self.properties.items() for name in names}

    def fingerprint(self) -> str:
        """Text that changes whenever anything that affects how a note is read changes."""
        return repr(tuple(getattr(self, f.name) for f in fields(self)))


def vault_folder(value: str) -> str:
    """A folder as written (`\\` or `/`, `./`, a trailing `/`) as a vault-relative path."""
    return posixpath.normpath(value.replace("\\", "/")).strip("/")


def leaves_vault(folder: str) -> bool:
    """Whether a folder as written names a place outside the vault."""
    clean = vault_folder(folder)
    return clean.startswith("..") or posixpath.isabs(folder) or ":" in folder


def subfolder(folder: str) -> str | None:
    """A folder as written as a vault-relative path, if it names one inside the vault: not
    a place outside it, nor the vault itself."""
    clean = vault_folder(folder)
    return None if clean == "." or leaves_vault(folder) else clean


def _string_list(data: dict[str, Any], key: str, problems: list[str]) -> tuple[str, ...] | None:
    value = data.pop(key, None)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"`{key}` must be a list of non-empty strings")
        return None
    return tuple(value)


def _toml(value: object) -> str:
    """A value as it is written in the file (`true`, `"7"`), not as Python shows it."""
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bool, str, int, float, list)):
        return json.dumps(value, ensure_ascii=False, default=_toml)
    return repr(value)


def _positive_int(value: Any, key: str, problems: list[str]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
        problems.append(
            f"`{key}` must be a whole number of days from 0 to 3650, not {_toml(value)}"
        )
        return None
    return value


def parse_config(data: dict[str, Any]) -> tuple[Config, list[str]]:
    """A Config from parsed TOML, with a list of every problem found (empty when all is well)."""
    data = dict(data)
    problems: list[str] = []
    kwargs: dict[str, Any] = {}

    output = data.pop("output", None)
    if output is not None:
        clean = vault_folder(output) if isinstance(output, str) else ""
        if not clean or leaves_vault(output) or not clean.endswith(".md"):
            problems.append(
                f"`output` must be a path to a .md file inside the vault, not {_toml(output)}"
            )
        else:
            kwargs["output"] = clean

    for key in ("people_folders", "templates_folders", "ignore"):
        value = _string_list(data, key, problems)
        if value is None:
            continue
        if key == "ignore":  # globs, not folders
            kwargs[key] = value
            continue
        folders = [subfolder(v) for v in value]
        if None in folders:
            # Nor the vault itself: `init` would put the templates among the notes.
            bad = value[folders.index(None)]
            shown = _toml(bad) if leaves_vault(bad) else f"the vault itself ({_toml(bad)})"
            problems.append(f"`{key}` must name folders inside the vault, not {shown}")
        else:
            kwargs[key] = tuple(f for f in folders if f is not None)

    phrases = _string_list(data, "task_phrases", problems)
    wordless = [p for p in phrases or () if not PHRASE_SEPARATORS.sub("", p)]
    if wordless:  # it would match between any two letters
        problems.append(f"`task_phrases` must hold words, not {_toml(wordless[0])}")
    elif phrases is not None:
        kwargs["task_phrases"] = tuple(p.strip() for p in phrases)

    horizon = data.pop("horizon_days", None)
    if horizon is not None and _positive_int(horizon, "horizon_days", problems) is not None:
        kwargs["horizon_days"] = horizon

    for flag in ("graph", "record_ticks"):
        value = data.pop(flag, None)
        if value is not None:
            if isinstance(value, bool):
                kwargs[flag] = value
            else:
                problems.append(f"`{flag}` must be true or false, not {_toml(value)}")

    due = data.pop("due_days", None)
    if due is not None:
        if not isinstance(due, dict):
            problems.append("`due_days` must be a table such as `[due_days]`")
        else:
            merged = dict(DEFAULT_DUE_DAYS)
            for rule, days in due.items():
                if rule not in DEFAULT_DUE_DAYS:
                    problems.append(
                        f"unknown key `due_days.{rule}` (known: {', '.join(DEFAULT_DUE_DAYS)})"
                    )
                elif _positive_int(days, f"due_days.{rule}", problems) is not None:
                    merged[rule] = days
            kwargs["due_days"] = merged

    extra = data.pop("properties", None)
    if extra is not None:
        if not isinstance(extra, dict):
            problems.append("`properties` must be a table such as `[properties]`")
        else:
            roles = {role: list(names) for role, names in ROLES.items()}
            owner = {name: role for role, names in ROLES.items() for name in names}
            for role, names in extra.items():
                if role not in ROLES:
                    problems.append(f"unknown key `properties.{role}` (known: {', '.join(ROLES)})")
                    continue
                key = f"properties.{role}"
                listed = _string_list({key: names}, key, problems)
                for name in listed or ():
                    # A name plays one role: which one would otherwise depend on the order.
                    taken = owner.setdefault(normalize_name(name), role)
                    if taken != role:
                        problems.append(
                            f"`properties.{role}`: {_toml(name)} already names {taken}; a property "
                            "name can play one role only"
                        )
                    elif normalize_name(name) not in roles[role]:
                        roles[role].append(normalize_name(name))
            kwargs["properties"] = {role: tuple(names) for role, names in roles.items()}

    known = ", ".join(f.name for f in fields(Config))
    for key in data:
        problems.append(f"unknown key `{key}` (known: {known})")
    return Config(**kwargs), problems


def load_config(vault: Path) -> Config:
    """The vault's configuration; defaults when it has no `.vaultsync.toml`."""
    path = vault / CONFIG_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read it: {exc.strerror}"]) from None
    # Imported only for a vault that has the file: most have none, and every scan starts
    # 2-3 ms sooner without it.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
    config, problems = parse_config(data)
    if problems:
        raise ConfigError(str(path), problems)
    return config
