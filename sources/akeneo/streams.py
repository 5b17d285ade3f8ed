"""What a pull reads from Akeneo: the list endpoints and the file-drop file each one fills.

Most streams are one list endpoint. Attribute options and family variants are listed per
attribute and per family (``{code}`` in the path): they are read once per item of their parent
stream, after it, and each item is written with the parent's code (the variants endpoint does
not return its family; an option names its attribute itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SOURCE = "akeneo"
Item = dict[str, Any]
Key = tuple[str, ...]
"""An item's identity in its file: the values of ``Stream.key``, e.g. ``("color", "red")``."""

SELECT_TYPES = frozenset({"pim_catalog_simpleselect", "pim_catalog_multiselect"})


@dataclass(frozen=True)
class Parent:
    """The stream a per-parent endpoint is read for, and where its items name the parent."""

    stream: str
    field: str  # the item field that holds the parent's code ("attribute", "family")
    types: frozenset[str] | None = None  # only parents whose ``type`` is one of these


@dataclass(frozen=True)
class Stream:
    """One list endpoint and the file-drop file it fills."""

    name: str
    path: str  # with ``{code}`` (the parent's code, URL-encoded) when ``parent`` is set
    key: tuple[str, ...]
    entity: str
    search_after: bool = False  # products and models: search_after, locales/scope, incremental
    parent: Parent | None = None
    # Akeneo compares codes case-insensitively, so two that differ only in case are a corrupt
    # PIM (the swagger does not promise they cannot happen). Checked where a code is also a
    # reference other files use: attributes (their options' paths), families (their variants'
    # paths, products' family), channels, options, variants (product models' family_variant).
    caseless: bool = False


STREAMS = (
    Stream("products", "/api/rest/v1/products-uuid", ("uuid",), "product", search_after=True),
    Stream("product_models", "/api/rest/v1/product-models", ("code",), "product model", True),
    Stream("attributes", "/api/rest/v1/attributes", ("code",), "attribute", caseless=True),
    Stream("families", "/api/rest/v1/families", ("code",), "family", caseless=True),
    Stream("categories", "/api/rest/v1/categories", ("code",), "category"),
    Stream("channels", "/api/rest/v1/channels", ("code",), "channel", caseless=True),
    Stream(
        "attribute_options",
        "/api/rest/v1/attributes/{code}/options",
        ("attribute", "code"),
        "attribute option",
        parent=Parent("attributes", "attribute", SELECT_TYPES),
        caseless=True,
    ),
    Stream(
        "family_variants",
        "/api/rest/v1/families/{code}/variants",
        ("code",),  # unique across families: product models name only their family_variant
        "family variant",
        parent=Parent("families", "family"),
        caseless=True,
    ),
)
