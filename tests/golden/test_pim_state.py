"""The PIM state's key follows what the channels need of the export and the scopes."""

from __future__ import annotations

from pathlib import Path

from golden.master_data import MasterNeeds
from golden.pim_state import pim_state_key

NEEDS = MasterNeeds(
    locales=("de_DE",),
    trees=("master",),
    attributes=frozenset({"name", "color"}),
    image_role=None,
    media_base_url="https://media.example.com/",
)


def test_the_key_follows_what_the_channels_need(tmp_path: Path) -> None:
    (tmp_path / "products.jsonl").write_text('{"identifier": "A"}\n', encoding="utf-8")
    key = pim_state_key(tmp_path, ("ecommerce",), NEEDS)
    more = MasterNeeds(**{**NEEDS.__dict__, "attributes": NEEDS.attributes | {"size"}})
    assert pim_state_key(tmp_path, ("ecommerce",), more) != key
    other_tree = MasterNeeds(**{**NEEDS.__dict__, "trees": ("print_catalog",)})
    assert pim_state_key(tmp_path, ("ecommerce",), other_tree) != key
    assert pim_state_key(tmp_path, ("print",), NEEDS) != key
    assert pim_state_key(tmp_path, ("ecommerce",), NEEDS) == key
