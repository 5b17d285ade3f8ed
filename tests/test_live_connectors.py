"""The pipeline on live connectors (a local Akeneo and SAP on 127.0.0.1) publishes exactly the
feeds that an equivalent file drop publishes, and a source that echoes credentials in its errors
gets none of them into the run's event log or output."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import sqlalchemy as sa
from factories import workspace_config
from servers.akeneo import TOKEN_PATH, AkeneoState, Fault, akeneo_handler, load_catalog
from servers.running import serve
from servers.sap import CONDITIONS, SapService, from_snapshot, serve_sap

from contracts.config import PrismConfig, parse_config
from demo import generate_demo_data
from pipelines.definitions import JOB_NAME, build_definitions
from sources.erp_files import read_erp_snapshot

AS_OF = dt.date(2026, 11, 22)
FILES = (
    "website/products.jsonl",
    "shop/products.csv",
    "marketplace/google_merchant.xml",
    "quoting/C1000.xml",
    "quoting/C2000.xml",
)


PLANTS = {"1010": "DE-HAM", "1020": "DE-MUC", "1030": "AT-VIE"}


def config_for(root: Path, pim: dict, erp: dict) -> PrismConfig:
    data = workspace_config(root)
    data["as_of"] = AS_OF.isoformat()
    data["pim"] = pim
    data["erp"] = erp
    return parse_config(data)


def publish(config: PrismConfig) -> Path:
    job = build_definitions(config).resolve_job_def(JOB_NAME)
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert result.success
    return config.publish.directory / "current"


def comparable(path: Path) -> str:
    """Feed text without the generation time, which differs between any two runs."""
    text = path.read_text(encoding="utf-8")
    return re.sub(r'<DATETIME type="generation_date">.*?</DATETIME>', "", text, flags=re.S)


def portal_rows(root: Path) -> dict[str, list[tuple]]:
    engine = sa.create_engine(f"sqlite:///{root / 'portal.sqlite'}")
    with engine.connect() as conn:
        rows = {
            view: sorted(conn.execute(sa.text(f"SELECT * FROM {view}")).all())
            for view in ("products", "prices", "availability")
        }
    engine.dispose()
    return rows


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("live") / "data"
    generate_demo_data(root, products=500, seed=11, as_of=AS_OF)
    return root


@pytest.fixture(scope="module")
def akeneo(data: Path) -> Iterator[tuple[str, AkeneoState]]:
    state = AkeneoState(load_catalog(next((data / "pim").iterdir())))
    with serve(akeneo_handler(state)) as url, pytest.MonkeyPatch.context() as env:
        env.setenv("AKENEO_CLIENT_ID", state.client_id)
        env.setenv("AKENEO_CLIENT_SECRET", state.secret)
        env.setenv("AKENEO_USERNAME", state.username)
        env.setenv("AKENEO_PASSWORD", state.password)
        yield url, state


def test_live_akeneo_publishes_what_the_file_drop_publishes(
    data: Path, akeneo: tuple[str, AkeneoState]
) -> None:
    url, state = akeneo
    drop_root, live_root = data.parent / "drop", data.parent / "akeneo"
    erp = {"kind": "files", "path": str(data / "erp")}
    dropped = publish(config_for(drop_root, {"kind": "files", "path": str(data / "pim")}, erp))
    live_pim = {"kind": "akeneo", "base_url": url, "store": str(live_root / "store")}
    pulled = publish(config_for(live_root, live_pim, erp))
    for name in FILES:
        assert comparable(pulled / name) == comparable(dropped / name), name
    assert portal_rows(live_root) == portal_rows(drop_root)
    products = [r for r in state.requests if r.path == "/api/rest/v1/products-uuid"]
    assert products
    # the shipped channels read two Akeneo channels (ecommerce, print): every scope is asked for
    assert all("scope" not in r.params for r in products)
    assert all(r.params.get("locales") == "de_DE,en_US,fr_FR" for r in products)


def sap_representable(erp: Path, target: Path) -> Path:
    """The demo ERP snapshot as SAP can hold it: parseable rows, amounts with 3 decimals,
    no reservations or receipt dates (not in these APIs), lead time 0 = not maintained."""
    snapshot = read_erp_snapshot(next(erp.iterdir()))
    folder = target / "20261122T060000Z"
    folder.mkdir(parents=True)
    snapshot.prices.with_columns(pl.col("amount").cast(pl.Decimal(38, 3))).drop(
        "erp_source"
    ).write_csv(folder / "prices.csv")
    snapshot.stock.with_columns(reserved=0).drop("erp_source").write_csv(folder / "stock.csv")
    snapshot.supply.with_columns(
        pl.col("lead_time_days").replace(0, None), next_receipt_date=None
    ).drop("erp_source").write_csv(folder / "supply.csv")
    return target


def test_live_sap_publishes_what_the_file_drop_publishes(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop = sap_representable(data / "erp", data.parent / "sap_drop")
    pim = {"kind": "files", "path": str(data / "pim")}
    drop_root, live_root = data.parent / "sap_file", data.parent / "sap_live"
    rewritten = {"kind": "files", "path": str(drop), "ready_marker": None}  # no marker written
    dropped = publish(config_for(drop_root, pim, rewritten))
    service = SapService(from_snapshot(next(drop.iterdir()), PLANTS), page_size=500)
    monkeypatch.setenv("SAP_USER", service.user)
    monkeypatch.setenv("SAP_PASSWORD", service.password)
    with serve_sap(service) as url:
        erp = {"kind": "sap", "base_url": url, "root": str(live_root / "erp"), "plants": PLANTS}
        pulled = publish(config_for(live_root, pim, erp))
    for name in FILES:
        assert comparable(pulled / name) == comparable(dropped / name), name
    assert portal_rows(live_root) == portal_rows(drop_root)


# Source loggers go to the event log (and Dagster's console) too, as a deployment may have it.
LOGGED_SOURCES = {
    "python_logs": {"managed_python_loggers": ["sources"], "python_log_level": "DEBUG"}
}
SAP_TOKEN = "sap-bearer-t0ken"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def logged_run(config: PrismConfig) -> tuple[bool, list[str]]:
    """Run the job; whether it succeeded, and every event log record of the run as text."""
    job = build_definitions(config).resolve_job_def(JOB_NAME)
    with dg.DagsterInstance.ephemeral(settings=LOGGED_SOURCES) as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        texts = [dg.serialize_value(entry) for entry in instance.all_logs(result.run_id)]
        run = instance.get_run_by_id(result.run_id)
        texts.append(dg.serialize_value(run))
    return result.success, texts


@pytest.mark.parametrize("echo", ["akeneo", "sap-basic", "sap-bearer"])
def test_credentials_echoed_by_a_live_source_reach_no_log_or_output(
    echo: str,
    data: Path,
    akeneo: tuple[str, AkeneoState],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    url, state = akeneo
    drop = next(sap_representable(data / "erp", tmp_path / "sap_drop").iterdir())
    bearer = echo == "sap-bearer"
    service = SapService(from_snapshot(drop, PLANTS), page_size=500)
    if bearer:
        service.token, service.user, service.password = SAP_TOKEN, None, None
        monkeypatch.setenv("SAP_TOKEN", SAP_TOKEN)
    else:
        monkeypatch.setenv("SAP_USER", "PRISM")
        monkeypatch.setenv("SAP_PASSWORD", "s3cret")
    if echo == "akeneo":  # a 401 forces a refresh, whose refusal is logged, then a password grant
        products = "/api/rest/v1/products-uuid"
        state.inject(Fault("unauthorized", products), Fault("echo", TOKEN_PATH, on=2, times=2))
    else:
        service.fail("echo", CONDITIONS)
    pim = {"kind": "akeneo", "base_url": url, "store": str(tmp_path / "store")}
    issued_before = len(state.issued)
    try:
        with serve_sap(service) as sap_url:
            erp = {"kind": "sap", "base_url": sap_url, "root": str(tmp_path / "erp")}
            erp |= {"plants": PLANTS, "auth": "bearer" if bearer else "basic"}
            success, texts = logged_run(config_for(tmp_path, pim, erp))
    finally:
        state.inject()
    output = capfd.readouterr()
    secrets = [
        state.secret,
        state.password,
        b64(f"{state.client_id}:{state.secret}"),
        *state.issued[issued_before:],
        "s3cret",
        b64("PRISM:s3cret"),
        SAP_TOKEN,
        b64(SAP_TOKEN),
    ]
    assert not success
    assert state.issued[issued_before:]
    leaks = {s for s in secrets for text in [*texts, output.out, output.err] if s in text}
    assert leaks == set()
    assert any("HTTP 400" in text and "***" in text for text in texts)  # the echo, masked
    source_log = "falling back to the password grant" if echo == "akeneo" else "akeneo: full pull"
    assert any(source_log in text for text in texts)  # source log records are in the event log
    assert "HTTP 400" in output.err
