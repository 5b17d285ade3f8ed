"""A local SFTP server (asyncssh) on 127.0.0.1, a free port, rooted at a test's folder.

It records every file opened for writing and every rename, so a test can tell that a file
reached its final name only by a rename of a complete ``.part``; it can fail the next opens
or the first open of given names (a transient ``SFTPFailure``) and refuse the
``posix-rename`` extension (a server without it).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh


@dataclass
class SftpLog:
    """What the server saw, in order: ("open", name), ("rename", old, new), ("posix", old, new)."""

    events: list[tuple[str, ...]] = field(default_factory=list)
    fail_opens: int = 0
    """how many of the next opens for writing fail"""
    fail_once: set[str] = field(default_factory=set)
    """names whose first open for writing fails"""
    posix_rename: bool = True


@dataclass(frozen=True)
class SftpServer:
    port: int
    known_hosts: Path
    log: SftpLog


def _name(path: bytes) -> str:
    return Path(path.decode()).name


class _Sftp(asyncssh.SFTPServer):
    def __init__(self, chan: asyncssh.SSHServerChannel[bytes], root: Path, log: SftpLog) -> None:
        super().__init__(chan, chroot=str(root))
        self._log = log

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        if pflags & asyncssh.FXF_WRITE:
            if self._log.fail_opens > 0 or _name(path) in self._log.fail_once:
                self._log.fail_opens = max(self._log.fail_opens - 1, 0)
                self._log.fail_once.discard(_name(path))
                raise asyncssh.SFTPFailure("disk busy")
            self._log.events.append(("open", _name(path)))
        return super().open(path, pflags, attrs)

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        self._log.events.append(("rename", _name(oldpath), _name(newpath)))
        super().rename(oldpath, newpath)

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        if not self._log.posix_rename:
            raise asyncssh.SFTPOpUnsupported("posix-rename not supported")
        self._log.events.append(("posix", _name(oldpath), _name(newpath)))
        super().posix_rename(oldpath, newpath)


class _Auth(asyncssh.SSHServer):
    def __init__(self, username: str, password: str, client_key: asyncssh.SSHKey | None) -> None:
        self._username, self._password, self._key = username, password, client_key

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == self._username and password == self._password

    def public_key_auth_supported(self) -> bool:
        return self._key is not None

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        public = self._key.export_public_key() if self._key else b""
        return username == self._username and key.export_public_key() == public


@contextmanager
def sftp_server(
    root: Path,
    username: str,
    password: str,
    client_key: asyncssh.SSHKey | None = None,
    log: SftpLog | None = None,
) -> Iterator[SftpServer]:
    """Serve ``root`` while the block runs; ``known_hosts`` holds the server's host key."""
    log = log or SftpLog()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    host_key = asyncssh.generate_private_key("ssh-ed25519")

    def sftp(chan: Any) -> asyncssh.SFTPServer:
        return _Sftp(chan, root, log)

    async def listen() -> asyncssh.SSHAcceptor:
        return await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[host_key],
            server_factory=lambda: _Auth(username, password, client_key),
            sftp_factory=sftp,
            allow_scp=False,
        )

    server = asyncio.run_coroutine_threadsafe(listen(), loop).result(10)
    port = server.sockets[0].getsockname()[1]
    known_hosts = root.parent / f"known_hosts_{port}"
    public = host_key.export_public_key().decode().strip()
    known_hosts.write_text(f"[127.0.0.1]:{port} {public}\n", encoding="utf-8")
    try:
        yield SftpServer(port, known_hosts, log)
    finally:
        server.close()
        asyncio.run_coroutine_threadsafe(server.wait_closed(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
