"""OIDC bearer tokens over real HTTP: JWTs signed RS256 or ES256 with keys from a JWKS file or a
JWKS URL, audience, issuer, signature and expiry checked; channels from the token's claim."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from servers.feed_service import FIRST, feed_service, publish, serve_config
from servers.running import serve

from sinks.snapshot_store import SnapshotStore

ISSUER = "https://sso.example.com/realms/prism"
AUDIENCE = "prism-feeds"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
STRANGER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks() -> dict[str, Any]:
    rsa_jwk = RSAAlgorithm.to_jwk(RSA_KEY.public_key(), as_dict=True)
    ec_jwk = ECAlgorithm.to_jwk(EC_KEY.public_key(), as_dict=True)
    return {
        "keys": [
            {**rsa_jwk, "kid": "rsa-1", "use": "sig", "alg": "RS256"},
            {**ec_jwk, "kid": "ec-1", "use": "sig", "alg": "ES256"},
        ]
    }


def token(
    *,
    key: Any = RSA_KEY,
    kid: str = "rsa-1",
    algorithm: str = "RS256",
    expires_in: float = 300,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "someone",
        "iat": now,
        "exp": now + expires_in,
        "prism_channels": ["shop"],
        **claims,
    }
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})


class JwksHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(jwks()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(params=["jwks_file", "jwks_url"])
def service_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    store = SnapshotStore(tmp_path / "feeds")
    publish(store, FIRST)
    oidc: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE}
    if request.param == "jwks_file":
        path = tmp_path / "jwks.json"
        path.write_text(json.dumps(jwks()), encoding="utf-8")
        oidc["jwks_file"] = str(path)
        with feed_service(store.root, serve_config(oidc=oidc)) as running:
            yield running.url
    else:
        with serve(JwksHandler) as jwks_url:
            oidc["jwks_url"] = f"{jwks_url}/protocol/openid-connect/certs"
            with feed_service(store.root, serve_config(oidc=oidc)) as running:
                yield running.url


def status(url: str, bearer: str, channel: str = "shop") -> int:
    headers = {"Authorization": f"Bearer {bearer}"}
    return httpx.get(f"{url}/v1/channels/{channel}/feed", headers=headers, timeout=10).status_code


def test_a_valid_token_reads_the_channels_of_its_claim(service_url: str) -> None:
    assert status(service_url, token()) == 200
    assert status(service_url, token(key=EC_KEY, kid="ec-1", algorithm="ES256")) == 200
    assert status(service_url, token(), channel="b2b") == 403
    scoped = token(prism_channels="shop b2b")  # a space-separated scope works too
    assert status(service_url, scoped, channel="b2b") == 300  # b2b has several files


def test_an_operator_reads_every_channel(service_url: str) -> None:
    operator = token(prism_channels=[], roles=["prism-operator"])
    assert status(service_url, operator, channel="b2b") == 300
    manifest = httpx.get(
        f"{service_url}/v1/snapshots/current/manifest",
        headers={"Authorization": f"Bearer {operator}"},
        timeout=10,
    ).json()
    assert {f["channel"] for f in manifest["files"]} == {"shop", "b2b", "*"}


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"aud": "someone-else"}, id="wrong audience"),
        pytest.param({"iss": "https://evil.example.com"}, id="wrong issuer"),
        pytest.param({"expires_in": -120}, id="expired"),
        pytest.param({"key": STRANGER_KEY}, id="wrong signature"),
        pytest.param({"kid": "unknown"}, id="unknown key"),
        pytest.param({"algorithm": "HS256", "key": "x" * 32}, id="symmetric algorithm"),
    ],
)
def test_an_untrustworthy_token_is_refused(service_url: str, bad: dict[str, Any]) -> None:
    assert status(service_url, token(**bad)) == 401


def test_a_token_without_expiry_is_refused(service_url: str) -> None:
    payload = {"iss": ISSUER, "aud": AUDIENCE, "prism_channels": ["shop"]}
    unexpiring = jwt.encode(payload, RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    assert status(service_url, unexpiring) == 401
