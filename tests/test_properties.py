"""vaultsync.properties: property names, bounded flattening, dates, cadences and keywords."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import yaml
from conftest import time_limit
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vaultsync.properties import (
    MAX_ITEMS,
    date_in_name,
    email_address,
    flatten,
    keywords,
    normalize_name,
    parse_cadence,
    parse_date,
)

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# --- normalize_name -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Introduced By", "introduced-by", "introduced_by", "INTRODUCED_BY", "  Introduced  By ",
     "introduced - by", "Introduced\tBy"],
)
def test_normalize_name_treats_case_space_dash_underscore_alike(name: str) -> None:
    assert normalize_name(name) == normalize_name("introduced_by")


def test_normalize_name_keeps_different_names_apart() -> None:
    assert normalize_name("introduced_by") != normalize_name("introducedby")
    assert normalize_name("report_back_to") != normalize_name("reported_back_to")


@settings(deadline=None)
@given(
    words=st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ", min_size=1, max_size=6),
                   min_size=1, max_size=4),
    seps=st.lists(st.sampled_from([" ", "-", "_", "  ", "-_", " - "]), min_size=4, max_size=4),
)
def test_normalize_name_any_separator_mix(words: list[str], seps: list[str]) -> None:
    mixed = words[0] + "".join(s + w for s, w in zip(seps, words[1:], strict=False))
    assert normalize_name(mixed) == normalize_name("_".join(words))


# --- flatten --------------------------------------------------------------------------------


def _alias_bomb(leaf: str, levels: int) -> object:
    """The classic "billion laughs": each level is nine aliases of the level below."""
    lines = [f"l0: &l0 [{', '.join([leaf] * 9)}]"]
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]")
    data = yaml.load("\n".join(lines) + "\n", Loader=Loader)
    return data[f"l{levels - 1}"]


def test_flatten_single_value_and_nested_lists() -> None:
    assert flatten("Bob") == ["Bob"]
    assert flatten(["Bob", ["Carol", ["Dan"]]]) == ["Bob", "Carol", "Dan"]
    assert flatten([None, "", "  ", {"a": 1}, "Eve"]) == ["Eve"]
    assert flatten(None) == []


def test_flatten_long_list_is_cut_at_max_items() -> None:
    assert len(flatten([f"n{i}" for i in range(MAX_ITEMS * 10)])) == MAX_ITEMS


@pytest.mark.parametrize("levels", [4, 6])
def test_flatten_shallow_alias_bomb_is_bounded(levels: int) -> None:
    value = _alias_bomb('"lol"', levels)
    start = time.perf_counter()
    with time_limit(5):
        out = flatten(value)
    assert len(out) <= MAX_ITEMS
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize(
    ("leaf", "levels"),
    [
        ('"lol"', 9),  # the classic billion laughs: 9 levels of 9, 387 420 489 strings
        ("null", 9),  # nothing to collect, so the item bound never stops the walk
    ],
)
def test_flatten_deep_alias_bomb_finishes_quickly(leaf: str, levels: int) -> None:
    value = _alias_bomb(leaf, levels)
    start = time.perf_counter()
    with time_limit(2):
        out = flatten(value)
    assert len(out) <= MAX_ITEMS
    assert time.perf_counter() - start < 1


# --- parse_date -----------------------------------------------------------------------------

JAN2 = dt.date(2026, 1, 2)


@pytest.mark.parametrize(
    "value",
    [
        JAN2,
        dt.datetime(2026, 1, 2, 23, 59),
        dt.datetime(2026, 1, 2, 0, 0, tzinfo=dt.timezone.utc),
        "2026-01-02",
        " 2026-01-02 ",
        "2026-01-02 14:30",
        "2026-01-02T14:30:00",
        "2026-01-02T14:30:00Z",
        "2026-01-02 14:30:00 +0100",  # front matter as Jekyll and Hugo write it
        "2026-01-02 14:30 +01:00",
        "2026-01-02 14:30 UTC",
        "2026-01-02 14:30:00 -0500 EST",
        "[[2026-01-02]]",
        "[[2026-01-02|Friday]]",
        ["2026-01-02"],
    ],
)
def test_parse_date_accepts(value: object) -> None:
    assert parse_date(value) == JAN2


@pytest.mark.parametrize(
    "yaml_value",
    [
        "2026-01-02",  # a YAML date
        "2026-01-02T14:30:00",  # a YAML timestamp
        "2026-01-02 14:30",  # not a YAML timestamp (no seconds): a string with a time
        "2026-01-02 14:30:00 +0100",  # nor this (its zone has no colon)
        "2026-01-02 14:30:00 +01:00",  # a YAML timestamp
        '"2026-01-02"',
        '"[[2026-01-02]]"',
        "[[2026-01-02]]",  # unquoted: YAML makes it a list in a list
        "'[[2026-01-02|Friday]]'",
    ],
)
def test_parse_date_of_yaml_values(yaml_value: str) -> None:
    data = yaml.load(f"date: {yaml_value}\n", Loader=Loader)
    assert parse_date(data["date"]) == JAN2


def test_unquoted_daily_link_is_a_nested_list() -> None:
    data = yaml.load("date: [[2026-01-02]]\n", Loader=Loader)
    assert data["date"] == [[JAN2]]  # what the test above has to cope with


@pytest.mark.parametrize(
    "value",
    ["2026-02-30", "2026-13-01", "2026-00-10", "2025-02-29", "[[2026-02-30]]",
     "2026-04-31 10:00"],
)
def test_parse_date_invalid_calendar_dates(value: str) -> None:
    assert parse_date(value) is None


@pytest.mark.parametrize(
    "value",
    [None, "", "   ", "tomorrow", "next week", "[[Bob]]", "2026-01-02 and more", "x2026-01-02",
     "2026-01-02 14:30 lunch", "2026-01-02 14:30 +0100 lunch", "2026-01-02 +0100",
     "2026-01-02 14:30 LUNCH",
     42, 3.5, True, False, {"date": "2026-01-02"}, [], ["2026-01-02", "2026-01-03", "x"],
     "[[2026-01-02]] [[2026-01-03]]"],
)
def test_parse_date_junk(value: object) -> None:
    assert parse_date(value) is None


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(),
    st.dates(), st.datetimes(), st.binary(max_size=10),
)
_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(st.text(max_size=5), children, max_size=3),
    ),
    max_leaves=12,
)


@settings(deadline=None)
@given(_values)
def test_parse_date_never_raises_on_any_value(value: object) -> None:
    result = parse_date(value)
    assert result is None or isinstance(result, dt.date)


@settings(deadline=None)
@given(st.text())
def test_parse_date_never_raises_on_any_text(text: str) -> None:
    result = parse_date(text)
    assert result is None or type(result) is dt.date


@settings(deadline=None)
@given(st.dates())
def test_formatted_dates_round_trip(day: dt.date) -> None:
    iso = day.isoformat()
    assert parse_date(iso) == day
    assert parse_date(f"[[{iso}]]") == day
    assert parse_date(f"{iso} 09:15") == day
    assert parse_date(f"{iso}T09:15:00") == day
    assert parse_date(dt.datetime.combine(day, dt.time(12))) == day
    data = yaml.load(yaml.safe_dump({"date": day}), Loader=Loader)
    assert parse_date(data["date"]) == day
    data = yaml.load(f'date: "[[{iso}]]"\n', Loader=Loader)
    assert parse_date(data["date"]) == day


# --- date_in_name ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("2026-11-20 Coffee with Carol", dt.date(2026, 11, 20)),
        ("2026-11-20", dt.date(2026, 11, 20)),
        ("2026-11-20-standup", dt.date(2026, 11, 20)),
        ("Coffee 2026-11-20", None),
        ("2026-02-30 Lunch", None),
        ("20261120 Lunch", None),
        ("2026-11-201 Lunch", None),
        ("Bob Smith", None),
        ("", None),
    ],
)
def test_date_in_name(stem: str, expected: dt.date | None) -> None:
    assert date_in_name(stem) == expected


# --- parse_cadence --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "days"),
    [
        ("3d", 3), ("2w", 14), ("3m", 90), ("1y", 365), ("2W", 14), (" 6m ", 180),
        ("weekly", 7), ("Weekly", 7), ("monthly", 30), ("yearly", 365), ("YEARLY", 365),
    ],
)
def test_parse_cadence(value: object, days: int) -> None:
    assert parse_cadence(value) == days


def test_parse_cadence_quarterly_is_about_three_months() -> None:
    days = parse_cadence("quarterly")
    assert days is not None
    assert 89 <= days <= 92


@pytest.mark.parametrize(
    "value",
    ["0d", "0w", "0", 0, "00m", "", "   ", "soon", "w", "3", "-2w", "2x", "3 weeks ago", None,
     True, False, [], {}],
)
def test_parse_cadence_rejects(value: object) -> None:
    assert parse_cadence(value) is None


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=999), st.sampled_from("dwmyDWMY"))
def test_parse_cadence_units(n: int, unit: str) -> None:
    assert parse_cadence(f"{n}{unit}") == n * {"d": 1, "w": 7, "m": 30, "y": 365}[unit.lower()]


@settings(deadline=None)
@given(_values)
def test_parse_cadence_never_raises(value: object) -> None:
    result = parse_cadence(value)
    assert result is None or (isinstance(result, int) and result > 0)


# --- keywords -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("#person", {"person"}),
        ("person", {"person"}),
        ("Person", {"person"}),
        ("#person, work", {"person", "work"}),
        ("#person #work", {"person", "work"}),
        ("person,work  friend", {"person", "work", "friend"}),
        (["#Person", "Work"], {"person", "work"}),
        (None, set()),
        ("", set()),
    ],
)
def test_keywords(value: object, expected: set[str]) -> None:
    assert keywords(value) == expected


@pytest.mark.parametrize("value", ["people/work", "#people/work", "#People/Work", ["people/work"]])
def test_keywords_nested_tag_counts_as_its_first_segment(value: object) -> None:
    found = keywords(value)
    assert "people" in found
    assert "people/work" in found


def test_keywords_of_yaml_tags() -> None:
    data = yaml.load('tags: [Person, "#work", people/colleagues]\n', Loader=Loader)
    assert {"person", "work", "people"} <= keywords(data["tags"])


@pytest.mark.parametrize(
    ("written", "address"),
    [
        ("dana@brightline.io", "dana@brightline.io"),
        ("  mailto:dana@brightline.io ", "dana@brightline.io"),
        ("Dana Whitfield <dana@brightline.io>", "dana@brightline.io"),  # from a mail client
        ("<dana@brightline.io>", "dana@brightline.io"),
        ("[Dana](mailto:dana@brightline.io)", "dana@brightline.io"),
        ("[dana@brightline.io](<mailto:dana@brightline.io>)", "dana@brightline.io"),
        ("dana at brightline dot io", None),
        ("dana@localhost", None),
        ("Dana <>", None),
        ("[Dana](https://brightline.io)", None),
        ("", None),
    ],
)
def test_email_address(written: str, address: str | None) -> None:
    assert email_address(written) == address


@given(st.emails(), st.text(alphabet=st.characters(blacklist_characters="<>"), max_size=20))
def test_email_address_is_found_however_it_was_pasted(address: str, name: str) -> None:
    assume("]" not in name and "\n" not in name)
    for written in (address, f"{name} <{address}>", f"[{name}](mailto:{address})"):
        assert email_address(written) == address
