"""Fault drills (tests/fault_drills.py) as tests: a database that dies, damaged reports and
drops, a rollback (the crash drills are in test_drills_crash.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_drills import (
    Workspace,
    corrupt_live_report,
    database_dies_after_the_portal_switch,
    database_dies_before_the_portal_switch,
    deleted_live_report,
    prepare,
    rollback_and_compare,
    truncated_erp_file,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return prepare(tmp_path_factory.mktemp("drills") / "template")


def test_a_database_that_dies_after_the_switch(tmp_path: Path) -> None:
    assert "cleanup reported" in database_dies_after_the_portal_switch(tmp_path / "w")


def test_a_database_that_dies_before_the_switch(tmp_path: Path) -> None:
    assert "stayed live" in database_dies_before_the_portal_switch(tmp_path / "w")


def test_a_deleted_live_report(template: Workspace, tmp_path: Path) -> None:
    assert "tripped product_drop" in deleted_live_report(template, tmp_path / "w")


def test_a_torn_live_report(template: Workspace, tmp_path: Path) -> None:
    assert "published" in corrupt_live_report(template, tmp_path / "w")


@pytest.mark.parametrize("reseal", [False, True], ids=["marker-stale", "marker-resealed"])
def test_a_truncated_erp_file(template: Workspace, tmp_path: Path, reseal: bool) -> None:
    assert "stays live" in truncated_erp_file(template, tmp_path / "w", reseal)


def test_rollback(template: Workspace, tmp_path: Path) -> None:
    assert "the next run compared with" in rollback_and_compare(template, tmp_path / "w")
