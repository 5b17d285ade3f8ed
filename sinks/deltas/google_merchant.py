"""Marketplace (Google Merchant RSS) delta: three files next to ``google_merchant.xml``.

Google's supplemental feed (matched to the primary feed by ``g:id``) can only override
attributes of products the primary feed already has; only a primary feed adds or removes
products (Merchant Center help, "Updates to feeds in Merchant Center"). So:

- ``supplemental.xml``: a supplemental feed (RSS 2.0, ``g:`` namespace) with ``g:id`` plus the
  new ``g:price``, ``g:availability``, ``g:sale_price``, ``g:availability_date`` (those the
  item has) of every item whose only changes are in those attributes;
- ``delta_items.xml``: items added or changed in any other attribute, whole, as in the full
  feed (for the Merchant API's ``products.insert``, which replaces an item by its id);
- ``delta_removed.txt``: the ``g:id`` of every item gone, one per line (for the Merchant API's
  ``products.delete``; a feed-file consumer needs the full feed to remove them).

Applying: drop the removed ids, replace the items of ``delta_items.xml``, then override the
supplemental attributes.
"""

from __future__ import annotations

import copy
from pathlib import Path

import polars as pl
from lxml import etree

from sinks.deltas import xml_records
from sinks.deltas.changes import ADDED, CHANGED, REMOVED, keys_of, row_changes
from sinks.deltas.record_index import Indexed, RecordIndex

G = "http://base.google.com/ns/1.0"
ID = f"{{{G}}}id"
SUPPLEMENTAL = tuple(
    f"{{{G}}}{name}" for name in ("price", "availability", "sale_price", "availability_date")
)
SUPPLEMENTAL_FILE = "supplemental.xml"
ITEMS_FILE = "delta_items.xml"
REMOVED_FILE = "delta_removed.txt"
INDEX_KIND = "google_merchant"

Item = dict[str, bytes]
"""an item's children: tag -> the child serialized (without its tail)"""


def read_items(path: Path) -> dict[str, etree._Element]:
    """Every ``item`` of an RSS feed by its ``g:id``."""
    tree = etree.parse(str(path), etree.XMLParser(huge_tree=True))
    return {str(item.findtext(ID)): item for item in tree.iter("item")}


def fields(item: etree._Element) -> Item:
    return {str(c.tag): etree.tostring(c, with_tail=False) for c in item}


def _supplemental_only(old: Item, new: Item) -> bool:
    changed = {t for t in old.keys() | new.keys() if old.get(t) != new.get(t)}
    kept = all(t in new for t in SUPPLEMENTAL if t in old)  # nothing to clear
    return changed <= set(SUPPLEMENTAL) and kept


def _document(header: etree._Element, items: list[etree._Element]) -> bytes:
    rss = etree.Element("rss", nsmap={"g": G}, version="2.0")
    channel = etree.SubElement(rss, "channel")
    for child in header:
        if child.tag != "item":
            channel.append(copy.deepcopy(child))
    channel.extend(items)
    return etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True)


ITEM = "<item>"
END = b"</item>"
ITEM_ID = r"(?s)<g:id>(.*?)</g:id>"
_WRAP = (f'<rss xmlns:g="{G}">'.encode(), b"</rss>")


def write_delta(
    previous: Path,
    new: Path,
    folder: Path,
    *,
    old: RecordIndex | None = None,
    indexed: Indexed | None = None,
) -> dict[str, int]:
    """The delta from ``previous`` to ``new`` into ``folder``: file name -> its items. Items
    are compared as the bytes the writer wrote; only the changed ones are parsed.

    ``old``: the index of ``previous`` (it is not split again; the changed items' previous
    text is sliced out of it); ``indexed`` gets the index of ``new``."""
    kept = old.records if old is not None else _items(previous)
    raw, data = xml_records.read_document(new)
    header = xml_records.head(data, b"<item>", b"</channel></rss>").find("channel")
    fresh = xml_records.split(data, new.name, ITEM, END, ITEM_ID)
    if indexed is not None:
        indexed(xml_records.index_of(INDEX_KIND, raw, fresh))
    del data, raw
    changes = row_changes(xml_records.digests(kept, "id"), xml_records.digests(fresh, "id"), "id")
    upserted = keys_of(changes, "id", ADDED, CHANGED)
    after = xml_records.by_key(fresh, upserted, END)
    before = xml_records.by_key(kept, upserted, END, previous)
    supplemental, whole = [], []
    for key in upserted:
        item = xml_records.parse(after[key], *_WRAP)
        earlier = xml_records.parse(before[key], *_WRAP) if key in before else None
        if earlier is not None and _supplemental_only(fields(earlier), fields(item)):
            slim = etree.Element("item")
            slim.extend(c for c in list(item) if c.tag == ID or c.tag in SUPPLEMENTAL)
            supplemental.append(slim)
        else:
            whole.append(item)
    removed = keys_of(changes, "id", REMOVED)
    assert header is not None
    (folder / SUPPLEMENTAL_FILE).write_bytes(_document(header, supplemental))
    (folder / ITEMS_FILE).write_bytes(_document(header, whole))
    (folder / REMOVED_FILE).write_text("".join(f"{k}\n" for k in removed), encoding="utf-8")
    return {
        SUPPLEMENTAL_FILE: len(supplemental),
        ITEMS_FILE: len(whole),
        REMOVED_FILE: len(removed),
    }


def _items(path: Path) -> pl.DataFrame:
    return xml_records.split(xml_records.document_bytes(path), path.name, ITEM, END, ITEM_ID)


def record_index(path: Path) -> RecordIndex:
    """The index of the feed ``path`` (see ``record_index``)."""
    raw, data = xml_records.read_document(path)
    frame = xml_records.split(data, path.name, ITEM, END, ITEM_ID)
    return xml_records.index_of(INDEX_KIND, raw, frame)


def apply_delta(
    full: dict[str, Item], supplemental: dict[str, Item], items: dict[str, Item], removed: set[str]
) -> dict[str, Item]:
    """The items of a full feed (``g:id`` -> ``fields``) after the three delta files."""
    result = {k: v for k, v in full.items() if k not in removed}
    result.update(items)
    for key, override in supplemental.items():
        result[key] = {**result[key], **override}
    return result
