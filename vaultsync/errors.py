"""The exceptions vaultsync raises for problems a user can fix; each maps to an exit code."""

from __future__ import annotations


class VaultsyncError(Exception):
    """Base of every error meant for the user; `exit_code` is what the CLI returns."""

    exit_code = 2


class UsageError(VaultsyncError):
    """The command line names something that cannot work (no such vault, bad date)."""


class ConfigError(VaultsyncError):
    """`.vaultsync.toml` has one or more problems; all of them are listed at once."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class VaultGone(VaultsyncError):
    """The vault's folder was moved or deleted while vaultsync ran: nothing is written, or an
    empty folder holding only the output would appear at its old path."""


class RefusedWrite(VaultsyncError):
    """The output file holds content vaultsync does not own, so it is left alone."""

    exit_code = 3


class RecordError(RefusedWrite):
    """A note could not be edited safely (to record a tick); the message says why and what
    to do."""
