"""The local Akeneo and SAP servers the connectors' tests pull from: one server per test
module, a fresh catalog and store per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from akeneo_pim import Pim
from servers.akeneo import AkeneoHandler, AkeneoState, akeneo_handler, load_catalog, write_catalog
from servers.akeneo_catalog import make_catalog
from servers.running import serve
from servers.sap import SapHandler, SapService, handler_for


@pytest.fixture(scope="module")
def akeneo_server() -> Iterator[tuple[type[AkeneoHandler], str]]:
    """One local Akeneo for the module; each test gives it a fresh state."""
    handler = akeneo_handler(AkeneoState({}))
    with serve(handler) as url:
        yield handler, url


@pytest.fixture
def pim(akeneo_server: tuple[type[AkeneoHandler], str], tmp_path: Path) -> Pim:
    """57 products and the whole catalog model, served through a file drop round trip."""
    handler, url = akeneo_server
    drop = write_catalog(tmp_path / "drop", make_catalog(57))
    handler.state = AkeneoState(load_catalog(drop))
    pim = Pim(handler.state, url, tmp_path / "stores" / "akeneo")
    handler.state.now = lambda: pim.clock[0]
    return pim


@pytest.fixture(scope="module")
def sap_server() -> Iterator[tuple[type[SapHandler], str]]:
    """One local SAP OData server for the module (shutting one down takes ~0.5 s); each test
    binds its data."""
    handler = handler_for(SapService({}))
    with serve(handler) as url:
        yield handler, url
