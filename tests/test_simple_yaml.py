"""The quick reading of simple front matter gives exactly what libyaml gives, or gives up.

`frontmatter.simple` reads the shape Obsidian writes without PyYAML; whenever it answers,
its answer must equal `yaml.load` with the same loader, value for value and type for type,
and whenever libyaml refuses a text, `simple` must have given up on it too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from conftest import corpus_vaults, needs_corpus
from hypothesis import example, given, settings
from hypothesis import strategies as st

from vaultsync.frontmatter import NOT_SIMPLE, Loader, load, simple
from vaultsync.notes import split_front_matter

SCALARS = [
    "", "Bob", "Sam Rivera", "[[Sam Rivera]]", '"[[Sam Rivera]]"', "'[[Sam]]'", "'it''s'",
    '"a\\"b"', '"tab\\t"', "yes", "No", "ON", "y", "n", "~", "null", "Null", "true", "FALSE",
    "12", "-5", "1.5", ".5", "1e3", "0x1f", "1_000", "1:30", "2w", "3m", "quarterly",
    "2026-11-27", "2026-02-30", "2026-1-5", "2026-11-27 10:00", "2026-11-27T10:00:00Z",
    "a: b", "a:b", "x # y", "x#y", "#x", "C#", "- x", "-x", "? x", ":x", "&a x", "*a", "!tag x",
    "|", ">", "%x", "@x", "`x`", "[a, b]", "{a: b}", "a [b]", "a, b", "Bob's", 'say "hi"',
    "é", "日本", "\u00a0x", "x\u00a0", "\u3000", "x\x85y", "\ufeffx", "a\u2028b", "\x01", "\t",
    "x ", "  x", '"x" y', "'x' y", '"unclosed', "'unclosed", "<<", "=", "2026-11-27 # d",
    "https://x.org/#a", "a:b:c", "x:", "2024-03-23 15:14", "012", "0", "007", "+1", "1 2",
    "[]", "[ ]", "[a,b]", "[ a , b ]", "[a, ]", "[a, [b]]", "[[Bob]]", '["x", 2026-11-27, 12]',
    "[a b, c]", "[a:b]", "[a: b]", "[yes, ~, 2w]", "[a # c]", "['q', \"d\"]", "[a", "a]",
]
KEYS = ["date", "Date", "introduced_by", "Introduced By", "tags", "yes", "~", "12",
        "2026-11-27", '"quoted key"', "'single'", "a b", "<<", "=", "-k", "k:", "ké", '""']
INDENTS = ["", " ", "  ", "    "]


def lines() -> st.SearchStrategy[str]:
    entry = st.builds(lambda k, v: f"{k}: {v}" if v else f"{k}:", st.sampled_from(KEYS),
                      st.sampled_from(SCALARS))
    item = st.builds(lambda i, v: f"{i}- {v}" if v else f"{i}-", st.sampled_from(INDENTS),
                     st.sampled_from(SCALARS))
    odd = st.sampled_from(["", "  ", "# comment", "  # comment", "  nested: 1", "---",
                           "...", "key:value", "key :  v", "key:    ", "- top",
                           "... and more: x", "...: x", "....: x", "--- a: b"])
    return st.one_of(entry, entry, item, item, odd)


def libyaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=Loader)
    except yaml.YAMLError:
        return NOT_SIMPLE


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types throughout (`True == 1` and a date is not its text)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    return bool(a == b)


@settings(max_examples=3000, deadline=None)
@given(st.lists(lines(), max_size=8).map("\n".join))
@example("tags:\n  - person\n  - work\nname: Ann\n")
@example("tags:\n- a\n  - b\n")
@example("k: v\n  - continued\n")
@example("a:\n\nb: 2026-11-27\n")
@example("... and more: see below")
@example("a: b\n... : c")
@example("k" * 1025 + ": v")
@example("k" * 1000 + " " * 30 + ": v")
@example('"' + "k" * 1030 + '": v')
def test_simple_reads_what_libyaml_reads(text: str) -> None:
    ours = simple(text)
    reference = libyaml(text)
    if ours is not NOT_SIMPLE:
        assert same(ours, reference), (text, ours, reference)
        assert same(load(text), reference)


def test_the_shape_obsidian_writes_is_read_quickly() -> None:
    text = (
        'type: person\naliases:\n  - Sam\n  - "[[Samuel]]"\ncadence: 2w\n'
        "last_contact: 2026-11-01\nreported_back: yes\nnotes:\n"
    )
    assert simple(text) == {
        "type": "person",
        "aliases": ["Sam", "[[Samuel]]"],
        "cadence": "2w",
        "last_contact": dt.date(2026, 11, 1),
        "reported_back": True,
        "notes": None,
    }


@needs_corpus
def test_every_corpus_front_matter_reads_the_same() -> None:
    quick = slow = 0
    for root in corpus_vaults():
        for path in sorted(root.rglob("*.md")):
            text = path.read_bytes().decode("utf-8", "replace").removeprefix("\ufeff")
            yaml_text, _, _ = split_front_matter(text)
            if yaml_text is None:
                continue
            ours = simple(yaml_text)
            if ours is NOT_SIMPLE:
                slow += 1
            else:
                quick += 1
                assert same(ours, libyaml(yaml_text)), path
    # Not vacuous: over a hundred are read quickly (most others hold `>` block scalars).
    assert quick > 100, (quick, slow)
