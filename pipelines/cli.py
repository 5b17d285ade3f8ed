"""The ``prism`` command: run the pipeline, validate the configuration, make demo data."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from contracts.config import ConfigError, PrismConfig
from contracts.config_problems import from_message
from contracts.snapshots import SnapshotError
from mapping.expressions import MappingError
from pipelines import publishing
from pipelines.cli_mapping import check_mappings, formats, inspect_pim, preview
from pipelines.cli_options import CONFIG_OPTION, load, read
from pipelines.cli_run import run
from pipelines.cli_serve import serve
from pipelines.cli_worker import worker
from pipelines.exit_codes import ExitCode
from sinks.delivery import DeliveryError, Receipt
from sinks.publish import PublishError
from sinks.publish_lock import PublishLockHeld
from sources.preflight import input_problems

T = TypeVar("T")


def _load(config_file: Path) -> PrismConfig:
    return load(config_file)


EPILOG = """\b
Exit codes:
  0  OK        the snapshot was published (or the command did what it said)
  1  INTERNAL  an unexpected error; --verbose shows the stack trace
  2  USAGE     an unknown option or a bad argument
  3  CONFIG    the configuration file is missing, not YAML, or not valid
  4  INPUT     an input (PIM or ERP drop, live source) is missing, damaged or refused
  5  BREAKER   a circuit breaker (or a blocking feed check) stopped the publish;
               the previous snapshot stays live
  6  LOCK      another run or operation holds the publish lock
  7  PUBLISH   the publish itself failed; the previous snapshot stays live
  8  DELIVERY  a push to a channel's target failed; the snapshot stays live
               (the next run or `prism deliver` retries it)
"""


class PrismGroup(click.Group):
    """Gives configuration problems their exit code, whichever command loads the file."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            raise ConfigProblem(str(error)) from None
        except click.ClickException as error:
            if isinstance(error.__context__, ConfigError | MappingError):
                raise ConfigProblem(error.format_message()) from None
            raise


class ConfigProblem(click.ClickException):
    exit_code = ExitCode.CONFIG


class LockProblem(click.ClickException):
    exit_code = ExitCode.LOCK


class PublishProblem(click.ClickException):
    exit_code = ExitCode.PUBLISH


class DeliveryProblem(click.ClickException):
    exit_code = ExitCode.DELIVERY


@click.group(
    cls=PrismGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(package_name="prism", prog_name="prism", message="%(prog)s %(version)s")
def main() -> None:
    """Prism: PIM + ERP -> golden records -> validated, versioned channel feeds."""


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
    for (channel, index), receipt in found.deliveries.items():
        click.echo(f"delivery {channel}[{index}]: {describe_receipt(receipt)}")
    for problem in found.problems:
        click.echo(f"verification failed: {problem}", err=True)
    if not state.consistent or found.problems:
        raise click.ClickException("files and portals do not name one complete snapshot")


def describe_receipt(receipt: Receipt | None) -> str:
    """One line for a receipt: where, which snapshot, how it ended (never a credential)."""
    if receipt is None:
        return "never delivered"
    what = f"{receipt.destination} {receipt.outcome} {receipt.snapshot_id}"
    size = f"{len(receipt.files)} file(s), {receipt.bytes} bytes"
    line = f"{what} at {receipt.finished_at} ({size}, {receipt.attempts} attempt(s))"
    return f"{line}: {receipt.error}" if receipt.error else line


@main.command()
@CONFIG_OPTION
@click.argument("channel")
@click.option(
    "--target",
    "target",
    type=click.IntRange(min=0),
    help="Only the channel's target N (its index under channels.CHANNEL.deliver, from 0).",
)
@click.option("--force", is_flag=True, help="Send again to targets that already have it.")
def deliver(config_file: Path, channel: str, target: int | None, force: bool) -> None:
    """Push the live snapshot to CHANNEL's delivery targets that do not have it yet (after a
    failed delivery); each attempt's receipt is recorded and shown by `prism status`.
    Exit 8 if a target still failed; the snapshot stays live either way."""
    config = _load(config_file)
    targets = config.deliveries().get(channel)
    if not targets:
        known = ", ".join(config.deliveries()) or "none"
        msg = f"channel {channel!r} has no delivery targets (channels with targets: {known})"
        raise click.BadParameter(msg, param_hint="CHANNEL")
    if target is not None and target >= len(targets):
        msg = f"channel {channel!r} has {len(targets)} target(s): 0 to {len(targets) - 1}"
        raise click.BadParameter(msg, param_hint="--target")
    try:
        receipts = publishing.deliver_now(config, channel, target, os.environ, force)
    except DeliveryError as error:
        raise DeliveryProblem(str(error)) from None
    if not receipts:
        click.echo(f"{channel}: every target has the live snapshot (--force sends it again)")
    for receipt in receipts:
        click.echo(f"delivery {channel}[{receipt.target}]: {describe_receipt(receipt)}")
    failed = [r for r in receipts if not r.ok]
    if failed:
        msg = f"{len(failed)} of {len(receipts)} deliveries failed; the snapshot stays live"
        raise DeliveryProblem(msg)


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
    except PublishLockHeld as error:
        raise LockProblem(str(error)) from None
    except (PublishError, SnapshotError) as error:
        raise PublishProblem(str(error)) from None


@main.command("validate-config")
@CONFIG_OPTION
def validate_config(config_file: Path) -> None:
    """Check the configuration file, the inputs it names (file-drop folders holding a
    snapshot, lookup files), the credentials the live sources need in the environment and the
    channels' mappings. Lists every problem with its file, line and key path (exit 3)."""
    loaded = read(config_file)
    config = loaded.config
    problems = input_problems(config, os.environ)
    try:
        against = check_mappings(config)
    except MappingError as error:
        found = [from_message(line) for line in str(error).splitlines()]
        known = {p.loc for p in problems}  # e.g. a missing lookup file: once, not twice
        problems += [p for p in found if p.loc not in known]
    if problems:
        raise loaded.error(problems)
    channels = ", ".join(f"{n} ({c.format})" for n, c in config.channels.items())
    click.echo(
        f"{config_file}: valid; channels: {channels}; inputs and credentials present; "
        f"mappings checked against {against}"
    )


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


main.add_command(run)
main.add_command(serve)
main.add_command(worker)
main.add_command(preview)
main.add_command(formats)
main.add_command(inspect_pim)
