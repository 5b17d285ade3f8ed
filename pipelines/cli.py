"""The ``prism`` command: run the pipeline, validate the configuration, make demo data."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from contracts.config import PrismConfig
from contracts.snapshots import SnapshotError, new_snapshot_id
from mapping.expressions import MappingError
from pipelines import publishing
from pipelines.cli_mapping import check_mappings, formats, inspect_pim, preview
from pipelines.cli_options import CONFIG_OPTION, load
from pipelines.publishing import release_run_lock
from sinks.publish import PublishError
from sinks.publish_lock import PublishLockHeld

if TYPE_CHECKING:
    import dagster as dg

T = TypeVar("T")


def _load(config_file: Path) -> PrismConfig:
    return load(config_file)


def _instance() -> dg.DagsterInstance:
    """The persistent instance of ``dagster.yaml`` in the working directory, so `dagster dev`
    shows CLI runs; an ephemeral one when there is none."""
    import dagster as dg

    if "DAGSTER_HOME" not in os.environ and Path("dagster.yaml").is_file():
        os.environ["DAGSTER_HOME"] = str(Path.cwd())
    if "DAGSTER_HOME" in os.environ:
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


@click.group()
def main() -> None:
    """Prism: PIM + ERP -> golden records -> validated, versioned channel feeds."""


@main.command()
@CONFIG_OPTION
@click.option(
    "--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Price/stock date (default today)."
)
@click.option(
    "--full-pull", is_flag=True, help="Live sources pull everything (picks up deletions)."
)
@click.option(
    "--override-breakers",
    is_flag=True,
    help="Publish even if circuit breakers trip (this run only; recorded in the report).",
)
def run(
    config_file: Path, as_of: dt.datetime | None, full_pull: bool, override_breakers: bool
) -> None:
    """Run the whole pipeline once and publish a snapshot."""
    config = _load(config_file)
    import dagster as dg  # only a run needs Dagster: status, recover and rollback start fast

    job = dg.build_reconstructable_job(
        "pipelines.definitions", "job_for", reconstructable_args=(str(config_file.resolve()),)
    )
    with _instance() as instance:
        result = dg.execute_job(
            job,
            instance=instance,
            run_config=run_config(as_of.date() if as_of else None, full_pull, override_breakers),
        )
        report = _report_of(result)
        snapshot_id = _snapshot_of(instance, result.run_id)
    release_run_lock(config, result.run_id)
    _tell_outcome(config, result, snapshot_id, report)


def _snapshot_of(instance: dg.DagsterInstance, run_id: str) -> str | None:
    record = instance.get_run_record_by_id(run_id)
    return new_snapshot_id(record.create_timestamp, run_id) if record else None


def _tell_outcome(
    config: PrismConfig, result: dg.ExecutionResult, snapshot_id: str | None, report: str | None
) -> None:
    """Say what is live now, from the publish directory itself, not from the run's status: a
    run can fail after its switch (the publish stands) or before it (the previous one stays)."""
    state = publishing.status(config).state
    published = snapshot_id is not None and state.files == snapshot_id
    cleanup = _cleanup_errors(result)
    if published:
        click.echo(f"published {snapshot_id} (run {result.run_id})")
        for error in cleanup:
            click.echo(f"cleanup failed: {error}", err=True)
    if state.journal is not None:
        click.echo(f"a switch to {state.journal.target} is pending; run `prism recover`", err=True)
    if report:
        click.echo(f"quality report: {report}")
    if published:
        return
    live = state.files or "nothing"
    raise click.ClickException(f"run {result.run_id} did not publish; {live} stays live")


def _cleanup_errors(result: dg.ExecutionResult) -> list[str]:
    for materialization in result.asset_materializations_for_node("published_snapshot"):
        value = materialization.metadata.get("cleanup_errors")
        return list(value.value) if value is not None else []
    return []


def run_config(as_of: dt.date | None, full_pull: bool, override_breakers: bool) -> dict[str, Any]:
    """The job's run config for the CLI's flags: the run parameters, in-process execution."""
    parameters = {"as_of": as_of.isoformat() if as_of else None, "full_pull": full_pull}
    return {
        "ops": {
            "source_snapshots": {"config": parameters},
            "quality_report": {"config": {"override_breakers": override_breakers}},
        },
        "execution": {"config": {"in_process": {}}},
        "loggers": {"console": {"config": {"log_level": "INFO"}}},
    }


def _report_of(result: dg.ExecutionResult) -> str | None:
    """The report path from the quality_report materialization, if the run got that far."""
    for materialization in result.asset_materializations_for_node("quality_report"):
        return str(materialization.metadata["report"].value)
    return None


@main.command()
@CONFIG_OPTION
@click.option("--verify", is_flag=True, help="Re-hash the live snapshot's files.")
def status(config_file: Path, verify: bool) -> None:
    """Show what is live per channel and portal, the publish lock and recent switches."""
    config = _load(config_file)
    found = publishing.status(config, verify=verify)
    state = found.state
    click.echo(f"files: {state.files or 'nothing live'}")
    for name, live in state.portals.items():
        click.echo(f"portal {name}: {live or 'nothing live'}")
    for name, error in state.portal_errors.items():
        click.echo(f"portal {name}: unreachable ({error})")
    if state.journal is not None:
        journal = state.journal
        click.echo(
            f"pending: {journal.action} of {journal.target} from {journal.previous or 'nothing'} "
            f"(run {journal.run_id}, {journal.started_at}); run `prism recover`"
        )
    if found.lock is not None:
        lock = found.lock
        click.echo(f"publish lock: run {lock.run_id} on {lock.host} since {lock.since}")
    click.echo(f"kept snapshots: {', '.join(found.snapshots) or 'none'}")
    for entry in found.history[-5:]:
        click.echo(f"history: {entry.get('at')} {entry.get('action')} {entry.get('snapshot')}")
    for problem in found.problems:
        click.echo(f"verification failed: {problem}", err=True)
    if not state.consistent or found.problems:
        raise click.ClickException("files and portals do not name one complete snapshot")


@main.command()
@CONFIG_OPTION
def recover(config_file: Path) -> None:
    """Roll back a switch that a crash left half done, so files and portals agree again."""
    config = _load(config_file)
    done = _publish_operation(lambda: publishing.recover_now(config))
    click.echo(done or "nothing to recover")


@main.command()
@CONFIG_OPTION
@click.argument("snapshot", required=False)
def rollback(config_file: Path, snapshot: str | None) -> None:
    """Make a kept earlier SNAPSHOT live again (default: the one before the live one)."""
    config = _load(config_file)
    outcome = _publish_operation(lambda: publishing.rollback_now(config, snapshot))
    click.echo(f"rolled back: {outcome.snapshot_id} is live (was {outcome.previous or 'nothing'})")


def _publish_operation(action: Callable[[], T]) -> T:
    try:
        return action()
    except (PublishError, PublishLockHeld, SnapshotError) as error:
        raise click.ClickException(str(error)) from None


@main.command("validate-config")
@CONFIG_OPTION
def validate_config(config_file: Path) -> None:
    """Check the configuration file; exit 1 with the key path and reason when invalid."""
    config = _load(config_file)
    try:
        against = check_mappings(config)
    except MappingError as error:
        raise click.ClickException(f"{config_file}: {error}") from None
    channels = ", ".join(f"{n} ({c.format})" for n, c in config.channels.items())
    click.echo(f"{config_file}: valid; channels: {channels}; mappings checked against {against}")


@main.command("demo-data")
@click.option(
    "--target",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/demo"),
    show_default=True,
    help="Folder to write under: the PIM export goes to a new TARGET/pim/<id>/, the ERP "
    "snapshot to TARGET/erp/<id>/ (prism.yaml reads the newest).",
)
@click.option(
    "--products",
    type=click.IntRange(min=1),
    default=3000,
    show_default=True,
    help="Number of PIM products, about a third of them variants of product models.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=42,
    show_default=True,
    help="Random seed; the same seed, products, as-of date and format write the same files, "
    "and more products with the same seed start with the same ones.",
)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    show_default="today, UTC",
    help="Day that price validity, stock receipts and update timestamps are relative to.",
)
@click.option(
    "--pim-format",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="PIM export format: Akeneo REST items as JSON lines, or Akeneo's ;-separated CSV export.",
)
def demo_data(
    target: Path, products: int, seed: int, as_of: dt.datetime | None, pim_format: str
) -> None:
    """Generate the deterministic demo catalog (PIM export + ERP snapshot) under TARGET.

    Each call writes new snapshot folders TARGET/pim/<id>/ and TARGET/erp/<id>/ (the newest is
    what `prism run` reads) and keeps the previous ones for a run that may be reading them; older
    ones are deleted. A bigger catalog with the same seed starts with the same products.
    """
    from demo import generate_demo_data

    try:
        summary = generate_demo_data(
            target,
            products=products,
            seed=seed,
            as_of=as_of.date() if as_of else None,
            pim_format=pim_format,  # type: ignore[arg-type]
        )
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    click.echo(summary.describe())


main.add_command(preview)
main.add_command(formats)
main.add_command(inspect_pim)
