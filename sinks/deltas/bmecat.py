"""Quoting (BMEcat 2005) delta: per customer catalog ``<name>.xml`` (or gzipped,
``<name>.xml.gz``) an update transaction ``<name>.update.xml`` (``T_UPDATE_PRODUCTS``, plain
XML), valid against ``bmecat_2005.xsd``.

The update carries the new catalog's ``HEADER`` and ``T_UPDATE_PRODUCTS prev_version="0"``:
the transaction applies to the full catalog (``T_NEW_CATALOG``) of the snapshot named in the
manifest's ``delta_of``, never to an earlier update (deltas do not chain). Its ``PRODUCT``
elements: ``mode="new"`` a product added, ``mode="update"`` a product changed in anything
(texts, features, prices: the whole new ``PRODUCT``), ``mode="delete"`` a product gone (its
previous ``PRODUCT``, as the schema requires the full element). Products are keyed by
``SUPPLIER_PID``. A catalog without changes gets no update file (the schema needs at least one
``PRODUCT``); a customer new in this snapshot takes its full catalog.

Applying: per ``PRODUCT`` of the update, ``delete`` removes it by ``SUPPLIER_PID``, ``new``
and ``update`` put it in place.
"""

from __future__ import annotations

import copy
from pathlib import Path

import polars as pl
from lxml import etree

from sinks.deltas import xml_records
from sinks.deltas.changes import ADDED, CHANGED, REMOVED, keys_of, row_changes
from sinks.deltas.record_index import Indexed, RecordIndex

NS = "http://www.bmecat.org/bmecat/2005"
SUFFIX = ".update.xml"
MODES = {ADDED: "new", CHANGED: "update", REMOVED: "delete"}
INDEX_KIND = "bmecat"


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def products(path: Path) -> dict[str, etree._Element]:
    """Every ``PRODUCT`` of a catalog or update by its ``SUPPLIER_PID``."""
    tree = etree.parse(str(path), etree.XMLParser(huge_tree=True))
    return {str(p.findtext(_q("SUPPLIER_PID"))): p for p in tree.iter(_q("PRODUCT"))}


def content(product: etree._Element) -> bytes:
    """A ``PRODUCT`` serialized without its ``mode`` (what the catalogs compare)."""
    bare = copy.deepcopy(product)
    bare.attrib.pop("mode", None)
    bare.tail = None
    return bytes(etree.tostring(bare, method="c14n"))


_PRODUCT = r"<PRODUCT[ >]"
_END = b"</PRODUCT>"
_PID = r"(?s)<SUPPLIER_PID[^>]*>(.*?)</SUPPLIER_PID>"
_MODE = (r'^<PRODUCT mode="[^"]*"', "<PRODUCT")
_WRAP = (f'<BMECAT xmlns="{NS}">'.encode(), b"</BMECAT>")


def write_delta(
    previous: Path,
    new: Path,
    target: Path,
    *,
    old: RecordIndex | None = None,
    indexed: Indexed | None = None,
) -> int:
    """The update from catalog ``previous`` to ``new`` into ``target`` (none without changes);
    its ``PRODUCT`` count. Products are compared as the bytes the writer wrote (their ``mode``
    aside); only those the update carries are parsed.

    ``old``: the index of ``previous`` (it is not split again; a gzipped one is decompressed
    only when products were removed, for their previous text); ``indexed`` gets the index of
    ``new``."""
    earlier = old.records if old is not None else _products_of(previous)
    raw, data = xml_records.read_document(new)
    fresh = _products(data, new.name)
    if indexed is not None:
        indexed(xml_records.index_of(INDEX_KIND, raw, fresh))
    del raw
    changes = row_changes(
        xml_records.digests(earlier, "pid"), xml_records.digests(fresh, "pid"), "pid"
    )
    if changes.is_empty():
        return 0
    header = xml_records.head(data, b"<T_NEW_CATALOG", b"</BMECAT>").find(_q("HEADER"))
    del data
    root = etree.Element(_q("BMECAT"), nsmap={None: NS}, version="2005")
    root.append(copy.deepcopy(header))
    update = etree.SubElement(root, _q("T_UPDATE_PRODUCTS"), prev_version="0")
    for change, mode in MODES.items():
        pids = keys_of(changes, "pid", change)
        side = earlier if change == REMOVED else fresh
        source = xml_records.by_key(side, pids, _END, previous, _MODE)
        for pid in pids:
            product = xml_records.parse(source[pid], *_WRAP)
            product.set("mode", mode)
            update.append(product)
    etree.ElementTree(root).write(str(target), xml_declaration=True, encoding="UTF-8")
    return changes.height


def _products(data: bytes, name: str) -> pl.DataFrame:
    return xml_records.split(data, name, _PRODUCT, _END, _PID, _MODE)


def _products_of(path: Path) -> pl.DataFrame:
    return _products(xml_records.document_bytes(path), path.name)


def record_index(path: Path) -> RecordIndex:
    """The index of the catalog ``path`` (see ``record_index``)."""
    raw, data = xml_records.read_document(path)
    return xml_records.index_of(INDEX_KIND, raw, _products(data, path.name))


def apply_delta(full: dict[str, bytes], update: dict[str, etree._Element]) -> dict[str, bytes]:
    """A catalog's products (``SUPPLIER_PID`` -> ``content``) after an update's products."""
    result = dict(full)
    for pid, product in update.items():
        if product.get("mode") == "delete":
            result.pop(pid, None)
        else:
            result[pid] = content(product)
    return result
