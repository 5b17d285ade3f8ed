"""Every registered format's presets, checked once for the whole registry: a new format module
gets the same check without a test of its own copying it."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from contracts.config import AttributeRoles
from contracts.formats import FormatSpec
from contracts.golden import GOLDEN_FIELDS
from contracts.mapping import GoldenSource, RoleSource, Source
from sinks.formats import FORMATS


@pytest.mark.parametrize("spec", FORMATS.values(), ids=list(FORMATS))
def test_every_preset_names_known_fields_golden_fields_and_roles(spec: FormatSpec) -> None:
    adapter = TypeAdapter(Source)
    roles = set(AttributeRoles().names())
    names = {f.name for f in spec.fields}
    assert len(names) == len(spec.fields)  # each target field declared once
    assert spec.presets
    for preset in spec.presets.values():
        for target, raw in preset.items():
            assert spec.extensible or target in names, target
            source = adapter.validate_python(raw)
            if isinstance(source, GoldenSource):
                assert source.field in GOLDEN_FIELDS, source.field
            if isinstance(source, RoleSource):
                assert source.role in roles, source.role
        assert {f.name for f in spec.fields if f.required} <= set(preset)
