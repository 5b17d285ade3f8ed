"""The demo ERP's customer master (``customers.csv``): the customers the ERP's group and
customer price rows are for (``demo.render_erp``), plus a few more.

C1000 (retail) and C2000 (wholesale) have their own customer prices; C3000 (retail) and C4000
(wholesale) only their group's; C6000 has no price group (list prices only); C5000 is inactive
(gets no catalog); 0000100042 keeps SAP's leading zeros. ``extra_customers`` of
``generate_demo_data`` appends more active ones (``customers``), e.g. for a bench of 10 catalogs.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from contracts.customers import CUSTOMER_COLUMNS

CUSTOMERS = (
    ("C1000", "retail", "Baumarkt Nord GmbH", "EUR", "true"),
    ("C2000", "wholesale", "Industriebedarf Süd AG", "EUR", "true"),
    ("C3000", "retail", "Werkzeughandel West KG", "EUR", "true"),
    ("C4000", "wholesale", "Großhandel Ost GmbH", "EUR", "true"),
    ("C5000", "retail", "Heimwerkerbedarf Alt OHG", "EUR", "false"),
    ("C6000", "", "Einzelkunde Meier", "EUR", "true"),
    ("0000100042", "wholesale", "Export Partners Ltd", "USD", "true"),
)


def customers(extra: int = 0) -> tuple[tuple[str, str, str, str, str], ...]:
    """``CUSTOMERS`` plus ``extra`` active customers (``K0001``...; retail and wholesale in
    turn, group prices only), for benchmarks that fan a quoting channel out to more."""
    more = tuple(
        (f"K{i:04d}", ("retail", "wholesale")[i % 2], f"Kunde {i}", "EUR", "true")
        for i in range(1, extra + 1)
    )
    return CUSTOMERS + more


def active_ids(extra: int = 0) -> list[str]:
    """The ids of the active customers (those that get a catalog), in the master's order."""
    return [row[0] for row in customers(extra) if row[4] == "true"]


def write_customers(path: Path, extra: int = 0) -> int:
    """Write the customer master (``customers(extra)``) as CSV; returns its rows."""
    frame = pl.DataFrame(list(customers(extra)), schema=list(CUSTOMER_COLUMNS), orient="row")
    frame.write_csv(path)
    return frame.height
