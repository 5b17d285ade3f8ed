"""Where the demo files go: the snapshot folder name and the files each side's snapshot holds."""

from __future__ import annotations

import datetime as dt

PIM_FILES = ("products", "product_models", "attributes", "families", "categories")
ERP_FILES = ("prices", "stock", "supply")


def snapshot_id(as_of: dt.date) -> str:
    """The PIM export and ERP snapshot folder name for ``as_of`` (``YYYYMMDDT060000Z``)."""
    return f"{as_of:%Y%m%d}T060000Z"
