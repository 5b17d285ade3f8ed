"""The mapping language's transforms: pure polars expressions, checked on examples and, where a
property holds for every input, with hypothesis."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from contracts.mapping import Transform
from mapping.transforms import TransformError, apply, strip_html, truncate

TRANSFORMS: TypeAdapter[Any] = TypeAdapter(tuple[Transform, ...])


def run(value: Any, *transforms: Any, limit: int | None = None) -> Any:
    parsed = TRANSFORMS.validate_python(transforms)
    frame = pl.DataFrame({"v": [value]})
    return frame.select(apply(pl.col("v"), parsed, limit).alias("v"))["v"][0]


def test_strip_html_removes_markup_decodes_entities_and_collapses_space() -> None:
    html = "<p>Robust &amp; leicht</p><ul><li>Baumwolle</li><li>100&nbsp;%</li></ul><br/>Ende"
    assert run(html, "strip_html") == "Robust & leicht Baumwolle 100 % Ende"
    assert run("<script>alert(1)</script>Text", "strip_html") == "alert(1)Text"
    assert run(None, "strip_html") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\tb\nc\r\nd", "a b c d"),  # any blank becomes a space
        ("a\u00a0b\u3000c\u2009d", "a b c d"),  # no-break, ideographic and thin spaces too
        ("a \t b", "a b"),
        (" \n a  b \t", "a b"),
        ("a\x1fb", "a\x1fb"),  # a separator control is no blank to the engine
        ("   ", ""),
        ("", ""),
        ('</script>=HYPERLINK("x")\x00 y', '=HYPERLINK("x")\x00 y'),
        ("漢字\u00a0😀 e\u0301", "漢字 😀 e\u0301"),
    ],
)
def test_strip_html_collapses_every_kind_of_blank(text: str, expected: str) -> None:
    assert run(text, "strip_html") == expected


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("漢字漢字漢字", 4, "漢字漢字"),  # no blank: a hard cut, counted in characters
        ("😀😀 😀😀😀", 4, "😀😀"),
        ("e\u0301e\u0301 e\u0301e\u0301", 5, "e\u0301e\u0301"),  # a combining mark counts
        ("Grün, Blau", 5, "Grün"),
        ("abcd", 4, "abcd"),  # exactly the limit: kept as it is
        ("abc ", 3, "abc"),
        ("abc, ", 4, "abc"),
        (" abcdef", 4, " abc"),  # the only blank first: a hard cut
        ("ab\u00a0cdef", 4, "ab"),  # a no-break space is a word boundary
        ("a,b;c:d-e f", 9, "a,b;c:d-e"),
        ("ab--- cd", 6, "ab"),
        ("", 3, ""),
        ("</script> =HYPERLINK(", 12, "</script>"),
        ("a\x00b c", 4, "a\x00b"),
    ],
)
def test_truncate_counts_characters(text: str, limit: int, expected: str) -> None:
    assert run(text, {"truncate": limit}) == expected


def cut_as_specified(text: str, limit: int) -> str:
    """The truncation rule in plain Python (``\\Z``: Python's ``$`` also matches before a
    final newline, the engine's does not)."""
    if len(text) <= limit:
        return text
    cut = re.sub(r"\s+\S*\Z", "", text[: limit + 1], count=1)
    return (cut or text[:limit])[:limit].rstrip(" ,;:-")


WORDS = st.text(alphabet="aé\u0301漢😀 \t\n\u00a0,-", max_size=30)
"""Letters, a combining mark, CJK, an emoji, blanks of four kinds and trailing punctuation."""


@settings(max_examples=200, deadline=None)
@given(st.lists(st.none() | WORDS, min_size=1, max_size=8), st.integers(1, 12))
def test_truncate_follows_its_rule_on_every_row_of_a_column(
    texts: list[str | None], limit: int
) -> None:
    """Short, long and missing texts in one column, eagerly and in a lazy query (where the
    engine shares the text's computation between the rule's references to it)."""
    frame = pl.DataFrame({"v": texts}, schema={"v": pl.String})
    expected = [None if t is None else cut_as_specified(t, limit) for t in texts]
    cleaned = truncate(strip_html(pl.col("v")), limit)
    assert frame.select(truncate(pl.col("v"), limit))["v"].to_list() == expected
    plain = frame.select(strip_html(pl.col("v")))["v"].to_list()
    cut = [None if t is None else cut_as_specified(t, limit) for t in plain]
    assert frame.lazy().select(cleaned).collect()["v"].to_list() == cut


def test_truncate_cuts_at_a_word_boundary_within_the_limit() -> None:
    assert run("Ein sehr langer Produkttitel", {"truncate": 16}) == "Ein sehr langer"
    assert run("Kurz", {"truncate": 16}) == "Kurz"
    assert run("Donaudampfschifffahrt", {"truncate": 10}) == "Donaudampf"  # one long word
    assert run("Rot, Blau, Grün", {"truncate": 10}) == "Rot, Blau"


def test_a_bare_truncate_uses_the_target_fields_limit_or_fails_without_one() -> None:
    assert run("eins zwei drei", "truncate", limit=9) == "eins zwei"
    with pytest.raises(TransformError, match="truncate needs a length"):
        run("eins zwei drei", "truncate")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("upper", "WEISSE SOCKEN"),
        ("lower", "weisse socken"),
        ("title", "Weisse Socken"),
        ("sentence", "Weisse socken"),
    ],
)
def test_case(kind: str, expected: str) -> None:
    assert run("weisse SOCKEN", {"case": kind}) == expected


def test_replace_rounds_prefix_suffix_and_trim_apply_in_order() -> None:
    rule = {"replace": {"pattern": r"\s*\(.*\)$", "with": ""}}
    assert run("Hemd (Auslauf)", rule) == "Hemd"
    assert run(" Hemd ", "trim", {"prefix": "Neu: "}, {"suffix": "!"}) == "Neu: Hemd!"
    assert run("12.345", {"round": 2}) == Decimal("12.35")
    assert run("12.344", {"round": 0}) == Decimal("12")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.integers(min_value=1, max_value=40))
def test_truncate_never_exceeds_the_limit_and_keeps_a_prefix(text: str, limit: int) -> None:
    frame = pl.DataFrame({"v": [text]})
    cut = frame.select(truncate(pl.col("v"), limit))["v"][0]
    assert len(cut) <= limit
    assert text.startswith(cut)
    if len(text) <= limit:
        assert cut == text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["<b>", "</b>", "<p>", "</p>", "a", " ", "&amp;", "x y"])))
def test_strip_html_leaves_no_tags_and_no_double_spaces(parts: list[str]) -> None:
    frame = pl.DataFrame({"v": ["".join(parts)]})
    plain = frame.select(strip_html(pl.col("v")))["v"][0]
    assert "<" not in plain
    assert "  " not in plain
    assert plain == plain.strip()
