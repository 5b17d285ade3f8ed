"""Fault drills: crash, race and damage Prism the way production does, through the `prism`
command in child processes, and check that what channels see stays one complete snapshot.

Run them all, one line per drill::

    .venv/bin/python tests/fault_drills.py
    # or: pytest tests/test_drills_crash.py tests/test_drills_damage.py

Each drill starts from a published snapshot (a small demo catalog), does its damage, runs the
next Prism command, and then checks: the files' ``current`` and every portal name the same
snapshot, no switch is pending, and that snapshot's files match its manifest (sha256, size) and
its row counts (records per file, rows per portal view).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

TESTS = Path(__file__).parent
# Run as a script, tests/ comes first on sys.path, and its folders (tests/demo, ...) would hide
# the packages they test: the repository goes first, tests/ after it for the test helpers.
sys.path[:0] = [str(TESTS.parent), str(TESTS)]

from factories import workspace_config  # noqa: E402
from portals import POSTGRES  # noqa: E402
from servers.tcp_proxy import tcp_proxy  # noqa: E402

from demo import generate_demo_data  # noqa: E402
from sources.drops import write_marker  # noqa: E402

AS_OF = "2026-11-22"
PRISM = Path(sys.executable).parent / "prism"
KILL_POINTS = (
    "publish.sealed",
    "publish.journal_written",
    "publish.after_portal_switch",
    "publish.after_files_switch",
    "publish.journal_cleared",
)


@dataclass
class Workspace:
    """A deployment: demo drops, a prism.yaml, a publish directory, a portal database."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "prism.yaml"

    @property
    def feeds(self) -> Path:
        return self.root / "feeds"

    def settings(self) -> dict[str, Any]:
        return yaml.safe_load(self.config.read_text(encoding="utf-8"))

    def write_settings(self, data: dict[str, Any]) -> None:
        self.config.write_text(yaml.safe_dump(data), encoding="utf-8")

    def prism(self, *args: str, fault: str | None = None, wait: bool = True) -> Any:
        """Run ``prism <args> --config ...`` in a child process (``fault``: PRISM_FAULT)."""
        env = {k: v for k, v in os.environ.items() if k not in {"PRISM_FAULT", "PRISM_CONFIG"}}
        env["DAGSTER_HOME"] = str(self.root / "dagster")
        if fault:
            env["PRISM_FAULT"] = fault
        command = [str(PRISM), *args, "--config", str(self.config)]
        if args[0] == "run":
            command += ["--as-of", AS_OF]
        if not wait:
            return subprocess.Popen(
                command, cwd=self.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
        return subprocess.run(command, cwd=self.root, env=env, capture_output=True, text=True)

    def live(self) -> str | None:
        link = self.feeds / "current"
        return os.readlink(link).rsplit("/", 1)[-1] if link.is_symlink() else None

    def portal_live(self) -> str | None:
        engine = sa.create_engine(self.settings()["channels"]["portal"]["url"])
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text("SELECT snapshot_id FROM prism_snapshot")).scalar()
        finally:
            engine.dispose()


