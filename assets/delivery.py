"""The ``deliveries`` asset: after a publish, push the live snapshot to the channels' targets.

A separate asset downstream of ``published_snapshot`` rather than a step inside it: the
publish's success is decided and recorded before any push starts, a push that fails (or a
delivery step that crashes) cannot turn a publish into a failed one, and the asset can be
re-materialized alone to retry. A failed target is reported (receipt in the metadata, a WARN
check, a warning in the log), never raised; it stays owed the live snapshot and the next run or
``prism deliver`` sends it (``sinks.delivery.pending``).
"""

from typing import Any

import dagster as dg

from assets.catalog import spec_args
from assets.publish import PUBLISH_GROUP
from assets.resources import DeliveryResource, FeedStoreResource
from contracts.config import PrismConfig
from sinks.delivery import DeliveryError, Receipt, deliver_live

DELIVERED_CHECK = "delivered"


def delivery_variables(config: PrismConfig) -> list[str]:
    """Every environment variable a push target of ``config`` reads."""
    names = [
        variable
        for targets in config.deliveries().values()
        for target in targets
        for variable in target.credential_variables().values()
    ]
    return sorted(set(names))


def build_delivery_assets(config: PrismConfig) -> list[dg.AssetsDefinition]:
    """The ``deliveries`` asset, if some channel has push targets (else none)."""
    if not config.deliveries():
        return []

    @dg.asset(
        group_name=PUBLISH_GROUP,
        deps=["published_snapshot"],
        check_specs=[dg.AssetCheckSpec(DELIVERED_CHECK, asset="deliveries")],
        **spec_args(config, "publish", {"sftp", "http"}),
    )
    def deliveries(
        context: dg.AssetExecutionContext,
        feed_store: FeedStoreResource,
        delivery: DeliveryResource,
    ) -> dg.MaterializeResult:
        """Pushes the live snapshot to every channel target still owed it (SFTP, HTTP), with
        retries; one receipt per channel and target. Never fails for a failed push."""
        try:
            receipts = deliver_live(feed_store.store(), config.deliveries(), delivery.environ())
        except DeliveryError as error:  # nothing live (the publish did not happen)
            context.log.warning("no delivery: %s", error)
            receipts = []
        failed = [r for r in receipts if not r.ok]
        for receipt in failed:
            context.log.warning(
                "delivery of %s to %s failed (the snapshot stays live; the next run or "
                "`prism deliver %s` retries it): %s",
                receipt.channel,
                receipt.destination,
                receipt.channel,
                receipt.error,
            )
        return dg.MaterializeResult(
            metadata=_metadata(receipts),
            check_results=[
                dg.AssetCheckResult(
                    check_name=DELIVERED_CHECK,
                    passed=not failed,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"failed": [f"{r.channel}[{r.target}]" for r in failed]},
                )
            ],
        )

    return [deliveries]


def _metadata(receipts: list[Receipt]) -> dict[str, Any]:
    return {
        "delivered": sum(r.ok for r in receipts),
        "failed": sum(not r.ok for r in receipts),
        "receipts": dg.MetadataValue.json([_row(r) for r in receipts]),
    }


def _row(receipt: Receipt) -> dict[str, Any]:
    return {
        "channel": receipt.channel,
        "target": receipt.target,
        "destination": receipt.destination,
        "snapshot_id": receipt.snapshot_id,
        "outcome": receipt.outcome,
        "bytes": receipt.bytes,
        "files": {f.name: f.sha256 for f in receipt.files},
        "started_at": receipt.started_at,
        "finished_at": receipt.finished_at,
        "attempts": receipt.attempts,
        "error": receipt.error,
    }
