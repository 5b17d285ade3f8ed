"""The mapping language's transforms: pure polars expressions, checked on examples and, where a
property holds for every input, with hypothesis."""

from __future__ import annotations

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
