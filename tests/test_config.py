"""vaultsync.config: `.vaultsync.toml` (SPEC §11) and the commented template of `init`."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from vaultsync.config import (
    CONFIG_FILE,
    DEFAULT_DUE_DAYS,
    DEFAULT_PHRASES,
    ROLES,
    Config,
    load_config,
)
from vaultsync.errors import ConfigError
from vaultsync.scaffold import CONFIG_TEMPLATE
from vaultsync.vault import templates_folders


def write(vault: Path, text: str | bytes) -> Path:
    path = vault / CONFIG_FILE
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def problems_of(vault: Path, text: str | bytes) -> list[str]:
    path = write(vault, text)
    with pytest.raises(ConfigError) as info:
        load_config(vault)
    assert info.value.exit_code == 2
    assert info.value.path == str(path)
    assert CONFIG_FILE in str(info.value)
    return info.value.problems


def test_no_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config == Config()
    assert config.output == "Follow-ups.md"
    assert config.people_folders == ("People",)
    assert config.templates_folders is None
    assert config.ignore == ()
    assert config.due_days == {"introduction": 3, "advice": 30, "explicit": 7, "task": 7}
    assert config.horizon_days == 7
    assert config.task_phrases == DEFAULT_PHRASES
    assert config.graph is True
    assert config.role_of()["introduced_by"] == "introduced_by"
    assert config.role_of()["met_through"] == "introduced_by"


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    write(tmp_path, "# nothing set\n")
    assert load_config(tmp_path) == Config()


def test_every_key_with_a_good_value(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
output = "Notes/Follow ups.md"
people_folders = ["People", "Contacts/Work/"]
templates_folders = ["Meta/Templates"]
ignore = ["Archive/**", "**/drafts/*.md"]
horizon_days = 14
task_phrases = ["ping back", "Tell them"]
graph = false

[due_days]
introduction = 5
advice = 20
explicit = 0
task = 1

[properties]
introduced_by = ["Connected By", "met-via"]
participants = ["guests"]
""",
    )
    config = load_config(tmp_path)
    assert config.output == "Notes/Follow ups.md"
    assert config.people_folders == ("People", "Contacts/Work")
    assert config.templates_folders == ("Meta/Templates",)
    assert config.ignore == ("Archive/**", "**/drafts/*.md")
    assert config.horizon_days == 14
    assert config.task_phrases == ("ping back", "Tell them")
    assert config.graph is False
    assert config.due_days == {"introduction": 5, "advice": 20, "explicit": 0, "task": 1}
    roles = config.role_of()
    assert roles["connected_by"] == "introduced_by"
    assert roles["met_via"] == "introduced_by"
    assert roles["guests"] == "participants"
    # built-in names stay
    assert set(ROLES["introduced_by"]) <= set(config.properties["introduced_by"])
    assert set(ROLES["participants"]) <= set(config.properties["participants"])
    assert config.properties["advice_from"] == ROLES["advice_from"]


def test_partial_due_days_keep_the_other_defaults(tmp_path: Path) -> None:
    write(tmp_path, "[due_days]\nadvice = 14\n")
    assert load_config(tmp_path).due_days == {**DEFAULT_DUE_DAYS, "advice": 14}


def test_a_single_string_is_a_list(tmp_path: Path) -> None:
    write(tmp_path, 'people_folders = "Contacts"\n')
    assert load_config(tmp_path).people_folders == ("Contacts",)


def test_extra_property_names_are_normalised(tmp_path: Path) -> None:
    write(tmp_path, '[properties]\nadvice_from = ["Mentored By", "coached-by", "TIPS_FROM"]\n')
    names = load_config(tmp_path).properties["advice_from"]
    assert {"mentored_by", "coached_by", "tips_from"} <= set(names)
    assert "Mentored By" not in names
    assert len(names) == len(set(names))


