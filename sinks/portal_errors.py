"""The errors every portal database raises (SQL and DuckDB alike), so the publish step and
the run's failure report handle one contract."""

from __future__ import annotations


class PortalError(RuntimeError):
    """A portal snapshot cannot be loaded or activated; the live snapshot is untouched."""


class LiveSnapshotMoved(PortalError):
    """The portal's live snapshot is not the one the switch expected (another publish won)."""


def moved(found: str | None, expected: str | None, target: str | None) -> LiveSnapshotMoved:
    return LiveSnapshotMoved(
        f"portal live snapshot is {found or 'nothing'}, expected {expected or 'nothing'}; "
        f"not switching to {target or 'nothing'} (another publish changed it)"
    )
