"""Fault drills (tests/fault_drills.py) as tests: kill -9 at each point of the publish and two
runs at once (the damage drills are in test_drills_damage.py, so both run in parallel)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_drills import (
    KILL_POINTS,
    Workspace,
    concurrent_runs,
    kill_during_publish,
    prepare,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return prepare(tmp_path_factory.mktemp("drills") / "template")


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_9_during_the_publish(template: Workspace, tmp_path: Path, point: str) -> None:
    assert "live on files and portal" in kill_during_publish(template, tmp_path / "w", point)


def test_two_runs_at_once(template: Workspace, tmp_path: Path) -> None:
    assert "B refused" in concurrent_runs(template, tmp_path / "w")
