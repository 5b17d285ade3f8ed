"""Identifier columns: GS1 check digits, and the random UUIDs, media keys and ``updated``
timestamps drawn from a seeded generator (so they are the same for the same seed)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl


def gtin13(base12: np.ndarray) -> np.ndarray:
    """Append the GS1 check digit to 12-digit integers (weights 1,3,1,3,... from the left)."""
    digits = (base12[:, None] // 10 ** np.arange(11, -1, -1, dtype=np.int64)) % 10
    check = (10 - (digits @ np.tile([1, 3], 6)) % 10) % 10
    return base12 * 10 + check


def _hex(rng: np.random.Generator, rows: int, nbytes: int) -> np.ndarray:
    """``rows`` random lower-case hex strings of ``2 * nbytes`` characters, as a uint8 matrix."""
    raw = rng.integers(0, 256, size=(rows, nbytes), dtype=np.uint8)
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    out = np.empty((rows, 2 * nbytes), dtype=np.uint8)
    out[:, 0::2] = digits[raw >> 4]
    out[:, 1::2] = digits[raw & 15]
    return out


def _strings(chars: np.ndarray) -> pl.Series:
    """A matrix of ASCII codes (no NUL) as a polars String series, one row per string."""
    width = chars.shape[1]
    return pl.Series(np.ascontiguousarray(chars).view(f"S{width}").ravel()).cast(pl.String)


def uuids(rng: np.random.Generator, rows: int) -> pl.Series:
    """Random version-4 UUIDs drawn from ``rng``, hence deterministic per seed."""
    chars = _hex(rng, rows, 16)
    chars[:, 12] = ord("4")
    chars[:, 16] = np.frombuffer(b"89ab", dtype=np.uint8)[chars[:, 16] % 4]
    dashed = np.full((rows, 36), ord("-"), dtype=np.uint8)
    for start, stop, at in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        dashed[:, at : at + stop - start] = chars[:, start:stop]
    return _strings(dashed)


def media_keys(rng: np.random.Generator, rows: int) -> pl.Series:
    """Akeneo catalog media key prefixes like ``a/3/f/0/a3f0c2...``; ``_<code>.jpg`` follows."""
    chars = _hex(rng, rows, 12)
    out = np.full((rows, 32), ord("/"), dtype=np.uint8)
    out[:, 0:8:2] = chars[:, :4]
    out[:, 8:32] = chars
    return _strings(out)


def timestamps(rng: np.random.Generator, rows: int, as_of: dt.date) -> pl.Series:
    """``updated`` timestamps within the 400 days before ``as_of`` 06:00 UTC, ISO 8601."""
    start = np.datetime64(dt.datetime.combine(as_of, dt.time(6)), "ms")
    seconds = rng.integers(60, 400 * 86_400, rows).astype("timedelta64[s]")
    return pl.Series((start - seconds).astype("datetime64[ms]")).dt.strftime(
        "%Y-%m-%dT%H:%M:%S+00:00"
    )
