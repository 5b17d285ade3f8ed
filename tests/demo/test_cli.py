"""``prism demo-data`` through click: readable output, every option documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

from demo.defects import DEFECT_RATES
from pipelines.cli import main


def test_demo_data_prints_a_readable_summary(tmp_path: Path) -> None:
    args = ["--target", str(tmp_path), "--products", "60", "--seed", "3", "--as-of", "2026-11-22"]
    result = CliRunner().invoke(main, ["demo-data", *args])
    assert result.exit_code == 0, result.output
    heading, *lines = result.output.splitlines()
    assert heading == "Demo data written (seed 3, as of 2026-11-22):"
    assert "DemoSummary(" not in result.output
    rows = dict(re.fullmatch(r"\s+(\S.*?)\s{2,}(\S.*)", line).groups() for line in lines)
    for side, marker in (("PIM export", "products.jsonl"), ("ERP snapshot", "prices.csv")):
        folder = Path(rows[side])
        assert folder.parent.parent == tmp_path
        assert (folder / marker).is_file()
    assert re.fullmatch(r"60 \(\d+ simple, \d+ variants\)", rows["products"])
    for label in ("product models", "price rows", "stock rows", "supply rows"):
        assert re.fullmatch(r"[\d,]+", rows[label]), label
    options = r"\d+ \(brand \d+, color \d+, size \d+, material \d+\)"
    assert re.fullmatch(options, rows["attribute options"])
    assert rows["channels"] == "ecommerce: tree master; print: tree print_catalog"
    assert re.fullmatch(r"2 \(master \d+, print_catalog \d+ categories\)", rows["category trees"])
    assert rows["family variants"].startswith("3 (tshirts_color_size: color > size;")
    assert rows["main image"] == "image: 6 families; packshot: power_tools, hand_tools"
    assert re.fullmatch(
        r"\d+ variants with a mixed-case parent, \d+ option codes in another case, "
        r"\d+ absolute media URLs",
        rows["export quirks"],
    )
    assert rows["defects seeded"].endswith("by kind:")
    for kind in (*DEFECT_RATES, "unknown_sku_prices", "disabled"):
        assert re.fullmatch(r"\d+", rows[kind]), kind
    values = [line.index(rows[label]) for label, line in zip(rows, lines, strict=True)][:8]
    assert len(set(values)) == 1  # one column for the values of the main lines


def test_every_demo_data_option_has_help() -> None:
    command = main.commands["demo-data"]
    options = [p for p in command.params if isinstance(p, click.Option)]
    assert {o.name for o in options} == {"target", "products", "seed", "as_of", "pim_format"}
    assert all(o.help for o in options), [o.name for o in options if not o.help]
