"""Where a channel's published files are pushed (``channels.<name>.deliver`` of prism.yaml).

A target names the environment variables holding its credentials, never the secrets: the
configuration file can be committed, and ``credential_variables()`` lists what must be set
(``prism validate-config`` checks it, the Dagster resource binds them with ``dg.EnvVar``).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, model_validator

from contracts.paths import LocalPath
from contracts.retry import RetryPolicy
from contracts.validators import Strict, matching

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")
FILE_PLACEHOLDER = "{file}"


_env_name = matching(_ENV_NAME, "not an environment variable name such as FEED_SFTP_PASSWORD")
_host = matching(_HOST, "not a host name or IP address such as sftp.example.com")


def _plain_name(value: str) -> str:
    if not value or "/" in value or value in {".", ".."}:
        msg = f"{value!r} must be a plain file name such as '_READY'"
        raise ValueError(msg)
    return value


def _remote_dir(value: str) -> str:
    if not value or any(part == ".." for part in PurePosixPath(value).parts):
        msg = f"{value!r} must be a folder on the server such as /inbound/feeds (no '..')"
        raise ValueError(msg)
    return value


def _target_url(value: str) -> str:
    """An http(s) URL without credentials or fragment; ``{file}`` is the only placeholder."""
    filled = value.replace(FILE_PLACEHOLDER, "x")
    url = urlsplit(filled)
    if url.scheme not in {"http", "https"} or not url.hostname or "{" in filled or "}" in filled:
        msg = f"{value!r} is not an http(s) URL (optionally with {{file}}) such as "
        raise ValueError(msg + "https://channel.example.com/import/{file}")
    if url.username or url.password or url.fragment:
        msg = f"{value!r}: give the URL without credentials (use token_env) or fragment"
        raise ValueError(msg)
    try:
        url.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError as error:
        msg = f"{value!r}: {error}"
        raise ValueError(msg) from None
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]
TargetUrl = Annotated[str, AfterValidator(_target_url)]


class DeliveryRetry(Strict):
    """How often a transient failure (timeout, lost connection, HTTP 5xx or 429) is retried:
    exponential backoff with full jitter, capped; a 429's Retry-After is honoured."""

    attempts: int = Field(default=5, ge=1, le=20, description="tries per file, the first included")
    backoff_seconds: float = Field(default=1.0, ge=0, le=300)
    max_backoff_seconds: float = Field(default=60.0, ge=0, le=3600)
    timeout_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="per connection attempt and per read"
    )

    def policy(self) -> RetryPolicy:
        """These settings as the retry policy the HTTP and SFTP pushes share."""
        return RetryPolicy(self.attempts, self.backoff_seconds, self.max_backoff_seconds)


class SftpTarget(Strict):
    """Each file goes to ``<path>/<name>.part`` and is then renamed to ``<path>/<name>``, so
    the receiver never sees a partial file under its final name; ``ready_marker`` (if set) is
    written last the same way."""

    kind: Literal["sftp"]
    host: Annotated[str, AfterValidator(_host)]
    port: int = Field(default=22, ge=1, le=65535)
    path: Annotated[str, AfterValidator(_remote_dir)] = "."
    username_env: EnvName
    password_env: EnvName | None = None
    key_env: EnvName | None = Field(
        default=None, description="variable holding a private key (OpenSSH or PEM text)"
    )
    known_hosts: LocalPath | None = Field(
        default=None, description="known_hosts file with the server's key; null = ~/.ssh's"
    )
    ready_marker: Annotated[str, AfterValidator(_plain_name)] | None = None
    retry: DeliveryRetry = DeliveryRetry()

    @model_validator(mode="after")
    def _one_secret(self) -> SftpTarget:
        if (self.password_env is None) == (self.key_env is None):
            msg = "give exactly one of password_env and key_env"
            raise ValueError(msg)
        return self

    def credential_variables(self) -> dict[str, str]:
        """Credential -> the environment variable holding it."""
        found = {"username": self.username_env}
        if self.password_env:
            found["password"] = self.password_env
        if self.key_env:
            found["key"] = self.key_env
        return found

    def label(self) -> str:
        return f"sftp://{self.host}:{self.port}/{self.path.lstrip('/')}"


class HttpTarget(Strict):
    """Each file is sent as the body of one request to ``url`` (``{file}`` is replaced by the
    file's name); ``ready_url`` (if set) is POSTed a JSON list of the files once all arrived."""

    kind: Literal["http"]
    url: TargetUrl
    method: Literal["PUT", "POST"] = "PUT"
    token_env: EnvName | None = Field(
        default=None, description="variable holding a bearer token (Authorization header)"
    )
    headers_env: EnvName | None = Field(
        default=None, description='variable holding extra headers as JSON, e.g. {"X-Key": "..."}'
    )
    ready_url: TargetUrl | None = None
    retry: DeliveryRetry = DeliveryRetry()

    def credential_variables(self) -> dict[str, str]:
        """Credential -> the environment variable holding it."""
        found = {}
        if self.token_env:
            found["token"] = self.token_env
        if self.headers_env:
            found["headers"] = self.headers_env
        return found

    def label(self) -> str:
        return self.url


DeliveryTarget = Annotated[SftpTarget | HttpTarget, Field(discriminator="kind")]
