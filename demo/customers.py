"""The demo ERP's customer master (``customers.csv``): the customers the ERP's group and
customer price rows are for (``demo.render_erp``), plus a few more.

C1000 (retail) and C2000 (wholesale) have their own customer prices; C3000 (retail) and C4000
(wholesale) only their group's; C6000 has no price group (list prices only); C5000 is inactive
(gets no catalog); 0000100042 keeps SAP's leading zeros.
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


def write_customers(path: Path) -> int:
    """Write the customer master as CSV; returns its rows."""
    frame = pl.DataFrame(list(CUSTOMERS), schema=list(CUSTOMER_COLUMNS), orient="row")
    frame.write_csv(path)
    return frame.height