def prepare(root: Path, portal_url: str | None = None) -> Workspace:
    """Demo drops and a first published snapshot under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    generate_demo_data(root / "data", products=150, seed=5, as_of=dt.date.fromisoformat(AS_OF))
    data = workspace_config(root)
    if portal_url:
        data["channels"]["portal"]["url"] = portal_url
    data["quality"] = {"freshness_hours": {"pim": None, "erp": None}}
    workspace = Workspace(root)
    workspace.write_settings(data)
    (root / "dagster").mkdir(exist_ok=True)
    first = workspace.prism("run")
    assert first.returncode == 0, first.stdout + first.stderr
    return workspace


def copy_of(template: Workspace, root: Path) -> Workspace:
    shutil.copytree(template.root, root, symlinks=True)
    workspace = Workspace(root)
    text = template.config.read_text(encoding="utf-8").replace(str(template.root), str(root))
    workspace.config.write_text(text, encoding="utf-8")
    return workspace


# --- what must hold after every drill ---------------------------------------------------------


def assert_one_complete_snapshot(workspace: Workspace) -> str:
    """Files and portal name the same snapshot, nothing pending, files and rows as sealed."""
    status = workspace.prism("status", "--verify")
    assert status.returncode == 0, status.stdout + status.stderr
    live = workspace.live()
    assert live is not None
    assert workspace.portal_live() == live
    assert not (workspace.feeds / "publish.journal").exists()
    manifest = json.loads((workspace.feeds / "current" / "manifest.json").read_text())
    for feed in manifest["files"]:
        if feed["kind"] == "file":
            path = workspace.feeds / "current" / feed["path"]
            assert _records(path) == feed["rows"], feed["path"]
    engine = sa.create_engine(workspace.settings()["channels"]["portal"]["url"])
    try:
        with engine.connect() as conn:
            for feed in (f for f in manifest["files"] if f["kind"] == "table"):
                count = conn.execute(sa.text(f"SELECT count(*) FROM {feed['path']}")).scalar()
                assert count == feed["rows"], feed["path"]
    finally:
        engine.dispose()
    return live


def _records(path: Path) -> int:
    """Products (or rows) in a published file, counted from the file itself: a JSON-LD line is
    one ``Product`` or a ``ProductGroup`` holding its variants; a CSV record (header not
    counted, read with the delimiter its header uses); an RSS ``<item>``; a BMEcat product."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        objects = [json.loads(line) for line in text.splitlines() if line.strip()]
        return sum(len(o["hasVariant"]) if o.get("@type") == "ProductGroup" else 1 for o in objects)
    if path.suffix == ".csv":
        header = text.lstrip("\ufeff").split("\n", 1)[0]
        delimiter = max(";,\t|", key=header.count)
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return sum(1 for _ in csv.reader(handle, delimiter=delimiter)) - 1
    if "<rss" in text[:500]:
        return text.count("<item>")
    return text.count('<PRODUCT mode="new">')


# --- the drills --------------------------------------------------------------------------------


def kill_during_publish(template: Workspace, root: Path, point: str) -> str:
    """SIGKILL at ``point`` of the switch, then the next command puts everything right."""
    workspace = copy_of(template, root)
    before = workspace.live()
    killed = workspace.prism("run", fault=f"{point}:kill")
    assert killed.returncode == -9, killed.stdout[-2000:] + killed.stderr[-2000:]
    following = workspace.prism("recover")
    assert following.returncode == 0, following.stdout + following.stderr
    live = assert_one_complete_snapshot(workspace)
    completed = point == "publish.journal_cleared"  # the switch was complete before the kill
    assert (live != before) == completed, (point, before, live)
    return f"killed at {point}: {following.stdout.strip()}; {live} live on files and portal"


def concurrent_runs(template: Workspace, root: Path) -> str:
    """Run A pauses after its portal switch; run B is refused by the lock, then runs after A."""
    workspace = copy_of(template, root)
    release = root / "release-a"
    first = workspace.prism("run", fault=f"publish.after_portal_switch:pause:{release}", wait=False)
    try:
        _wait_for(Path(f"{release}.reached"))
        second = workspace.prism("run")
        assert second.returncode != 0
        assert "another run holds the publish lock since" in second.stdout + second.stderr
    finally:
        release.touch()
        output = first.communicate(timeout=300)[0].decode()
    assert first.returncode == 0, output[-3000:]
    after_a = assert_one_complete_snapshot(workspace)
    again = workspace.prism("run")
    assert again.returncode == 0, again.stdout + again.stderr
    after_b = assert_one_complete_snapshot(workspace)
    assert after_b != after_a
    return f"B refused while A held the lock; A published {after_a}, then B published {after_b}"


