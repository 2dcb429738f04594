"""`vaultsync service`: the systemd unit and the launchd agent, written into a temporary home."""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
from pathlib import Path

import pytest

from vaultsync.errors import RefusedWrite, UsageError
from vaultsync.service import install_service, service_for, slug

EXE = "/opt/vault sync/bin/vaultsync"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "Work Notes"
    root.mkdir()
    return root


def test_systemd_unit(vault: Path, tmp_path: Path) -> None:
    svc = service_for(vault, platform="linux", executable=EXE, home=tmp_path / "home")
    assert svc.path == tmp_path / "home/.config/systemd/user/vaultsync-work-notes.service"
    assert f'ExecStart="{EXE}" "watch" "{vault}" "--quiet"\n' in svc.text
    assert "Restart=on-failure" in svc.text and "WantedBy=default.target" in svc.text
    assert any("enable --now vaultsync-work-notes.service" in c for c in svc.commands)
    journal = "journalctl --user -u vaultsync-work-notes.service"
    assert any(c.startswith(journal) for c in svc.commands)


def test_systemd_escapes_what_it_would_expand(tmp_path: Path) -> None:
    odd = tmp_path / 'My "100%" $HOME vault'
    odd.mkdir()
    svc = service_for(odd, platform="linux", executable=EXE, home=tmp_path)
    assert '"watch" "' + str(tmp_path) + '/My \\"100%%\\" $$HOME vault" "--quiet"' in svc.text


