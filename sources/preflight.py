"""What a run needs before it starts, checked without reading any data: every input the
configuration names exists (file-drop folders holding a complete snapshot, lookup tables) and
every credential the live sources and the push deliveries need is set in the environment.

Each problem names its key path (``pim.path``, ``erp.auth``,
``channels.<name>.fields.<target>.map.file``) so ``prism validate-config`` can point at the
line; a secret's value is never part of a message, only its variable's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from contracts.config import AkeneoSource, FileSource, PrismConfig, SapSource
from contracts.config_problems import Problem
from contracts.customers import from_erp
from sources.drops import DropError, Side, newest_drop


def input_problems(config: PrismConfig, environ: Mapping[str, str]) -> list[Problem]:
    """Every missing input and unset credential of ``config``, in the order of the file."""
    return [
        *_source_problems("pim", config.pim, environ),
        *_source_problems("erp", config.erp, environ),
        *_customer_problems(config),
        *_lookup_problems(config),
        *_delivery_problems(config, environ),
        *_execution_problems(config, environ),
    ]


def _execution_problems(config: PrismConfig, environ: Mapping[str, str]) -> list[Problem]:
    """The executor's broker and backend variables (a celery run without them cannot start),
    and a sharded run on a PIM drop it cannot split (its products as CSV)."""
    found = config.execution.credential_variables().items()
    problems = [
        Problem(("execution", key), f"{variable} is {state}")
        for key, variable in found
        if (state := _state(environ.get(variable)))
    ]
    source = config.pim
    if config.execution.shards > 1 and isinstance(source, FileSource):
        try:
            folder = newest_drop(source.path, "pim", source.ready_marker)
        except DropError:
            return problems  # said under pim.path
        if (folder / "products.csv").exists():
            reason = f"a sharded run splits products.jsonl; the PIM drop {folder} has products.csv"
            problems.append(Problem(("execution", "shards"), reason))
    return problems


def _delivery_problems(config: PrismConfig, environ: Mapping[str, str]) -> list[Problem]:
    """Push targets whose credentials are not in the environment (a delivery without them
    would fail after the publish; better said before the run)."""
    problems = []
    for name, targets in config.deliveries().items():
        for index, target in enumerate(targets):
            for credential, variable in target.credential_variables().items():
                if state := _state(environ.get(variable)):
                    loc = ("channels", name, "deliver", index, f"{credential}_env")
                    problems.append(Problem(loc, f"{variable} is {state}"))
    return problems


def drop_problem(root: Path, side: Side, ready_marker: str | None) -> str | None:
    """Why the file drop at ``root`` has no snapshot to read, or None when it has one."""
    if not root.exists():
        return f"folder {root.absolute()} does not exist"
    if not root.is_dir():
        return f"{root.absolute()} is a file, not a folder of snapshots"
    if not any(root.iterdir()):
        return f"folder {root.absolute()} is empty: no snapshot has been dropped there yet"
    try:
        newest_drop(root, side, ready_marker)
    except DropError as error:
        return str(error)
    return None


def _source_problems(
    side: Side, source: FileSource | AkeneoSource | SapSource, environ: Mapping[str, str]
) -> list[Problem]:
    if isinstance(source, FileSource):
        problem = drop_problem(source.path, side, source.ready_marker)
        return [] if problem is None else [Problem((side, "path"), problem)]
    variables = list(source.credential_variables().values())
    if isinstance(source, SapSource):
        loc, what = (side, "auth"), f"auth {source.auth}"
    else:
        loc, what = (side, "kind"), f"kind {source.kind}"
    unusable = {name: state for name in variables if (state := _state(environ.get(name)))}
    if not unusable:
        return []
    states = [f"{name} is {state}" for name, state in unusable.items()]
    reason = f"{what} reads its credentials from the environment ({', '.join(variables)}): "
    return [Problem(loc, reason + ", ".join(states))]


def _state(value: str | None) -> str:
    """Why a credential cannot be used ("" when it can); never the value itself."""
    return "not set" if value is None else "empty" if not value.strip() else ""


def _customer_problems(config: PrismConfig) -> list[Problem]:
    """Channels taking their customers from the ERP need its customer master: a SAP pull with
    a sales area, or a newest file drop holding ``customers.csv|parquet``."""
    asking = [name for name, c in config.channels.items() if from_erp(c.options())]
    erp = config.erp
    if not asking:
        return []
    if isinstance(erp, SapSource):
        if erp.customer_sales_area is not None:
            return []
        reason = f"null, but channel(s) {', '.join(asking)} take their customers from the ERP"
        return [Problem(("erp", "customer_sales_area"), reason)]
    try:
        folder = newest_drop(erp.path, "erp", erp.ready_marker)
    except DropError:
        return []  # reported at erp.path
    if any((folder / f"customers.{suffix}").is_file() for suffix in ("csv", "parquet")):
        return []
    reason = f"from the ERP, but the ERP drop {folder.absolute()} has no customers.csv or "
    return [Problem(("channels", n, "customers"), reason + "customers.parquet") for n in asking]


def _lookup_problems(config: PrismConfig) -> list[Problem]:
    problems = []
    for loc, path in config.lookup_files():
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            problems.append(Problem(loc, f"lookup file {path.absolute()} {what}"))
    return problems