def test_extra_property_name_already_known_is_not_duplicated(tmp_path: Path) -> None:
    write(tmp_path, '[properties]\nintroduced_by = ["Introduced By", "intro-by"]\n')
    assert load_config(tmp_path).properties["introduced_by"] == ROLES["introduced_by"]


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (
            'participants = ["Introduced By"]',
            '`properties.participants`: "Introduced By" already names introduced_by',
        ),
        (
            'introduced_by = ["guests"]\nadvice_from = ["guests"]',
            '`properties.advice_from`: "guests" already names introduced_by',
        ),
    ],
)
def test_a_property_name_plays_one_role(tmp_path: Path, table: str, problem: str) -> None:
    """Else the role it plays would depend on the order roles are looked up in."""
    assert problems_of(tmp_path, f"[properties]\n{table}\n") == [
        problem + "; a property name can play one role only"
    ]


def test_unknown_keys_and_bad_values_are_all_reported(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        """
colour = "blue"
horizon_days = -3
graph = "yes"
people_folders = 5
task_phrases = ["ok", ""]
output = "../outside.md"

[due_days]
advice = "soon"
later = 3
task = 9999

[properties]
nonsense = ["x"]
introduced_by = 5
""",
    )
    text = "\n".join(problems)
    for key in (
        "colour", "horizon_days", "graph", "people_folders", "task_phrases", "output",
        "advice", "later", "nonsense", "introduced_by",
    ):
        assert key in text, (key, problems)
    assert len(problems) >= 11


def test_a_folder_out_of_the_vault_is_not_called_the_vault_itself(tmp_path: Path) -> None:
    assert problems_of(tmp_path, 'people_folders = ["C:/.."]\n') == [
        '`people_folders` must name folders inside the vault, not "C:/.."'
    ]


def test_a_bad_property_list_is_named_by_its_whole_key(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "[properties]\nadvice_from = 3\n") == [
        "`properties.advice_from` must be a list of non-empty strings"
    ]


@pytest.mark.parametrize("key", ["people_folders", "templates_folders"])
@pytest.mark.parametrize("folder", [".", "./", "Notes/.."])
def test_the_vault_itself_is_not_a_people_or_templates_folder(
    tmp_path: Path, key: str, folder: str
) -> None:
    """As a templates folder, `init` would write the templates among the notes, where the
    person template is read as a person."""
    assert problems_of(tmp_path, f'{key} = ["People", "{folder}"]\n') == [
        f'`{key}` must name folders inside the vault, not the vault itself ("{folder}")'
    ]


@pytest.mark.parametrize("phrase", ["—", "-", " - "])
def test_a_task_phrase_without_words_is_refused(tmp_path: Path, phrase: str) -> None:
    """Its words may be joined by nothing: with none, it would match between any letters."""
    problems = problems_of(tmp_path, f'task_phrases = ["ping", "{phrase}"]\n')
    assert problems == [f'`task_phrases` must hold words, not "{phrase}"']


def test_one_problem_per_bad_key(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, 'horizon_days = "a week"\ngraph = 1\n')
    assert len(problems) == 2
    assert "horizon_days" in problems[0] or "horizon_days" in problems[1]


@pytest.mark.parametrize(
    "value",
    [True, 3.5, '"7"', 3651, -1, "[7]"],
)
def test_bad_horizon(tmp_path: Path, value: object) -> None:
    shown = str(value).lower() if isinstance(value, bool) else str(value)
    problems = problems_of(tmp_path, f"horizon_days = {shown}\n")
    assert len(problems) == 1
    assert "horizon_days" in problems[0]


