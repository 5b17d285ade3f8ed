"""`prism validate-config`: every problem of the file, its inputs and credentials at once, each
with the file, line and key path; exit 3 (a configuration problem)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from factories import REPO

from pipelines.cli import main
from pipelines.exit_codes import ExitCode

SHIPPED = (REPO / "prism.yaml").read_text(encoding="utf-8")
PIM_AND_ERP = """pim:
  kind: files
  path: var/demo/pim
  ready_marker: manifest.json
erp:
  kind: files
  path: var/demo/erp
  ready_marker: manifest.json
"""
LIVE = """pim:
  kind: akeneo
  base_url: https://pim.example.com
  store: var/akeneo
erp:
  kind: sap
  base_url: https://sap.example.com
  root: var/sap
  auth: bearer
  plants: {"1000": main}
"""
SECRET = "do-not-print-me"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The shipped configuration's folder: lookup files and a complete drop on each side."""
    (tmp_path / "mappings").symlink_to(REPO / "mappings")
    for side in ("pim", "erp"):
        snapshot = tmp_path / "var" / "demo" / side / "20261201T060000Z"
        snapshot.mkdir(parents=True)
        (snapshot / "manifest.json").write_text("{}", encoding="utf-8")
    return tmp_path


def _validate(folder: Path, text: str) -> tuple[Result, Path]:
    path = folder / "prism.yaml"
    path.write_text(text, encoding="utf-8")
    return CliRunner().invoke(main, ["validate-config", "--config", str(path)]), path


def _line(text: str, fragment: str) -> int:
    return text.count("\n", 0, text.index(fragment)) + 1


def _changed(old: str, new: str, text: str = SHIPPED) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_the_shipped_configuration_passes(folder: Path) -> None:
    result, path = _validate(folder, SHIPPED)
    assert result.exit_code == 0, result.output
    assert f"{path}: valid; channels: website (jsonld), shop (csv)" in result.output
    assert "inputs and credentials present" in result.output


def test_a_misspelt_key_fails_with_its_line_and_the_nearest_valid_key(folder: Path) -> None:
    text = _changed("  ready_marker: manifest.json\nerp:", "  ready_markr: manifest.json\nerp:")
    result, path = _validate(folder, text)
    assert result.exit_code == ExitCode.CONFIG, result.output
    line = _line(text, "ready_markr")
    assert result.output == (
        f"Error: {path}:{line}: pim.files.ready_markr: unknown key; did you mean 'ready_marker'?\n"
    )


def test_a_misspelt_format_option_fails_with_its_line_and_the_nearest_option(
    folder: Path,
) -> None:
    """A channel's format options are checked when its mapping compiles: same line format."""
    text = _changed('delimiter: ";"', 'delimter: ";"')
    result, path = _validate(folder, text)
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert f"{path}:{_line(text, 'delimter')}: channels.shop.delimter: format 'csv' has no " in (
        result.output
    )
    assert result.output.rstrip().endswith("did you mean 'delimiter'?")


def test_a_yaml_syntax_error_names_the_file_line_and_column(folder: Path) -> None:
    text = _changed("\nscope: ecommerce\n", "\nscope: ecommerce: print\n")
    result, path = _validate(folder, text)
    assert result.exit_code == ExitCode.CONFIG, result.output
    line = _line(text, "\nscope: ecommerce:") + 1
    assert result.output == (
        f"Error: {path}:{line}:17: not valid YAML: mapping values are not allowed here\n"
    )
    assert "<unicode string>" not in result.output


def test_a_missing_pim_folder_fails_with_the_key_and_the_folder(folder: Path) -> None:
    text = _changed("path: var/demo/pim", "path: var/nowhere/pim")
    result, path = _validate(folder, text)
    assert result.exit_code == ExitCode.CONFIG, result.output
    line = _line(text, "path: var/nowhere/pim")
    expected = f"{path}:{line}: pim.path: folder {folder / 'var/nowhere/pim'} does not exist"
    assert result.output == f"Error: {expected}\n"


