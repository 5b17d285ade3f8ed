"""``channels.<name>.deliver``: push targets validated with their key paths; credentials are
named by environment variable only."""

from __future__ import annotations

from typing import Any

import pytest
from factories import default_config

from contracts.config import ConfigError, parse_config
from contracts.delivery_config import HttpTarget, SftpTarget

SFTP = {
    "kind": "sftp",
    "host": "127.0.0.1",
    "path": "/inbound",
    "username_env": "FEED_USER",
    "password_env": "FEED_PASSWORD",
}
HTTP = {"kind": "http", "url": "http://127.0.0.1:8080/import/{file}", "token_env": "FEED_TOKEN"}


def with_targets(*targets: dict[str, Any]) -> dict[str, Any]:
    data = default_config()
    data["channels"]["shop"]["deliver"] = list(targets)
    return data


def test_targets_parse_with_defaults_and_name_their_variables() -> None:
    config = parse_config(with_targets(SFTP, {**HTTP, "method": "POST"}))
    sftp, http = config.channels["shop"].deliver
    assert isinstance(sftp, SftpTarget)
    assert isinstance(http, HttpTarget)
    assert (sftp.port, sftp.ready_marker, sftp.retry.attempts) == (22, None, 5)
    assert sftp.credential_variables() == {"username": "FEED_USER", "password": "FEED_PASSWORD"}
    assert http.credential_variables() == {"token": "FEED_TOKEN"}
    assert config.deliveries() == {"shop": (sftp, http)}
    assert "deliver" not in config.channels["shop"].options()


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({**SFTP, "port": 70000}, "channels.shop.deliver.0.sftp.port"),
        ({**SFTP, "password_env": None}, "exactly one of password_env and key_env"),
        ({**SFTP, "key_env": "FEED_KEY"}, "exactly one of password_env and key_env"),
        ({**SFTP, "password_env": "secret value!"}, "channels.shop.deliver.0.sftp.password_env"),
        ({**SFTP, "ready_marker": "a/b"}, "channels.shop.deliver.0.sftp.ready_marker"),
        ({**SFTP, "path": "../etc"}, "channels.shop.deliver.0.sftp.path"),
        ({**SFTP, "password": "hunter2"}, "channels.shop.deliver.0.sftp.password"),
        ({**HTTP, "url": "ftp://host/x"}, "channels.shop.deliver.0.http.url"),
        ({**HTTP, "url": "https://user:pw@host/x"}, "without credentials"),
        ({**HTTP, "method": "GET"}, "channels.shop.deliver.0.http.method"),
        ({**HTTP, "retry": {"attempts": 0}}, "channels.shop.deliver.0.http.retry.attempts"),
        ({"kind": "s3", "bucket": "b"}, "channels.shop.deliver.0"),
    ],
)
def test_an_invalid_target_names_its_key_path(target: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected.replace(".", r"\.")):
        parse_config(with_targets(target), origin="prism.yaml")
