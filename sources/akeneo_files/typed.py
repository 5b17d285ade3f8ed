"""Products and product models read by DuckDB with the schema the catalog's attribute types give.

Inferring the schema of a 1.5 GB products file (pyarrow) costs about twice what DuckDB takes
to read the same file when it is told the schema: each wanted attribute's ``data`` type follows
from its Akeneo type, and every other field is skipped while parsing. The frame has the shape
the general reader's (``files.read_jsonl``) would have, so the flattening after it is shared.

Scalar data is read as its JSON text: a number keeps its digits (``12.50``), a date its ISO
form, as Akeneo's CSV export writes them (``true``/``false`` become ``1``/``0`` when the
values are flattened). The read is only kept when it cannot have lost anything, else the
general reader reads the file:

- an attribute of a type not listed in ``DATA_TYPES``, or wanted but not in the attributes
  export, has no declared schema (``typed_schema`` answers None);
- a value keyed in another spelling than the attributes export's (``Color`` for ``color``)
  would be skipped, so the byte check that runs beside the read looks for such keys
  (``TypedSchema.variants``) and the read is thrown away when it finds one;
- data of another shape than its type's (a string where a metric is due), an ``enabled`` that
  is not a JSON boolean, a line that is not a JSON object or any other JSON fault makes DuckDB
  refuse the file (``typed_read`` answers None); the general reader then reads it or names
  the broken line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from contracts.sql import identifier, literal
from sources.akeneo_files.entities import IDENTIFIER_TYPE, IMAGE_TYPES
from sources.akeneo_files.selection import BOOLEAN_TYPE, ValueSelection

TEXT = "VARCHAR"
DATA_TYPES = {
    IDENTIFIER_TYPE: TEXT,
    "pim_catalog_text": TEXT,
    "pim_catalog_textarea": TEXT,
    "pim_catalog_simpleselect": TEXT,
    "pim_catalog_date": TEXT,
    "pim_catalog_number": TEXT,
    "pim_catalog_file": TEXT,
    **dict.fromkeys(IMAGE_TYPES, TEXT),
    "pim_reference_data_simpleselect": TEXT,
    BOOLEAN_TYPE: TEXT,
    "pim_catalog_multiselect": "VARCHAR[]",
    "pim_reference_data_multiselect": "VARCHAR[]",
    "pim_catalog_metric": "STRUCT(amount VARCHAR, unit VARCHAR)",
    "pim_catalog_price_collection": "STRUCT(amount VARCHAR, currency VARCHAR)[]",
}
"""Akeneo attribute type -> DuckDB type of a value's ``data``."""
ITEM_COLUMNS = {
    "identifier": TEXT,
    "uuid": TEXT,
    "code": TEXT,
    "enabled": TEXT,
    "family": TEXT,
    "family_variant": TEXT,
    "parent": TEXT,
    "categories": "VARCHAR[]",
    "updated": TEXT,
}
"""The product and product-model properties the readers use besides ``values`` (links and
associations: not), with their DuckDB types."""
_CODE = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class TypedSchema:
    """The DuckDB schema of one read: attribute spelling -> Akeneo type, and ``variants``,
    a regular expression that finds any value key spelled otherwise."""

    attributes: dict[str, str]
    variants: str

    def sql(self) -> str:
        """The query reading the file (its path the one parameter)."""
        columns = {**ITEM_COLUMNS}
        fields = []
        for code, kind in self.attributes.items():
            entry = f"STRUCT(locale VARCHAR, scope VARCHAR, data {DATA_TYPES[kind]})[]"
            fields.append(f"{identifier(code)} {entry}")
        if fields:
            columns["values"] = f"STRUCT({', '.join(fields)})"
        spec = ", ".join(f"{literal(name)}: {literal(kind)}" for name, kind in columns.items())
        # Anything but a JSON boolean is the general reader's to judge (it names the file).
        enabled = (
            "CASE WHEN enabled IS NULL THEN NULL WHEN enabled = 'true' THEN true "
            "WHEN enabled = 'false' THEN false ELSE error('enabled is not a boolean') END "
            "AS enabled"
        )
        items = [enabled if name == "enabled" else identifier(name) for name in columns]
        return (
            f"SELECT {', '.join(items)} FROM read_json(?, format = 'newline_delimited', "
            f"records = true, columns = {{{spec}}})"
        )


def typed_schema(selection: ValueSelection) -> TypedSchema | None:
    """The schema of a read with ``selection``, or None when one cannot be declared: every
    attribute wanted (no list), or one wanted that has no known type or an unusual code."""
    if selection.attributes is None:
        return None
    wanted = {*selection.attributes, selection.identifier.lower()}
    attributes: dict[str, str] = {}
    for lower in sorted(wanted):
        kind = selection.types.get(lower)
        spelled = selection.name(lower)
        if kind not in DATA_TYPES or not _CODE.match(spelled):
            return None
        attributes[spelled] = kind
    return TypedSchema(attributes, _variants_pattern(list(attributes)))


def typed_read(path: Path, schema: TypedSchema) -> pa.Table | None:
    """``path`` read with ``schema``, or None when DuckDB refuses it (see the module)."""
    # Background threads hand the memory of DuckDB's result back to the system once the frame
    # is built; without them it stays with DuckDB's allocator for the rest of the run (~1 GiB
    # at 1M products).
    with duckdb.connect(config={"allocator_background_threads": True}) as connection:
        try:
            return connection.sql(schema.sql(), params=[str(path)]).to_arrow_table()
        except (duckdb.InvalidInputException, duckdb.ConversionException):
            return None  # the data, not the query: the general reader takes the file


def _variants_pattern(codes: list[str]) -> str:
    """A JSON key equal to one of ``codes`` in any case but not spelled as given."""
    alternatives = []
    for code in codes:
        for at, character in enumerate(code):
            if character.lower() == character.upper():
                continue
            rest = code[at + 1 :]
            tail = f"(?i:{re.escape(rest)})" if rest else ""
            alternatives.append(f"{re.escape(code[:at])}{re.escape(character.swapcase())}{tail}")
    if not alternatives:
        return ""
    return f'"(?:{"|".join(alternatives)})"[ \\t\\r]*:'
