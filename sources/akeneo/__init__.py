"""Pull Akeneo PIM master data over its REST API into a local store in the file-drop format.

The store folder holds one ``<entity>.jsonl`` per stream (one API item per line, ``_links``
removed, sorted by key) plus state.json, so the pipeline reads a pulled store exactly like a file
drop: products.jsonl (by uuid), product_models.jsonl, attributes.jsonl, families.jsonl,
categories.jsonl, channels.jsonl and family_variants.jsonl (by code, each variant with its
``family``) and attribute_options.jsonl (the options of every simple- and multi-select attribute,
by attribute and code). Modules: ``streams`` (the list endpoints and the files they fill),
``client`` (OAuth2 and paged GETs), ``items`` (keys, duplicates, codes that collide in case),
``fetch`` (all streams within ``concurrency``), ``store`` (state.json, the files and their
atomic publication) and ``pull`` (``pull_catalog``).

Incremental pulls ask only for products and product models ``updated`` after the last high-water
mark (minus ``overlap_seconds``) and merge them by uuid/code; everything else is small and is
pulled whole on every pull, so a renamed option or a deleted variant shows in the next store. The
REST API does not report deletions, so an incremental pull cannot drop a deleted product: a full
pull runs whenever the last one is older than ``full_pull_every_hours`` (and on ``full=True``, on
the first run, or when base_url, locales or scope change), and a full pull replaces everything.
Disabled products are kept (enabled=false); the pipeline decides what a channel gets. A failure
of any list, products or the smallest, fails the whole pull.

Publishing is atomic: each pull writes a new hidden generation folder next to the store and then
swaps the ``store`` symlink to it with one rename, so a failed pull leaves the previous store as it
was and readers never see a half-written one. The previous generation is kept until the next pull
for readers that resolved the link before the swap. Run one pull per store at a time.
"""

from __future__ import annotations

from sources.akeneo.client import AkeneoClient, AkeneoCredentials
from sources.akeneo.pull import AkeneoPull, PullResult, pull_catalog

__all__ = ["AkeneoClient", "AkeneoCredentials", "AkeneoPull", "PullResult", "pull_catalog"]