def test_an_empty_erp_drop_and_a_missing_lookup_file_are_both_listed(folder: Path) -> None:
    (folder / "var" / "demo" / "erp" / "20261201T060000Z" / "manifest.json").unlink()
    (folder / "var" / "demo" / "erp" / "20261201T060000Z").rmdir()
    text = _changed("google_product_category.csv", "google_category.csv")
    result, path = _validate(folder, text)
    assert result.exit_code == ExitCode.CONFIG, result.output
    lookup = folder / "mappings" / "google_category.csv"
    assert result.output.splitlines() == [
        f"Error: {path}: 2 problems",
        f"{path}:{_line(text, 'path: var/demo/erp')}: erp.path: folder "
        f"{folder / 'var/demo/erp'} is empty: no snapshot has been dropped there yet",
        f"{path}:{_line(text, 'map: {file')}: channels.marketplace.fields.google_product_category"
        f".map.file: lookup file {lookup} does not exist",
    ]


def test_a_missing_credential_fails_without_showing_any_secret(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AKENEO_CLIENT_ID", "AKENEO_CLIENT_SECRET", "AKENEO_USERNAME"):
        monkeypatch.setenv(name, SECRET)
    monkeypatch.delenv("AKENEO_PASSWORD", raising=False)
    monkeypatch.setenv("SAP_TOKEN", SECRET)
    text = _changed(PIM_AND_ERP, LIVE)
    result, path = _validate(folder, text)
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert result.output == (
        f"Error: {path}:{_line(text, 'kind: akeneo')}: pim.kind: kind akeneo reads its "
        "credentials from the environment (AKENEO_CLIENT_ID, AKENEO_CLIENT_SECRET, "
        "AKENEO_USERNAME, AKENEO_PASSWORD): AKENEO_PASSWORD is not set\n"
    )
    assert SECRET not in result.output
    monkeypatch.setenv("AKENEO_PASSWORD", SECRET)
    passed, _ = _validate(folder, text)
    assert passed.exit_code == 0, passed.output
    assert SECRET not in passed.output


HAND_TYPED = """    customers:
      - {id: C1000, name: Baumarkt Nord GmbH, group: retail}
      - {id: C2000, name: Industriebedarf Süd AG, group: wholesale}
"""


def test_the_quoting_customers_can_come_from_the_erp(folder: Path) -> None:
    drop = folder / "var" / "demo" / "erp" / "20261201T060000Z"
    (drop / "customers.csv").write_text("customer_id,customer_group,name,currency,active\n")
    text = _changed(HAND_TYPED, "    customers: {from: erp, groups: [retail], active_only: true}\n")
    result, _ = _validate(folder, text)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("customers", "where", "reason"),
    [
        ("{from: erp, group: [retail]}", "customers.group", "Extra inputs are not permitted"),
        ("{from: sap}", "customers.from", "Input should be 'erp'"),
        ("{from: erp, active_only: maybe}", "customers.active_only", "valid boolean"),
        ("all", "customers", "give a list of customers ({id, name, group}) or a selection"),
    ],
)
def test_a_bad_customer_selection_names_its_line_and_key_path(
    folder: Path, customers: str, where: str, reason: str
) -> None:
    text = _changed(HAND_TYPED, f"    customers: {customers}\n")
    result, path = _validate(folder, text)
    assert result.exit_code == ExitCode.CONFIG, result.output
    line = _line(text, f"customers: {customers}")
    assert f"{path}:{line}: channels.quoting.{where}: " in result.output
    assert reason in result.output


def test_customers_from_the_erp_need_the_drops_customer_file(folder: Path) -> None:
    text = _changed(HAND_TYPED, "    customers: {from: erp}\n")
    result, path = _validate(folder, text)  # the fixture's drop has no customers file
    assert result.exit_code == ExitCode.CONFIG, result.output
    line = _line(text, "customers: {from: erp}")
    drop = folder / "var" / "demo" / "erp" / "20261201T060000Z"
    assert f"{path}:{line}: channels.quoting.customers: from the ERP, but the ERP drop {drop}" in (
        result.output
    )
    (drop / "customers.csv").write_text("customer_id,customer_group,name,currency,active\n")
    result, _ = _validate(folder, text)
    assert result.exit_code == 0, result.output


def test_customers_from_sap_need_a_sales_area(folder: Path) -> None:
    live = LIVE + "  customer_sales_area: null\n"
    text = _changed(PIM_AND_ERP, live)
    text = _changed(HAND_TYPED, "    customers: {from: erp}\n", text)
    result, path = _validate(folder, text)
    assert result.exit_code == ExitCode.CONFIG, result.output
    line = _line(text, "customer_sales_area: null")
    assert f"{path}:{line}: erp.customer_sales_area: null, but channel(s) quoting take" in (
        result.output
    )