def database_dies_after_the_portal_switch(root: Path) -> str:
    """The portal's PostgreSQL goes away right after the switch: the publish stands (files
    switch needs no database), cleanup fails and says so, and nothing claims a failure."""
    with _postgres_schema() as (url, host_port), tcp_proxy(host_port) as proxy:
        proxied = url.replace(f"{host_port[0]}:{host_port[1]}", f"127.0.0.1:{proxy.port}")
        workspace = prepare(root, proxied)
        release = root / "release"
        run = workspace.prism(
            "run", fault=f"publish.after_portal_switch:pause:{release}", wait=False
        )
        _wait_for(Path(f"{release}.reached"))
        proxy.cut()
        release.touch()
        output = run.communicate(timeout=300)[0].decode()
        assert run.returncode == 0, output[-3000:]
        assert "cleanup failed" in output
        proxy.restore()
        live = assert_one_complete_snapshot(workspace)
    return f"published {live} although the database died after the switch; cleanup reported"


def database_dies_before_the_portal_switch(root: Path) -> str:
    """The database is gone when the switch starts: nothing switches, the CLI says so."""
    with _postgres_schema() as (url, host_port), tcp_proxy(host_port) as proxy:
        proxied = url.replace(f"{host_port[0]}:{host_port[1]}", f"127.0.0.1:{proxy.port}")
        workspace = prepare(root, proxied)
        before = workspace.live()
        release = root / "release"
        run = workspace.prism("run", fault=f"publish.journal_written:pause:{release}", wait=False)
        _wait_for(Path(f"{release}.reached"))
        proxy.cut()
        release.touch()
        output = run.communicate(timeout=300)[0].decode()
        assert run.returncode != 0
        assert f"did not publish; {before} stays live" in output
        proxy.restore()
        assert assert_one_complete_snapshot(workspace) == before
    return f"switch refused by a dead database; {before} stayed live and the CLI said so"


def deleted_live_report(template: Workspace, root: Path) -> str:
    """Without the live snapshot's report the drop breaker still sees a 90 % drop."""
    workspace = copy_of(template, root)
    before = workspace.live()
    assert before is not None
    shutil.rmtree(workspace.feeds / "reports" / before)
    _keep_products(workspace, 0.1)
    blocked = workspace.prism("run")
    assert blocked.returncode != 0
    assert workspace.live() == before
    summary = _latest_summary(workspace)
    assert {b["name"] for b in summary["breakers"] if b["tripped"]} >= {"product_drop"}
    assert_one_complete_snapshot(workspace)
    return f"report of {before} deleted: a 90 % drop still tripped product_drop; {before} live"


def corrupt_live_report(template: Workspace, root: Path) -> str:
    """A torn summary.json of the live snapshot never blocks later runs."""
    workspace = copy_of(template, root)
    before = workspace.live()
    assert before is not None
    summary = workspace.feeds / "reports" / before / "summary.json"
    summary.write_text(summary.read_text()[:40], encoding="utf-8")
    following = workspace.prism("run")
    assert following.returncode == 0, following.stdout + following.stderr
    live = assert_one_complete_snapshot(workspace)
    assert live != before
    return f"torn summary of {before} skipped; {live} published"


def truncated_erp_file(template: Workspace, root: Path, reseal: bool) -> str:
    """prices.csv cut inside its last row: the run fails naming the file; nothing changes."""
    workspace = copy_of(template, root)
    before = workspace.live()
    folder = next((root / "data" / "erp").iterdir())
    prices = folder / "prices.csv"
    prices.write_bytes(prices.read_bytes()[:-4])
    if reseal:  # the producer sealed the cut file (so only the file itself can tell)
        write_marker(folder, {})
    failed = workspace.prism("run")
    assert failed.returncode != 0
    expected = "prices.csv:" if reseal else "prices.csv"
    assert expected in failed.stdout + failed.stderr
    assert assert_one_complete_snapshot(workspace) == before
    reason = "no final newline" if reseal else "size differs from its ready marker"
    return f"cut prices.csv refused ({reason}); {before} stays live"


