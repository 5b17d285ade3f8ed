"""Inputs and credentials a run needs, checked before it starts, each problem at its key."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import default_config

from contracts.config import parse_config
from contracts.config_problems import Problem
from sources.preflight import drop_problem, input_problems

SECRET = "s3cr3t-value"
AKENEO = ("AKENEO_CLIENT_ID", "AKENEO_CLIENT_SECRET", "AKENEO_USERNAME", "AKENEO_PASSWORD")


def _drops(tmp_path: Path) -> dict[str, object]:
    data = default_config()
    for side in ("pim", "erp"):
        snapshot = tmp_path / side / "20261201T060000Z"
        snapshot.mkdir(parents=True)
        (snapshot / "manifest.json").write_text("{}", encoding="utf-8")
        data[side]["path"] = str(tmp_path / side)
    return data


def test_a_complete_configuration_has_no_problems(tmp_path: Path) -> None:
    assert input_problems(parse_config(_drops(tmp_path)), {}) == []


def test_a_sharded_run_needs_the_pim_products_as_json_lines(tmp_path: Path) -> None:
    data = _drops(tmp_path)
    data["execution"] = {"shards": 4}
    (tmp_path / "pim" / "20261201T060000Z" / "products.jsonl").write_text("", encoding="utf-8")
    assert input_problems(parse_config(data), {}) == []
    (tmp_path / "pim" / "20261201T060000Z" / "products.jsonl").rename(
        tmp_path / "pim" / "20261201T060000Z" / "products.csv"
    )
    [problem] = input_problems(parse_config(data), {})
    assert problem.loc == ("execution", "shards")
    assert "products.csv" in problem.reason


def test_a_drop_folder_must_exist_and_hold_a_complete_snapshot(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert drop_problem(missing, "pim", "manifest.json") == f"folder {missing} does not exist"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "is empty: no snapshot has been dropped there yet" in str(
        drop_problem(empty, "pim", "manifest.json")
    )
    (empty / "20261201T060000Z").mkdir()  # being copied: no ready marker yet
    assert "no complete snapshot folder (with a manifest.json)" in str(
        drop_problem(empty, "erp", "manifest.json")
    )
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    assert "is a file, not a folder" in str(drop_problem(a_file, "erp", None))


def test_every_missing_input_is_named_by_its_key_path(tmp_path: Path) -> None:
    data = _drops(tmp_path)
    data["pim"]["path"] = str(tmp_path / "no-pim")
    lookup = data["channels"]["marketplace"]["fields"]["google_product_category"]["map"]
    lookup["file"] = str(tmp_path / "gone.csv")
    problems = input_problems(parse_config(data), {})
    assert problems == [
        Problem(("pim", "path"), f"folder {tmp_path / 'no-pim'} does not exist"),
        Problem(
            ("channels", "marketplace", "fields", "google_product_category", "map", "file"),
            f"lookup file {tmp_path / 'gone.csv'} does not exist",
        ),
    ]


def test_live_sources_need_their_credentials_and_never_show_them(tmp_path: Path) -> None:
    data = _drops(tmp_path)
    data["pim"] = {"kind": "akeneo", "base_url": "https://pim.example.com", "store": "s"}
    data["erp"] = {
        "kind": "sap",
        "base_url": "https://sap.example.com",
        "root": "r",
        "plants": {"1000": "main"},
        "auth": "bearer",
    }
    environ = {"AKENEO_CLIENT_ID": SECRET, "AKENEO_CLIENT_SECRET": "", "SAP_USER": SECRET}
    problems = input_problems(parse_config(data), environ)
    assert [p.loc for p in problems] == [("pim", "kind"), ("erp", "auth")]
    assert problems[0].reason == (
        "kind akeneo reads its credentials from the environment (AKENEO_CLIENT_ID, "
        "AKENEO_CLIENT_SECRET, AKENEO_USERNAME, AKENEO_PASSWORD): AKENEO_CLIENT_SECRET is "
        "empty, AKENEO_USERNAME is not set, AKENEO_PASSWORD is not set"
    )
    assert problems[1].reason == (
        "auth bearer reads its credentials from the environment (SAP_TOKEN): SAP_TOKEN is not set"
    )
    assert all(SECRET not in p.reason for p in problems)
    complete = dict.fromkeys([*AKENEO, "SAP_TOKEN"], SECRET)
    assert input_problems(parse_config(data), complete) == []


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ("basic", {"user": "SAP_USER", "password": "SAP_PASSWORD"}),
        ("bearer", {"token": "SAP_TOKEN"}),
    ],
)
def test_the_sap_credentials_follow_its_auth(auth: str, expected: dict[str, str]) -> None:
    """One place names the variables: the Dagster resources bind the same ones."""
    data = default_config()
    data["erp"] = {"kind": "sap", "base_url": "http://h", "root": "r", "plants": {"1": "W"}}
    data["erp"]["auth"] = auth
    erp = parse_config(data).erp
    assert erp.credential_variables() == expected  # type: ignore[union-attr]