def test_launchd_agent(vault: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    svc = service_for(vault, platform="macos", executable=EXE, home=home)
    assert svc.path == home / "Library/LaunchAgents/com.vaultsync.work-notes.plist"
    agent = plistlib.loads(svc.text.encode())
    assert agent["Label"] == "com.vaultsync.work-notes"
    assert agent["ProgramArguments"] == [EXE, "watch", str(vault), "--quiet"]
    assert agent["RunAtLoad"] is True
    assert agent["StandardErrorPath"] == str(home / "Library/Logs/vaultsync-work-notes.log")
    assert any(c.startswith("launchctl bootstrap gui/$(id -u)") for c in svc.commands)


def test_install_never_overwrites_silently(vault: Path, tmp_path: Path) -> None:
    svc = service_for(vault, platform="linux", executable=EXE, home=tmp_path)
    assert install_service(svc) == "created"
    assert svc.path.read_text("utf-8") == svc.text
    assert install_service(svc) == "unchanged"
    svc.path.write_text(svc.text + "# my tweak\n", "utf-8")
    with pytest.raises(RefusedWrite, match="--force"):
        install_service(svc)
    assert svc.path.read_text("utf-8").endswith("# my tweak\n")
    assert install_service(svc, force=True) == "replaced"
    assert svc.path.read_text("utf-8") == svc.text


@pytest.mark.parametrize("platform", ["linux", "macos"])
def test_two_vaults_of_one_folder_name_get_a_service_each(tmp_path: Path, platform: str) -> None:
    """`~/Work/Notes` and `~/Personal/Notes`: the second must not take the first's place."""
    home = tmp_path / "home"
    work, personal = tmp_path / "Work" / "Notes", tmp_path / 'Per"so%nal $x' / "Notes"
    for folder in (work, personal):
        folder.mkdir(parents=True)
    first = service_for(work, platform=platform, executable=EXE, home=home)
    assert install_service(first) == "created"
    second = service_for(personal, platform=platform, executable=EXE, home=home)
    assert second.path != first.path and "notes-" in second.path.name
    assert install_service(second) == "created"
    # Each keeps its own name when installed again.
    assert service_for(work, platform=platform, executable=EXE, home=home) == first
    assert service_for(personal, platform=platform, executable=EXE, home=home) == second
    assert install_service(first) == install_service(second) == "unchanged"


def test_one_vault_by_another_path_gets_no_second_service(tmp_path: Path) -> None:
    real = tmp_path / "real" / "Notes"
    real.mkdir(parents=True)
    (tmp_path / "Notes").symlink_to(real)
    home = tmp_path / "home"
    first = service_for(real, platform="linux", executable=EXE, home=home)
    assert install_service(first) == "created"
    again = service_for(tmp_path / "Notes", platform="linux", executable=EXE, home=home)
    assert again.path == first.path  # refused as different, not installed beside it
    with pytest.raises(RefusedWrite):
        install_service(again)


def test_a_definition_edited_by_hand_keeps_its_name(vault: Path, tmp_path: Path) -> None:
    svc = service_for(vault, platform="linux", executable=EXE, home=tmp_path)
    svc.path.parent.mkdir(parents=True)
    svc.path.write_text("[Service]\nExecStart=/usr/bin/true\n", "utf-8")
    assert service_for(vault, platform="linux", executable=EXE, home=tmp_path) == svc
    with pytest.raises(RefusedWrite, match="--force"):
        install_service(svc)


@pytest.mark.parametrize("arguments", [{"watch": "/x"}, 7, "watch /x", ["watch"]])
def test_an_agent_edited_by_hand_keeps_its_name(
    vault: Path, tmp_path: Path, arguments: object
) -> None:
    """`ProgramArguments` made something other than a list of a command and its arguments."""
    svc = service_for(vault, platform="macos", executable=EXE, home=tmp_path)
    svc.path.parent.mkdir(parents=True)
    svc.path.write_bytes(plistlib.dumps({"Label": "mine", "ProgramArguments": arguments}))
    assert service_for(vault, platform="macos", executable=EXE, home=tmp_path) == svc


def test_slugs() -> None:
    assert slug(Path("/x/Work Notes")) == "work-notes"
    assert slug(Path("/x/Café Ñotes")) == "cafe-notes"
    assert slug(Path("/x/日本語")).startswith("vault-")


def test_a_missing_vault_or_platform_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not a folder"):
        service_for(tmp_path / "nope", platform="linux", executable=EXE, home=tmp_path)
    with pytest.raises(UsageError, match="unknown platform"):
        service_for(tmp_path, platform="windows", executable=EXE, home=tmp_path)


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home)}
    command = [sys.executable, "-c", "from vaultsync.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


def test_a_folder_that_cannot_be_made_is_one_line_and_exit_3(vault: Path, tmp_path: Path) -> None:
    """`~/.config` a link into a dotfiles folder that is not there: a traceback, before."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".config").symlink_to(tmp_path / "dotfiles/.config")
    run = _cli("service", str(vault), "--platform", "linux", "--install", home=home)
    assert run.returncode == 3, run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert run.stderr.startswith(f"vaultsync: cannot write {home}/.config/systemd/user/")
    assert "save what `vaultsync service` prints there yourself" in run.stderr


def test_a_service_file_linked_from_dotfiles_is_written_where_it_lives(
    vault: Path, tmp_path: Path
) -> None:
    """A link into a dotfiles folder (GNU Stow) stays a link: replacing it by a file would
    leave the dotfile behind, as it was."""
    home = tmp_path / "home"
    unit = home / ".config/systemd/user/vaultsync-work-notes.service"
    unit.parent.mkdir(parents=True)
    dotfile = tmp_path / "dotfiles/vaultsync-work-notes.service"
    dotfile.parent.mkdir()
    dotfile.write_text("[Unit]\n# an older one\n", "utf-8")
    unit.symlink_to(dotfile)
    run = _cli("service", str(vault), "--platform", "linux", "--install", "--force", home=home)
    assert run.returncode == 0, run.stderr
    assert unit.is_symlink()
    assert dotfile.read_text("utf-8").startswith("[Unit]\nDescription=")


def test_the_command_prints_then_installs_into_home(vault: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    printed = _cli("service", str(vault), "--platform", "linux", home=home)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.startswith("[Unit]\n") and '"watch"' in printed.stdout
    assert not home.exists()  # printing writes nothing
    forced = _cli("service", str(vault), "--platform", "linux", "--force", home=home)
    assert forced.returncode == 2 and "`--force` goes with `--install`" in forced.stderr
    assert not forced.stdout and not home.exists()

    installed = _cli("service", str(vault), "--platform", "linux", "--install", home=home)
    assert installed.returncode == 0, installed.stderr
    unit = home / ".config/systemd/user/vaultsync-work-notes.service"
    assert unit.read_text("utf-8") == printed.stdout
    assert f"created {unit}" in installed.stdout and "systemctl --user" in installed.stdout

    unit.write_text("[Unit]\n# someone else's\n", "utf-8")
    refused = _cli("service", str(vault), "--platform", "linux", "--install", home=home)
    assert refused.returncode == 3 and "--force" in refused.stderr
    forced = _cli("service", str(vault), "--platform", "linux", "--install", "--force", home=home)
    assert forced.returncode == 0 and unit.read_text("utf-8") == printed.stdout

    mac = _cli("service", str(vault), "--platform", "macos", "--install", home=home)
    assert mac.returncode == 0, mac.stderr
    agent = home / "Library/LaunchAgents/com.vaultsync.work-notes.plist"
    assert plistlib.loads(agent.read_bytes())["ProgramArguments"][1:] == [
        "watch", str(vault), "--quiet"
    ]
