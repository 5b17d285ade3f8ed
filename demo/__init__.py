"""The deterministic demo catalog: an Akeneo PIM export plus an ERP snapshot, with known defects.

Demo and test tooling, not part of the code location: it imports only ``contracts`` and
``sources`` (for the file formats it writes), and the ``prism demo-data`` command imports it
lazily.

The files are a pure function of ``(products, seed, as_of, pim_format)``: the same inputs write
byte-identical files, and every validity date is relative to ``as_of`` so the demo works on any
day. A product's draws depend only on the seed and its index (``streams``), so a bigger catalog
starts with the same products, names, prices and stock as a smaller one: growing the demo does
not look like a mass price change to the pipeline. Everything is drawn column-wise (numpy) in
blocks and rendered with polars expressions in chunks, so the one-million-product benchmark
catalog takes seconds and bounded memory.

Layout under ``target``; every call writes a new ``<id>`` (``layout``: as-of date plus creation
time, e.g. ``20261122T060000Z-20261201T093012345678Z``) and keeps the previous one::

    pim/<id>/{products,product_models,attributes,attribute_options,families,
              family_variants,channels,categories}.{jsonl|csv}
    erp/<id>/{prices,stock,supply}.csv

PIM JSON lines have the Akeneo REST API item shapes (values as ``{"locale", "scope", "data"}``
lists; an attribute without a value is ``null``); the CSV variant is Akeneo's CSV export
(``;``-separated, lists comma-joined, booleans ``1``/``0``, empty cell = no value) of the same
catalog. Values live where Akeneo's variant model puts them: root model (name, description,
brand, material, eco_friendly, release_date; plus color and image in one-level families),
sub-model per color (color, image), variant product (sku, ean, size, weight, price), as the
family variants' levels say.

The structure is Akeneo's whole catalog model: options with labels per locale (a few without
an fr_FR label, one without any), channels ``ecommerce`` (tree ``master``) and ``print`` (tree
``print_catalog``) with every product filed in both trees, families whose main image attribute
differs (``packshot`` for tools, ``image`` elsewhere) with products carrying both, and family
variants with their axes per level. Like a real export, it mixes spellings (``quirks``): option
codes and a few variants' parents in another letter case, some media values as absolute URLs.

Modules, in the order the data flows: ``catalog`` (static data) -> ``blocks`` (the catalog, block
by block, from the keyed random ``streams``) of ``draws`` / ``variants`` (PIM draws) and ``erp``
(ERP draws), with ``defects`` and ``identifiers``, then ``quirks`` -> ``render_pim``,
``render_catalog``, ``render_erp`` (rows of each file) -> ``write`` (chunked files) ->
``generate`` (the entry point; snapshot folders from ``layout``; ``summary`` of what it wrote).
"""

from __future__ import annotations

from demo.generate import generate_demo_data
from demo.summary import DemoSummary

__all__ = ["DemoSummary", "generate_demo_data"]