@pytest.mark.parametrize(
    "output",
    [
        "../x.md",
        "../../x.md",
        "Notes/../../x.md",
        "/tmp/x.md",
        "/Follow-ups.md",
        "C:/Users/me/Follow-ups.md",  # absolute on Windows, where the same vault syncs
        "C:\\\\Users\\\\me\\\\Follow-ups.md",
        "..\\\\x.md",
        "",
        ".",
    ],
)
def test_output_outside_the_vault_is_rejected(tmp_path: Path, output: str) -> None:
    problems = problems_of(tmp_path, f'output = "{output}"\n')
    assert len(problems) == 1
    assert "output" in problems[0]


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("Follow-ups.md", "Follow-ups.md"),
        ("./Index/Follow-ups.md", "Index/Follow-ups.md"),
        ("Index\\\\Follow-ups.md", "Index/Follow-ups.md"),
        ("Index/../Follow-ups.md", "Follow-ups.md"),
    ],
)
def test_output_inside_the_vault(tmp_path: Path, output: str, expected: str) -> None:
    write(tmp_path, f'output = "{output}"\n')
    assert load_config(tmp_path).output == expected


@pytest.mark.parametrize(
    "text",
    [
        "output = \n",
        "output = 'a.md'\noutput = 'b.md'\n",
        "[due_days\n",
        "graph = yes\n",
        "= 3\n",
    ],
)
def test_invalid_toml(tmp_path: Path, text: str) -> None:
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1
    assert "TOML" in problems[0]


def test_config_that_is_not_utf8(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, b'output = "Caf\xe9.md"\n')
    assert len(problems) == 1


def test_tables_with_wrong_types(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, 'due_days = 3\nproperties = "x"\n')
    text = "\n".join(problems)
    assert "due_days" in text
    assert "properties" in text


# --- the commented template of `vaultsync init` ---------------------------------------------

_COMMENTED = re.compile(r"^# ([a-z_]+ = .+|\[[a-z_]+\])$")
EXAMPLE_ONLY = {"ignore", "properties", "templates_folders"}


def uncommented_template() -> str:
    out = []
    for line in CONFIG_TEMPLATE.splitlines():
        match = _COMMENTED.match(line)
        out.append(match.group(1) if match else line)
    return "\n".join(out) + "\n"


def test_template_as_written_gives_defaults(tmp_path: Path) -> None:
    write(tmp_path, CONFIG_TEMPLATE)
    assert load_config(tmp_path) == Config()


def test_template_documents_every_key() -> None:
    text = uncommented_template()
    keys = set(re.findall(r"^([a-z_]+) = ", text, re.MULTILINE))
    tables = set(re.findall(r"^\[([a-z_]+)\]$", text, re.MULTILINE))
    assert {f.name for f in dataclasses.fields(Config)} <= keys | tables
    assert set(DEFAULT_DUE_DAYS) <= keys


def test_uncommented_template_gives_the_documented_defaults(tmp_path: Path) -> None:
    write(tmp_path, uncommented_template())
    config = load_config(tmp_path)  # every documented line is valid
    defaults = Config()
    for field in dataclasses.fields(Config):
        if field.name not in EXAMPLE_ONLY:
            assert getattr(config, field.name) == getattr(defaults, field.name), field.name
    # these three lines show examples, not defaults; they must still be valid and sensible
    assert config.templates_folders == ("Templates",)  # the documented fallback
    assert config.ignore and all(isinstance(glob, str) for glob in config.ignore)
    for role, names in ROLES.items():
        assert set(names) <= set(config.properties[role])


@pytest.mark.parametrize(
    ("setting", "folders"),
    [
        ("Meta/Templates", ("Meta/Templates",)),
        ("./Meta/Templates/", ("Meta/Templates",)),
        ("/Meta\\\\Templates", ("Meta/Templates",)),
        ("./", ("Templates",)),  # the vault itself: not a templates folder
        ("Meta/../../Outside", ("Templates",)),
    ],
)
def test_obsidians_templates_folder_is_read_as_a_vault_folder(
    tmp_path: Path, setting: str, folders: tuple[str, ...]
) -> None:
    (tmp_path / ".obsidian").mkdir()
    (tmp_path / ".obsidian/templates.json").write_text(json.dumps({"folder": setting}), "utf-8")
    assert templates_folders(tmp_path, Config()) == folders
