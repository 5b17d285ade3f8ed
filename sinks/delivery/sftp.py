"""Push files over SFTP (asyncssh): upload under a temporary name, then rename.

Each file goes to ``<path>/<name>.part`` and is renamed to ``<path>/<name>`` once complete, so
a receiver polling the folder never picks up a partial file under its final name. The rename
replaces an older file of that name atomically with the ``posix-rename@openssh.com`` extension
(OpenSSH and most servers); a server without it gets remove-then-rename, which leaves a moment
without the final file (never a partial one). The optional ready marker is written last, the
same way, holding the snapshot id and every file with bytes and sha256 as JSON.

Retried with the target's backoff: connection failures, timeouts and lost sessions; files
renamed in an earlier attempt are not sent again. Not retried: a refused login, an unknown host
key, a missing folder or a denied write. The host key is checked against ``known_hosts``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

with warnings.catch_warnings():
    # asyncssh still defines DSA key types, which cryptography deprecates: a warning on every
    # `prism` command otherwise, about keys Prism never uses
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    import asyncssh

from contracts.delivery_config import SftpTarget
from contracts.secrets import logger
from sinks.delivery.errors import DeliveryError, PermanentError
from sinks.delivery.receipts import DeliveredFile

log = logger(__name__)
PART = ".part"
PERMANENT = (
    asyncssh.PermissionDenied,
    asyncssh.HostKeyNotVerifiable,
    asyncssh.SFTPNoSuchFile,
    asyncssh.SFTPNoSuchPath,
    asyncssh.SFTPPermissionDenied,
)


@dataclass
class _Progress:
    attempts: int = 0
    done: set[str] = field(default_factory=set)


def push_sftp(
    target: SftpTarget,
    files: list[tuple[Path, DeliveredFile]],
    snapshot_id: str,
    credentials: Mapping[str, str],
    sleep: Callable[[float], None],
    rng: random.Random,
) -> int:
    """Upload every file and the ready marker; the number of connection attempts made."""
    policy = target.retry.policy()
    progress = _Progress()
    problem = ""
    for attempt in range(1, policy.attempts + 1):
        progress.attempts = attempt
        try:
            asyncio.run(_session(target, files, snapshot_id, credentials, progress))
        except PERMANENT as error:
            msg = f"{target.label()}: {_describe(error)} (not retried)"
            raise PermanentError(msg, attempt) from None
        except (OSError, TimeoutError, asyncssh.Error) as error:
            problem = _describe(error)
        else:
            return attempt
        if attempt < policy.attempts:
            wait = policy.delay(attempt, None, rng)
            log.warning("%s: %s; retry %d in %.1f s", target.label(), problem, attempt, wait)
            sleep(wait)
    msg = f"{target.label()}: failed after {policy.attempts} attempts ({problem})"
    raise DeliveryError(msg, policy.attempts)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


async def _session(
    target: SftpTarget,
    files: list[tuple[Path, DeliveredFile]],
    snapshot_id: str,
    credentials: Mapping[str, str],
    progress: _Progress,
) -> None:
    async with (
        asyncssh.connect(**_connect_options(target, credentials)) as connection,
        connection.start_sftp_client() as sftp,
    ):
        for path, file in files:
            if file.name not in progress.done:
                await sftp.put(str(path), _remote(target, file.name + PART))
                await _replace(sftp, target, file.name)
                progress.done.add(file.name)
        if target.ready_marker is not None:
            marker = {"snapshot_id": snapshot_id, "files": [vars(f) for _, f in files]}
            part = _remote(target, target.ready_marker + PART)
            async with sftp.open(part, "wb") as stream:
                await stream.write(json.dumps(marker, indent=2).encode())
            await _replace(sftp, target, target.ready_marker)


def _connect_options(target: SftpTarget, credentials: Mapping[str, str]) -> dict[str, object]:
    timeout = target.retry.timeout_seconds
    options: dict[str, object] = {
        "host": target.host.strip("[]"),
        "port": target.port,
        "username": credentials["username"],
        "known_hosts": str(target.known_hosts) if target.known_hosts else (),
        "connect_timeout": timeout,
        "login_timeout": timeout,
        "agent_path": None,
        "config": None,
    }
    if "key" in credentials:
        try:
            key = asyncssh.import_private_key(credentials["key"])
        except (asyncssh.KeyImportError, ValueError):
            msg = f"{target.label()}: the key variable does not hold a private key"
            raise PermanentError(msg) from None
        options.update(client_keys=[key], password=None)
    else:
        options.update(client_keys=None, password=credentials["password"])
    return options


def _remote(target: SftpTarget, name: str) -> str:
    return f"{target.path.rstrip('/')}/{name}" if target.path != "." else name


async def _replace(sftp: asyncssh.SFTPClient, target: SftpTarget, name: str) -> None:
    """Rename ``<name>.part`` over ``<name>`` (see the module docstring)."""
    part, final = _remote(target, name + PART), _remote(target, name)
    try:
        await sftp.posix_rename(part, final)
    except asyncssh.SFTPOpUnsupported:
        with contextlib.suppress(asyncssh.SFTPNoSuchFile):
            await sftp.remove(final)
        await sftp.rename(part, final)
