"""Text helpers every writer of untrusted product text shares: XML escaping and formula guards.

Product data is untrusted input (a PIM name can hold markup, an ERP cell a formula), so the same
rules must hold in every channel and export:

- ``escape``/``escaped``: text as XML 1.0 character data *and* double-quoted attribute value
  (``&``, ``<``, ``>``, ``"`` escaped); characters XML 1.0 forbids (C0 controls other than
  tab/LF/CR, U+FFFE, U+FFFF) are removed; null stays null.
- ``neutralized``: a text cell a spreadsheet would evaluate as a formula (OWASP "CSV
  injection": starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) gets a leading
  apostrophe.
"""

from __future__ import annotations

import polars as pl

# Surrogates cannot occur in polars (UTF-8) strings, so these are all the forbidden characters.
_FORBIDDEN = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + ["\ufffe", "\uffff"]
_STRIP = dict.fromkeys(map(ord, _FORBIDDEN))
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
# One Aho-Corasick pass strips and escapes at once: ~2x faster than regex + replace_all chains.
_PATTERNS = _FORBIDDEN + list(_ESCAPES)
_REPLACEMENTS = [""] * len(_FORBIDDEN) + list(_ESCAPES.values())
FORMULA_START = r"^[=+\-@\t\r]"


def escape(text: str) -> str:
    """``text`` as XML 1.0 character data / attribute value (the Python twin of ``escaped``)."""
    text = text.translate(_STRIP)
    for char, entity in _ESCAPES.items():
        text = text.replace(char, entity)
    return text


def escaped(value: pl.Expr) -> pl.Expr:
    """``value`` (String) as XML 1.0 character data / attribute value; null stays null."""
    return value.str.replace_many(_PATTERNS, _REPLACEMENTS)


def neutralized(text: pl.Expr) -> pl.Expr:
    """``text`` with a leading apostrophe when a spreadsheet would run it as a formula."""
    formula = text.str.contains(FORMULA_START)
    return pl.when(formula).then(pl.concat_str(pl.lit("'"), text)).otherwise(text)
