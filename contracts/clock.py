"""The wall clock, in one place, so a run reads it once and tests can move it."""

from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def utc_today() -> dt.date:
    """Today's date in UTC: the default as-of date of a run."""
    return utc_now().date()
