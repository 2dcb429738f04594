"""`vaultsync service`: run `vaultsync watch` in the background, as a systemd user unit on Linux
or a launchd agent on macOS, for one vault.

Everything here is pure but `find_executable`, `install_service` and the look at a definition
already installed under the name a vault would take; the home folder and the executable are
parameters, so that tests write into a temporary home.
"""

from __future__ import annotations

import hashlib
import os
import plistlib
import re
import shutil
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import RefusedWrite, UsageError
from .output import write_atomic
from .vault import require_folder


@dataclass(frozen=True, slots=True)
class Service:
    path: Path  # where the definition goes
    text: str
    commands: tuple[str, ...]  # enable and start it, check it, read its log


def slug(vault: Path, *, unique: bool = False) -> str:
    """A name for the service from the vault folder's name: `Work Notes` gives `work-notes`;
    `unique`, with a digest of the vault's path, when another vault of that name has one."""
    ascii_name = unicodedata.normalize("NFKD", vault.name).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-")
    digest = hashlib.sha1(str(vault).encode("utf-8", "surrogateescape")).hexdigest()
    if not name:
        return "vault-" + digest[:8]
    return f"{name}-{digest[:8]}" if unique else name


def watched_by(definition: Path) -> str | None:
    """The vault a service definition runs `vaultsync watch` for, as `vaultsync service` writes
    it; None when there is none, or it says something else."""
    try:
        data = definition.read_bytes()
    except OSError:
        return None
    if definition.suffix == ".plist":
        try:
            args = plistlib.loads(data).get("ProgramArguments", [])
        except Exception:  # not a plist: edited by hand
            return None
        if not isinstance(args, list):  # edited by hand too
            return None
        found = args.index("watch") if "watch" in args[:-1] else None
        return None if found is None else str(args[found + 1])
    line = re.search(rb'^ExecStart=.*?"watch" "((?:[^"\\]|\\.)*)"', data, re.MULTILINE)
    if line is None:
        return None
    quoted = line.group(1).decode("utf-8", "surrogateescape")
    unquoted = re.sub(r"\\(.)", r"\1", quoted)  # undo `_systemd_quote`
    return unquoted.replace("%%", "%").replace("$$", "$")


def find_executable() -> str:
    """The `vaultsync` script of this installation (a virtualenv's, pipx's), else on PATH."""
    beside = Path(sys.executable).parent / "vaultsync"
    if beside.is_file() and os.access(beside, os.X_OK):
        return os.path.abspath(beside)
    found = shutil.which("vaultsync")
    if found:
        return os.path.abspath(found)
    raise UsageError(
        "cannot find the `vaultsync` program to run in the background; install it with "
        "`pipx install vaultsync` (or `pip install --user vaultsync`) and try again"
    )


def _systemd_quote(arg: str) -> str:
    # systemd expands `%` specifiers and `$` variables in ExecStart, and unquotes C-style.
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"'


def systemd_unit(executable: str, vault: Path) -> str:
    command = " ".join(_systemd_quote(a) for a in (executable, "watch", str(vault), "--quiet"))
    return (
        "[Unit]\n"
        f"Description=vaultsync: keep Follow-ups.md current in {str(vault).replace('%', '%%')}\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={command}\n"
        # A bad configuration or a refused write at start exits 2 or 3; retry calmly.
        "Restart=on-failure\n"
        "RestartSec=30\n"
        "\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )


def launchd_plist(label: str, executable: str, vault: Path, log_file: Path) -> str:
    data = {
        "Label": label,
        "ProgramArguments": [executable, "watch", str(vault), "--quiet"],
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},  # restart after a crash, not after a stop
        "ThrottleInterval": 30,
        "StandardOutPath": str(log_file),
        "StandardErrorPath": str(log_file),
    }
    return plistlib.dumps(data, sort_keys=False).decode("utf-8")


def default_platform() -> str:
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    raise UsageError(
        f"no background service for {sys.platform}: run `vaultsync watch` from a scheduled "
        "task, or choose `--platform linux` or `--platform macos` to print one anyway"
    )


def service_for(
    vault: Path,
    *,
    platform: str | None = None,
    executable: str | None = None,
    home: Path | None = None,
) -> Service:
    """The service definition that runs `vaultsync watch` for `vault`, and where it goes."""
    require_folder(vault)
    vault = Path(os.path.abspath(vault))
    if "\n" in str(vault) or "\r" in str(vault):
        raise UsageError(f"{vault!r}: a service cannot name a folder with a line break in it")
    platform = platform or default_platform()
    executable = executable or find_executable()
    home = home if home is not None else Path.home()
    plain = _service(vault, slug(vault), platform, executable, home)
    other = watched_by(plain.path)
    if other is None or _same_folder(other, vault):
        return plain
    # Another vault of the same folder name (`~/Work/Notes`, `~/Personal/Notes`) has it.
    return _service(vault, slug(vault, unique=True), platform, executable, home)


def _same_folder(path: str, vault: Path) -> bool:
    """Whether `path` names the vault, maybe by another way to it (a symbolic link, another
    case on macOS): the vault must not get a second service, and two watchers."""
    try:
        return os.path.samefile(path, vault)
    except OSError:  # gone: the vault it named was moved or deleted
        return path == str(vault)


def _service(vault: Path, name: str, platform: str, executable: str, home: Path) -> Service:
    if platform == "linux":
        unit = f"vaultsync-{name}.service"
        return Service(
            home / ".config" / "systemd" / "user" / unit,
            systemd_unit(executable, vault),
            (
                f"systemctl --user daemon-reload && systemctl --user enable --now {unit}",
                f"systemctl --user status {unit}",
                f"journalctl --user -u {unit} -f",
            ),
        )
    if platform == "macos":
        label = f"com.vaultsync.{name}"
        path = home / "Library" / "LaunchAgents" / f"{label}.plist"
        log_file = home / "Library" / "Logs" / f"vaultsync-{name}.log"
        return Service(
            path,
            launchd_plist(label, executable, vault, log_file),
            (
                f'launchctl bootstrap gui/$(id -u) "{path}"',
                f"launchctl print gui/$(id -u)/{label}",
                f'tail -f "{log_file}"',
            ),
        )
    raise UsageError(f"unknown platform {platform!r}: choose linux or macos")


def install_service(service: Service, *, force: bool = False) -> str:
    """Write the definition; `created`, `unchanged` or `replaced`. A different file already
    there is left alone unless `force`: it may be another vault's, or edited by hand."""
    try:
        existing = service.path.read_text("utf-8")
    except FileNotFoundError:
        existing = None
    except (OSError, UnicodeDecodeError) as exc:
        raise RefusedWrite(f"cannot read {service.path}: {exc}") from None
    if existing == service.text:
        return "unchanged"
    if existing is not None and not force:
        raise RefusedWrite(
            f"{service.path} exists with other content (edited by hand, or written for this "
            "vault by another path to it); compare it with `vaultsync service`, then use --force "
            "to replace it"
        )
    # A link to it (dotfiles kept elsewhere) stays: the file it names is the one replaced.
    target = Path(os.path.realpath(service.path)) if service.path.is_symlink() else service.path
    try:
        write_atomic(target, service.text)
    except OSError as exc:
        raise RefusedWrite(
            f"cannot write {service.path}: {exc.strerror or exc}; make its folder one you can "
            "write, or save what `vaultsync service` prints there yourself"
        ) from None
    return "created" if existing is None else "replaced"
