"""Push delivery after a publish, against a local SFTP server and a local HTTP receiver:
temp-name-then-rename, retries with backoff, receipts, and no credential in any log record,
receipt or error."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest
from servers.receiver import Receiver, http_receiver
from servers.sftp import SftpLog, sftp_server

from contracts.delivery_config import DeliveryTarget, HttpTarget, SftpTarget
from contracts.snapshots import FeedFile, Manifest
from sinks.delivery import deliver, pending, read_receipts
from sinks.delivery.receipts import RECEIPTS
from sinks.publish import publish_snapshot
from sinks.snapshot_store import SnapshotStore

SNAPSHOT = "20261120T080000Z-0000000a"
PASSWORD = "pa55-w0rd-xyz"
TOKEN = "t0ken-abc-123"
ENV = {"FEED_USER": "prism", "FEED_PASSWORD": PASSWORD, "FEED_TOKEN": TOKEN}
CSV = "sku;price\n" + "".join(f"{i};{i}.99\n" for i in range(2000))
XML = "<feed>" + "<item/>" * 500 + "</feed>"


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore(tmp_path / "feeds")


@pytest.fixture
def manifest(store: SnapshotStore) -> Manifest:
    """A live snapshot whose channel ``shop`` has two files (and a rows file not delivered)."""
    folder = store.channel_dir(SNAPSHOT, "shop")
    (folder / "products.csv").write_text(CSV, encoding="utf-8")
    (folder / "products.xml").write_text(XML, encoding="utf-8")
    (folder / "rows.parquet").write_bytes(b"not delivered")
    files = [
        FeedFile("shop", "shop/products.csv", 2000),
        FeedFile("shop", "shop/products.xml", 500),
        FeedFile("shop", "shop/rows.parquet", 2000, kind="rows"),
    ]
    staged = Manifest(SNAPSHOT, "2026-11-20", "2026-11-20T08:00:00+00:00", {}, files)
    sealed, _ = publish_snapshot(store, staged, {}, 5, None)
    return sealed


@pytest.fixture(autouse=True)
def _logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


@pytest.fixture
def sftp_root(tmp_path: Path) -> Path:
    root = tmp_path / "sftp"
    (root / "inbound").mkdir(parents=True)
    return root


def sftp_target(port: int, known_hosts: Path, **settings: object) -> SftpTarget:
    return SftpTarget.model_validate(
        {
            "kind": "sftp",
            "host": "127.0.0.1",
            "port": port,
            "path": "/inbound",
            "username_env": "FEED_USER",
            "password_env": "FEED_PASSWORD",
            "known_hosts": known_hosts,
            "retry": {"attempts": 3, "backoff_seconds": 0.01, "timeout_seconds": 5},
            **settings,
        }
    )


def http_target(base_url: str, **settings: object) -> HttpTarget:
    return HttpTarget.model_validate(
        {
            "kind": "http",
            "url": f"{base_url}/import/{{file}}",
            "token_env": "FEED_TOKEN",
            "retry": {"attempts": 3, "backoff_seconds": 0.01, "timeout_seconds": 0.5},
            **settings,
        }
    )


def push(store: SnapshotStore, manifest: Manifest, target: DeliveryTarget, index: int = 0):  # type: ignore[no-untyped-def]
    sleeps: list[float] = []
    receipt = deliver(store, manifest, "shop", index, target, ENV, sleep=sleeps.append)
    return receipt, sleeps


def assert_no_secret(caplog: pytest.LogCaptureFixture, store: SnapshotStore) -> None:
    text = "\n".join(r.getMessage() + str(r.exc_text or "") for r in caplog.records)
    text += (store.root / RECEIPTS).read_text(encoding="utf-8")
    for secret in (PASSWORD, TOKEN):
        assert secret not in text
        assert base64.b64encode(secret.encode()).decode() not in text


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- SFTP -------------------------------------------------------------------------------------


def test_sftp_uploads_under_a_temporary_name_then_renames_and_writes_the_marker_last(
    store: SnapshotStore,
    manifest: Manifest,
    sftp_root: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with sftp_server(sftp_root, "prism", PASSWORD) as server:
        target = sftp_target(server.port, server.known_hosts, ready_marker="_READY")
        (sftp_root / "inbound" / "products.csv").write_text("old", encoding="utf-8")
        receipt, _ = push(store, manifest, target)

    assert receipt.ok, receipt.error
    inbound = sftp_root / "inbound"
    assert sorted(p.name for p in inbound.iterdir()) == ["_READY", "products.csv", "products.xml"]
    assert (inbound / "products.csv").read_text(encoding="utf-8") == CSV
    assert server.log.events == [
        ("open", "products.csv.part"),
        ("posix", "products.csv.part", "products.csv"),
        ("open", "products.xml.part"),
        ("posix", "products.xml.part", "products.xml"),
        ("open", "_READY.part"),
        ("posix", "_READY.part", "_READY"),
    ]
    marker = json.loads((inbound / "_READY").read_text(encoding="utf-8"))
    assert marker["snapshot_id"] == SNAPSHOT
    assert [f["sha256"] for f in marker["files"]] == [sha(CSV), sha(XML)]
    assert receipt.bytes == len(CSV) + len(XML)
    assert receipt.attempts == 1
    assert_no_secret(caplog, store)


def test_sftp_without_posix_rename_removes_then_renames(
    store: SnapshotStore, manifest: Manifest, sftp_root: Path
) -> None:
    (sftp_root / "inbound" / "products.csv").write_text("old", encoding="utf-8")
    with sftp_server(sftp_root, "prism", PASSWORD, log=SftpLog(posix_rename=False)) as server:
        receipt, _ = push(store, manifest, sftp_target(server.port, server.known_hosts))

    assert receipt.ok, receipt.error
    assert ("rename", "products.csv.part", "products.csv") in server.log.events
    assert (sftp_root / "inbound" / "products.csv").read_text(encoding="utf-8") == CSV


def test_sftp_retries_a_transient_failure_without_resending_renamed_files(
    store: SnapshotStore,
    manifest: Manifest,
    sftp_root: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = SftpLog(fail_once={"products.xml.part"})
    with sftp_server(sftp_root, "prism", PASSWORD, log=log) as server:
        target = sftp_target(server.port, server.known_hosts)
        receipt, sleeps = push(store, manifest, target)

    assert receipt.ok
    assert receipt.attempts == 2
    assert len(sleeps) == 1
    opened = [e[1] for e in log.events if e[0] == "open"]
    assert opened == ["products.csv.part", "products.xml.part"]  # csv not sent twice
    assert "retry 1" in caplog.text
    assert_no_secret(caplog, store)


def test_sftp_refused_login_is_not_retried_and_names_no_password(
    store: SnapshotStore,
    manifest: Manifest,
    sftp_root: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with sftp_server(sftp_root, "prism", "another-password") as server:
        receipt, sleeps = push(store, manifest, sftp_target(server.port, server.known_hosts))

    assert not receipt.ok
    assert receipt.attempts == 1
    assert sleeps == []
    assert receipt.error is not None
    assert "not retried" in receipt.error
    assert list((sftp_root / "inbound").iterdir()) == []
    assert_no_secret(caplog, store)


def test_sftp_unknown_host_key_is_refused(
    store: SnapshotStore, manifest: Manifest, sftp_root: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other_known_hosts"
    key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    with sftp_server(sftp_root, "prism", PASSWORD) as server:
        other.write_text(f"[127.0.0.1]:{server.port} {key}", encoding="utf-8")
        receipt, _ = push(store, manifest, sftp_target(server.port, other))

    assert not receipt.ok
    assert "HostKeyNotVerifiable" in (receipt.error or "")


def test_sftp_with_a_private_key(store: SnapshotStore, manifest: Manifest, sftp_root: Path) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    env = {"FEED_USER": "prism", "FEED_KEY": key.export_private_key().decode()}
    with sftp_server(sftp_root, "prism", "unused", client_key=key) as server:
        target = sftp_target(server.port, server.known_hosts, password_env=None, key_env="FEED_KEY")
        receipt = deliver(store, manifest, "shop", 0, target, env, sleep=lambda _: None)

    assert receipt.ok, receipt.error


# --- HTTP -------------------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver(Receiver()) as running:
        yield running


def test_http_put_streams_each_file_with_its_digest_and_snapshot(
    store: SnapshotStore,
    manifest: Manifest,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = http_target(receiver.base_url, ready_url=f"{receiver.base_url}/ready")
    receipt, sleeps = push(store, manifest, target)

    assert receipt.ok
    assert receipt.attempts == 3
    assert sleeps == []
    csv, xml, ready = receiver.received
    assert (csv.method, csv.path, csv.body.decode()) == ("PUT", "/import/products.csv", CSV)
    assert xml.path == "/import/products.xml"
    assert xml.body.decode() == XML
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert xml.headers["Content-Type"] == "application/xml"
    assert csv.headers["Content-Length"] == str(len(CSV))
    assert "Transfer-Encoding" not in csv.headers
    assert csv.headers["X-Prism-Snapshot"] == SNAPSHOT
    digest = base64.b64encode(hashlib.sha256(CSV.encode()).digest()).decode()
    assert csv.headers["Digest"] == f"sha-256={digest}"
    assert csv.headers["Authorization"] == f"Bearer {TOKEN}"
    assert (ready.method, ready.path) == ("POST", "/ready")
    assert [f["name"] for f in json.loads(ready.body)["files"]] == ["products.csv", "products.xml"]
    assert_no_secret(caplog, store)


@pytest.mark.parametrize("answer", [503, 429, "sleep"])
def test_http_retries_5xx_429_and_timeouts_with_backoff(
    store: SnapshotStore,
    manifest: Manifest,
    receiver: Receiver,
    answer: int | str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.script = [answer, answer]
    receipt, sleeps = push(store, manifest, http_target(receiver.base_url, method="POST"))

    assert receipt.ok, receipt.error
    assert receipt.attempts == 4
    assert len(sleeps) == 2
    assert [r.path for r in receiver.received][-2:] == [
        "/import/products.csv",
        "/import/products.xml",
    ]
    assert receiver.received[-1].body.decode() == XML
    assert_no_secret(caplog, store)


def test_http_gives_up_after_the_attempts_and_keeps_the_snapshot_owed(
    store: SnapshotStore,
    manifest: Manifest,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = http_target(receiver.base_url)
    receiver.script = [503, 503, 503]
    failed, _ = push(store, manifest, target)

    assert not failed.ok
    assert failed.attempts == 3
    assert failed.error is not None
    assert "503" in failed.error
    assert "***" in failed.error
    assert pending(store, SNAPSHOT, {"shop": (target,)}) == [("shop", 0)]

    again, _ = push(store, manifest, target)
    assert again.ok
    assert pending(store, SNAPSHOT, {"shop": (target,)}) == []
    assert [r.outcome for r in read_receipts(store.root)] == ["failed", "ok"]
    assert_no_secret(caplog, store)


def test_http_4xx_is_not_retried_and_the_echoed_token_is_masked(
    store: SnapshotStore,
    manifest: Manifest,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.script = [400]
    receipt, sleeps = push(store, manifest, http_target(receiver.base_url))

    assert not receipt.ok
    assert receipt.attempts == 1
    assert sleeps == []
    assert receipt.error is not None
    assert "Bearer ***" in receipt.error
    assert_no_secret(caplog, store)


def test_header_values_from_the_environment_are_masked_too(
    store: SnapshotStore, manifest: Manifest, receiver: Receiver
) -> None:
    receiver.script = [400]
    target = http_target(receiver.base_url, token_env=None, headers_env="FEED_HEADERS")
    env = {"FEED_HEADERS": json.dumps({"X-Api-Key": "k3y-v4lue"})}
    receipt = deliver(store, manifest, "shop", 0, target, env)

    assert receiver.received[0].headers["X-Api-Key"] == "k3y-v4lue"
    assert receipt.error is not None
    assert "k3y-v4lue" not in receipt.error
    assert "k3y-v4lue" not in (store.root / RECEIPTS).read_text(encoding="utf-8")


def test_a_missing_credential_fails_naming_the_variable(
    store: SnapshotStore, manifest: Manifest, receiver: Receiver
) -> None:
    receipt = deliver(store, manifest, "shop", 0, http_target(receiver.base_url), {})

    assert not receipt.ok
    assert receipt.attempts == 0
    assert receiver.received == []
    assert "FEED_TOKEN" in (receipt.error or "")


def test_receipts_survive_a_torn_last_line(
    store: SnapshotStore, manifest: Manifest, receiver: Receiver
) -> None:
    push(store, manifest, http_target(receiver.base_url))
    with (store.root / RECEIPTS).open("a", encoding="utf-8") as stream:
        stream.write('{"channel": "shop", "targ')
    (receipt,) = read_receipts(store.root)
    assert receipt.ok
    assert receipt.snapshot_id == SNAPSHOT
    assert [f.sha256 for f in receipt.files] == [sha(CSV), sha(XML)]
