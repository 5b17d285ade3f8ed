"""The format registry: every channel format Prism can write, by name.

A format is one module of this package declaring a ``contracts.formats.FormatSpec``; adding
one is writing that module and naming its spec here.
"""

from __future__ import annotations

from contracts.formats import FormatSpec
from sinks.formats import bmecat, google_merchant, jsonld, meta, portal, tabular

_SPECS: tuple[FormatSpec, ...] = (
    jsonld.SPEC,
    *tabular.SPECS,
    google_merchant.SPEC,
    meta.SPEC,
    portal.SPEC,
    bmecat.SPEC,
)

FORMATS: dict[str, FormatSpec] = {spec.name: spec for spec in _SPECS}
"""format name -> its spec (the ``format:`` of a channel in prism.yaml)"""
