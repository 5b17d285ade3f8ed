"""What a pull reads from Akeneo: the list endpoints and the file-drop file each one fills."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SOURCE = "akeneo"
Item = dict[str, Any]


@dataclass(frozen=True)
class Stream:
    """One list endpoint and the file-drop file it fills."""

    name: str
    path: str
    key: str
    entity: str
    search_after: bool  # products and models: search_after, locales/scope, incremental


STREAMS = (
    Stream("products", "/api/rest/v1/products-uuid", "uuid", "product", True),
    Stream("product_models", "/api/rest/v1/product-models", "code", "product model", True),
    Stream("attributes", "/api/rest/v1/attributes", "code", "attribute", False),
    Stream("families", "/api/rest/v1/families", "code", "family", False),
    Stream("categories", "/api/rest/v1/categories", "code", "category", False),
)