def rollback_and_compare(template: Workspace, root: Path) -> str:
    """`prism rollback` makes the previous snapshot live; the next run compares with it."""
    workspace = copy_of(template, root)
    first = workspace.live()
    second_run = workspace.prism("run")
    assert second_run.returncode == 0, second_run.stdout + second_run.stderr
    second = workspace.live()
    rolled = workspace.prism("rollback")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert assert_one_complete_snapshot(workspace) == first
    third = workspace.prism("run")
    assert third.returncode == 0, third.stdout + third.stderr
    assert _latest_summary(workspace)["previous_snapshot"] == first
    return f"rolled back {second} -> {first}; the next run compared with {first}"


# --- helpers -----------------------------------------------------------------------------------


def _keep_products(workspace: Workspace, share: float) -> None:
    folder = next((workspace.root / "data" / "pim").iterdir())
    path = folder / "products.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[: max(1, int(len(lines) * share))]), encoding="utf-8")
    write_marker(folder, {})


def _latest_summary(workspace: Workspace) -> dict[str, Any]:
    reports = sorted((workspace.feeds / "reports").iterdir())
    return json.loads((reports[-1] / "summary.json").read_text(encoding="utf-8"))


def _wait_for(path: Path, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            msg = f"{path} did not appear within {seconds} s"
            raise TimeoutError(msg)
        time.sleep(0.05)


@contextmanager
def _postgres_schema() -> Iterator[tuple[str, tuple[str, int]]]:
    """A throwaway schema; the URL to it and the server's host and port."""
    schema = f"prism_drill_{secrets.token_hex(4)}"
    admin = sa.create_engine(POSTGRES)
    url = sa.make_url(POSTGRES)
    try:
        with admin.begin() as conn:
            conn.execute(sa.schema.CreateSchema(schema))
        yield (
            f"{POSTGRES}?options=-csearch_path%3D{schema}",
            (url.host or "127.0.0.1", url.port or 5432),
        )
    finally:
        with admin.begin() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
        admin.dispose()


def drills(template: Workspace, scratch: Path) -> list[tuple[str, Callable[[], str]]]:
    """Every drill as (name, run), each in its own folder under ``scratch``."""
    found: list[tuple[str, Callable[[], str]]] = [
        (f"kill -9 at {p}", lambda p=p: kill_during_publish(template, scratch / p, p))  # type: ignore[misc]
        for p in KILL_POINTS
    ]
    found += [
        ("two runs at once", lambda: concurrent_runs(template, scratch / "concurrent")),
        ("database dies after the switch", lambda: database_dies_after_the_portal_switch(
            scratch / "db-after")),
        ("database dies before the switch", lambda: database_dies_before_the_portal_switch(
            scratch / "db-before")),
        ("live report deleted", lambda: deleted_live_report(template, scratch / "no-report")),
        ("live report torn", lambda: corrupt_live_report(template, scratch / "torn-report")),
        ("ERP file cut, marker stale", lambda: truncated_erp_file(
            template, scratch / "cut-stale", reseal=False)),
        ("ERP file cut, marker resealed", lambda: truncated_erp_file(
            template, scratch / "cut-sealed", reseal=True)),
        ("rollback", lambda: rollback_and_compare(template, scratch / "rollback")),
    ]  # fmt: skip
    return found


def main() -> int:
    """Run every drill; one line each; exit 1 if any failed."""
    failures = 0
    with tempfile.TemporaryDirectory(prefix="prism-drills-") as folder:
        scratch = Path(folder)
        template = prepare(scratch / "template")
        for name, run in drills(template, scratch):
            started = time.monotonic()
            try:
                outcome = run()
            except Exception as error:
                failures += 1
                outcome = f"FAILED: {type(error).__name__}: {str(error)[:300]}"
            print(f"{name:<34} {time.monotonic() - started:5.1f} s  {outcome}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
