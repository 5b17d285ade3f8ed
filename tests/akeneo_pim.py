"""A running local Akeneo and a pull of it for tests: settings, client, the store read back and
what the store should hold for the served catalog."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from servers.akeneo import FILES, AkeneoState, Fault, visible_values
from servers.akeneo_catalog import T0

from contracts.config import AkeneoSource
from sources.akeneo import AkeneoClient, AkeneoCredentials, AkeneoPull, PullResult, pull_catalog

Item = dict[str, Any]
KEYS = {"products": ("uuid",), "attribute_options": ("attribute", "code")}
VALUES = ("products", "product_models")  # the streams whose values depend on locales and scope
TIMEOUT = 2.0
"""The client timeout of a test's pull (``Pim.settings``)."""
SLOW_SECONDS = 3.0
"""How long a ``slow`` fault holds its response: well past ``timeout_for``'s client timeout."""


def timeout_for(fault: Fault) -> float:
    """The client timeout of a pull facing ``fault``: one that a ``slow`` response exceeds, and
    for other faults the usual ``TIMEOUT``, so that no other request of a loaded machine times
    out and adds a retry the test does not expect."""
    return 1.0 if fault.kind == "slow" else TIMEOUT


@dataclass
class Pim:
    """A running local Akeneo and what a test needs around it."""

    state: AkeneoState
    url: str
    store: Path
    clock: list[datetime] = field(default_factory=lambda: [T0])
    waits: list[float] = field(default_factory=list)

    def settings(self, **changes: Any) -> AkeneoPull:
        """A pull of this PIM; ``changes`` may name source, credential, locales or scope fields."""
        source: dict[str, Any] = {
            "kind": "akeneo",
            "base_url": self.url,
            "store": self.store,
            "page_size": 10,
            "timeout": TIMEOUT,
            "retry_attempts": 3,
        }
        credentials = {
            "client_id": self.state.client_id,
            "client_secret": self.state.secret,
            "username": self.state.username,
            "password": self.state.password,
        }
        for key in list(changes):
            if key in credentials:
                credentials[key] = changes.pop(key)
        locales, scope = (
            changes.pop("locales", ("de_DE", "en_US")),
            changes.pop("scope", "ecommerce"),
        )
        return AkeneoPull(
            AkeneoSource.model_validate(source | changes),
            AkeneoCredentials.model_validate(credentials),
            tuple(locales),
            (scope,) if isinstance(scope, str) else tuple(scope),
        )

    def client(self, settings: AkeneoPull | None = None, **kwargs: Any) -> AkeneoClient:
        pull = settings or self.settings()
        return AkeneoClient(pull.source, pull.credentials, sleep=self.waits.append, **kwargs)

    def pull(self, settings: AkeneoPull | None = None, **kwargs: Any) -> PullResult:
        with self.client(settings) as client:
            return pull_catalog(settings or self.settings(), client=client, **kwargs)


def read_store(store: Path) -> dict[str, list[Item]]:
    """Every file of the store, one parsed item per line, in file order."""
    return {
        name: [json.loads(line) for line in (store / f"{name}.jsonl").read_text().splitlines()]
        for name in FILES
    }


def key_of(name: str, item: Item) -> tuple[str, ...]:
    return tuple(item[k] for k in KEYS.get(name, ("code",)))


def expected(state: AkeneoState, locales: list[str], scope: str) -> dict[str, list[Item]]:
    """The served catalog as the store should hold it for the settings: API items (values
    only for ``locales``/``scope``) sorted by key, every variant with its family."""
    return {
        name: sorted(
            (
                visible_values(i, locales, scope) if name in VALUES else i
                for i in state.catalog.get(name, [])
            ),
            key=lambda i, name=name: key_of(name, i),
        )
        for name in FILES
    }
