"""The items of one stream as its pages arrive, keyed for its file and checked on the way in.

A stream's file must hold each item once under a complete key, so an item without its key, a key
read twice and two codes that differ only in case (Akeneo compares codes case-insensitively:
both cannot exist in a sound PIM) fail the pull, naming the page that showed the problem.
Per-parent streams (options, variants) are read by several threads into one ``Items``.
"""

from __future__ import annotations

import threading
from datetime import datetime

import httpx

from sources.akeneo.client import source_error
from sources.akeneo.streams import Item, Key, Stream


class Items:
    """One stream's items by key (``_links`` removed) and the server clock at its first page."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.by_key: dict[Key, Item] = {}
        self.date: datetime | None = None
        self._caseless: dict[Key, Key] = {}  # the key folded to lower case -> the key as read
        self._lock = threading.Lock()

    def add_page(
        self, items: list[Item], url: httpx.URL, date: datetime | None, parent: str | None = None
    ) -> None:
        """Add one page's items, read for the ``parent`` code when the stream has a parent;
        ``date`` is kept only for the first page read."""
        if parent is not None:
            items = [self._with_parent(item, parent, url) for item in items]
        keyed = [(self._key(item, url), item) for item in items]
        with self._lock:
            self.date = self.date or date
            for key, item in keyed:
                self._add(key, item, url)

    def _with_parent(self, item: Item, parent: str, url: httpx.URL) -> Item:
        """``item`` naming ``parent`` as it is spelled in the parent's file, so the two join
        exactly; an item that names another parent was listed under the wrong one."""
        assert self.stream.parent is not None
        field = self.stream.parent.field
        named = item.get(field, parent)
        if not isinstance(named, str) or named.casefold() != parent.casefold():
            entity = _article(self.stream.entity)
            problem = f"{entity} of {field} {named!r} in the list of {field} {parent!r}"
            raise source_error("GET", url, problem)
        return item | {field: parent}

    def _key(self, item: Item, url: httpx.URL) -> Key:
        key = []
        for field in self.stream.key:
            value = item.get(field)
            if not isinstance(value, str) or not value:
                raise source_error(
                    "GET", url, f"{_article(self.stream.entity)} without a '{field}'"
                )
            key.append(value)
        return tuple(key)

    def _add(self, key: Key, item: Item, url: httpx.URL) -> None:
        stream = self.stream
        if key in self.by_key:
            problem = f"duplicate {stream.entity} {_named(stream, key)} (also on an earlier page)"
            raise source_error("GET", url, problem)
        if stream.caseless:
            other = self._caseless.setdefault(tuple(k.casefold() for k in key), key)
            if other != key:
                raise source_error("GET", url, _collision(stream, other, key))
        self.by_key[key] = {k: v for k, v in item.items() if k != "_links"}


def _named(stream: Stream, key: Key) -> str:
    """``code 'red' of attribute 'color'``: the key's last field, qualified by the others."""
    *scope, last = zip(stream.key, key, strict=True)
    return " of ".join(f"{field} {value!r}" for field, value in [last, *reversed(scope)])


def _collision(stream: Stream, first: Key, second: Key) -> str:
    *scope, field = stream.key
    where = "".join(f" of {name} {value!r}" for name, value in zip(scope, first, strict=False))
    return (
        f"{stream.entity} {field}s {first[-1]!r} and {second[-1]!r}{where} differ only in case; "
        "Akeneo compares codes case-insensitively, so the PIM is corrupt: rename or delete one"
    )


def _article(entity: str) -> str:
    """``entity`` with its indefinite article: "a product", "an attribute option"."""
    return f"{'an' if entity[0] in 'aeiou' else 'a'} {entity}"
