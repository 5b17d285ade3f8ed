"""Who may read which channel, and whose prices: channel, customer and OIDC bearer tokens.

A channel or customer token is compared as its sha256 with ``hmac.compare_digest`` against
every configured hash (the file holds hashes only). A JWT must be signed RS256 or ES256 with a
key from the configured JWKS (URL or file), for the configured audience, by the configured
issuer, and not expired; its channels claim names the channels it may read, its roles claim may
make it an operator (every channel), its customer claim (when configured) scopes it to one
customer's prices.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from contracts.config import ChannelAccess, OidcConfig, ServeConfig

log = logging.getLogger(__name__)


class AccessConfigError(ValueError):
    """The serve section cannot be used as it is (e.g. a token variable is not set)."""


@dataclass(frozen=True)
class Principal:
    """Who is asking: the channels they may read (``everything``: an operator), and the one
    customer whose prices they may ask for (None: not customer-scoped)."""

    name: str
    channels: frozenset[str]
    everything: bool = False
    customer: str | None = None

    def may_read(self, channel: str) -> bool:
        return self.everything or channel in self.channels

    def may_price(self, customer: str, channel: str) -> bool:
        """Whether they may ask for ``customer``'s prices on the price ``channel``: a
        customer-scoped principal for its own customer only; else an operator, or whoever may
        read the channel (its catalogs hold every customer's prices anyway)."""
        if self.customer is not None:
            return customer == self.customer
        return self.may_read(channel)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def channel_token_hashes(config: ServeConfig, env: Mapping[str, str]) -> dict[str, list[str]]:
    """channel -> the sha256 hashes of its tokens (configured hashes plus the plaintext of
    ``token_env`` variables, hashed now); a variable that is not set fails, naming it."""
    return {
        channel: _hashes(access, env, f"serve.channels.{channel}")
        for channel, access in config.channels.items()
    }


def customer_token_hashes(config: ServeConfig, env: Mapping[str, str]) -> dict[str, list[str]]:
    """customer id -> the sha256 hashes of its tokens (``serve.prices.customers``); one token
    for two customers fails, naming both."""
    found = {
        customer: _hashes(access, env, f"serve.prices.customers.{customer}")
        for customer, access in config.prices.customers.items()
    }
    owners: dict[str, str] = {}
    for customer, hashes in found.items():
        for digest in hashes:
            if owners.setdefault(digest, customer) != customer:
                msg = f"serve.prices.customers: {owners[digest]!r} and {customer!r} share a token"
                raise AccessConfigError(msg)
    return found


def _hashes(access: ChannelAccess, env: Mapping[str, str], where: str) -> list[str]:
    hashes = list(access.token_sha256)
    for name in access.token_env:
        value = env.get(name)
        if not value:
            msg = f"{where}.token_env: environment variable {name} is not set"
            raise AccessConfigError(msg)
        hashes.append(token_hash(value))
    return hashes


class OidcVerifier:
    """Verifies a JWT against the configured issuer, audience and JWKS."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._client: jwt.PyJWKClient | None = None
        self._keys: jwt.PyJWKSet | None = None
        if config.jwks_url is not None:
            self._client = jwt.PyJWKClient(config.jwks_url, cache_keys=True, lifespan=300)
        elif config.jwks_file is not None:
            try:
                data = json.loads(config.jwks_file.read_text(encoding="utf-8"))
                self._keys = jwt.PyJWKSet.from_dict(data)
            except (OSError, ValueError, jwt.PyJWTError) as error:
                msg = f"serve.oidc.jwks_file {config.jwks_file}: unusable ({error})"
                raise AccessConfigError(msg) from None

    def _key(self, token: str) -> Any:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        assert self._keys is not None
        kid = jwt.get_unverified_header(token).get("kid")
        keys = [k for k in self._keys.keys if kid is None or k.key_id == kid]
        if not keys:
            msg = f"no key {kid!r} in the JWKS"
            raise jwt.InvalidTokenError(msg)
        return keys[0].key

    def principal(self, token: str) -> Principal:
        """The token's principal; ``jwt.PyJWTError`` when it is not to be trusted."""
        config = self.config
        claims = jwt.decode(
            token,
            self._key(token),
            algorithms=list(config.algorithms),
            audience=config.audience,
            issuer=config.issuer,
            leeway=config.leeway_seconds,
            options={"require": ["exp", "iss", "aud"]},
        )
        customer = claims.get(config.customer_claim) if config.customer_claim else None
        return Principal(
            name=f"oidc:{claims.get('sub', '?')}",
            channels=frozenset(_names(claims.get(config.channels_claim))),
            everything=config.operator_role in _names(claims.get(config.roles_claim)),
            customer=customer if isinstance(customer, str) and customer else None,
        )


def _names(value: object) -> list[str]:
    """A claim holding names: a list of strings or one space-separated string (a scope)."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


class Access:
    """Turns an ``Authorization`` header into a principal (None: not authenticated)."""

    def __init__(self, config: ServeConfig, env: Mapping[str, str]) -> None:
        self._hashes = channel_token_hashes(config, env)
        self._customers = customer_token_hashes(config, env)
        self._oidc = OidcVerifier(config.oidc) if config.oidc is not None else None

    def principal(self, authorization: str | None) -> Principal | None:
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        if token.count(".") == 2 and self._oidc is not None:
            try:
                return self._oidc.principal(token)
            except jwt.PyJWTError as error:
                log.info("bearer JWT refused: %s", error)
                return None
        return self._channel_token(token)

    def _channel_token(self, token: str) -> Principal | None:
        digest = token_hash(token)
        channels = frozenset(_matching(digest, self._hashes))
        customer = next(iter(_matching(digest, self._customers)), None)
        if not channels and customer is None:
            return None
        name = "token" if customer is None else f"customer:{customer}"
        return Principal(name=name, channels=channels, customer=customer)


def _matching(digest: str, owners: Mapping[str, list[str]]) -> list[str]:
    """The owners (channels, customers) one of whose hashes is ``digest``; no short-circuit:
    every hash is compared, in constant time each."""
    return [
        owner
        for owner, hashes in owners.items()
        if sum(hmac.compare_digest(digest, h) for h in hashes)
    ]
