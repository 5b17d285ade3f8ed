"""Which product values a read keeps, and how codes are spelled.

Akeneo codes are case-insensitive: an attribute, a locale or a channel (scope) may be written
``Color`` in one place and ``color`` in another and still be the same thing. The selection
compares them case-insensitively and names every value column with one spelling: the
attribute as the attributes export spells it, the locale and scope as the configuration does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_IDENTIFIER = "sku"
BOOLEAN_TYPE = "pim_catalog_boolean"


def value_column(attribute: str, locale: str | None = None, scope: str | None = None) -> str:
    """Akeneo CSV header name of a value, e.g. ``value_column("name", "en_US") == "name-en_US"``."""
    return "-".join(part for part in (attribute, locale, scope) if part)


@dataclass(frozen=True)
class ValueSelection:
    """Which product values are kept: locales, scopes (Akeneo channels), optionally only some
    attributes; plus the spelling of each attribute code the PIM defines."""

    locales: tuple[str, ...]
    scopes: tuple[str, ...]
    attributes: frozenset[str] | None
    """wanted attribute codes, lower-cased; None: every attribute"""
    identifier: str = DEFAULT_IDENTIFIER
    spelling: Mapping[str, str] = field(default_factory=dict)
    """lower-cased attribute code -> the attributes export's spelling"""
    types: Mapping[str, str] = field(default_factory=dict)
    """lower-cased attribute code -> its Akeneo type (``pim_catalog_text``...), where known"""

    @classmethod
    def of(
        cls,
        locales: tuple[str, ...],
        scopes: tuple[str, ...],
        attributes: frozenset[str] | set[str] | None,
        identifier: str,
        spelling: Mapping[str, str],
        types: Mapping[str, str] | None = None,
    ) -> ValueSelection:
        wanted = None if attributes is None else frozenset(a.lower() for a in attributes)
        return cls(locales, scopes, wanted, identifier, spelling, types or {})

    def wants(self, attribute: str) -> bool:
        lower = attribute.lower()
        if lower == self.identifier.lower():
            return False
        return self.attributes is None or lower in self.attributes

    def is_boolean(self, attribute: str) -> bool:
        """Whether the attributes export declares ``attribute`` a yes/no attribute."""
        return self.types.get(attribute.lower()) == BOOLEAN_TYPE

    def is_identifier(self, attribute: str) -> bool:
        return attribute.lower() == self.identifier.lower()

    def name(self, attribute: str) -> str:
        """The attribute code as the PIM's attributes export spells it."""
        return self.spelling.get(attribute.lower(), attribute)

    def locale(self, locale: str) -> str | None:
        """The configured spelling of ``locale``, or None when it is not read."""
        return _match(locale, self.locales)

    def scope(self, scope: str) -> str | None:
        """The configured spelling of ``scope``, or None when it is not read."""
        return _match(scope, self.scopes)

    def locale_map(self) -> dict[str, str]:
        return {loc.lower(): loc for loc in self.locales}

    def scope_map(self) -> dict[str, str]:
        return {s.lower(): s for s in self.scopes}


def _match(code: str, known: tuple[str, ...]) -> str | None:
    lower = code.lower()
    return next((k for k in known if k.lower() == lower), None)
