"""Why a ``prism run`` did not publish, told once: the cause found in the failed run's events
(the step's exception under Dagster's wrappers, a tripped breaker with its figures from the
quality report), the exit code that kind of cause gets, and what to do next.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from assets.quality_report import CIRCUIT_BREAKERS
from pipelines.exit_codes import ExitCode

PUBLISH_STEP = "published_snapshot"
MISSING_DROP = re.compile(r"(PIM|ERP) file drop (.+): no such folder")
MISSING_VARIABLE = re.compile(r'environment variable "(\w+)" which is not set')
_MISSING_DROP_NEXT = (
    "check `{key}` in {config} (a relative path is relative to that file), or write demo "
    "drops there with `prism demo-data --target FOLDER`"
)
SHARES = frozenset({"product_drop", "quarantine_share", "price_change"})
"""breakers whose value and limit are shares (shown in %); freshness is in hours"""


@dataclass(frozen=True)
class Failure:
    """One failed run's summary: the headline names the cause, ``details`` its figures."""

    code: ExitCode
    headline: str
    details: list[str] = field(default_factory=list)
    next_step: str = ""
    step: str | None = None
    error: str | None = None
    """the exception's class name, when an exception was the cause"""
    trace: str | None = None
    """the step's full error with its Python traces (shown with ``--verbose``)"""

    def lines(self) -> list[str]:
        lines = [self.headline, *(f"  {d}" for d in self.details)]
        return lines + ([f"next: {self.next_step}"] if self.next_step else [])

    def as_dict(self) -> dict[str, Any]:
        return {
            "exit_code": int(self.code),
            "kind": self.code.name.lower(),
            "cause": self.headline,
            "details": self.details,
            "next": self.next_step,
            "step": self.step,
            "error": self.error,
        }


def _subclass_names(*roots: type[BaseException]) -> frozenset[str]:
    names, todo = set(), list(roots)
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return frozenset(names)


def error_kinds() -> dict[ExitCode, frozenset[str]]:
    """Exception class names by the exit code they mean (a step failure carries the class
    name only, so the classes are named here with all their subclasses)."""
    from contracts.config import ConfigError
    from mapping.expressions import MappingError
    from mapping.transforms import TransformError
    from sinks.portal_errors import PortalError
    from sinks.publish import PublishError
    from sinks.publish_lock import PublishLockHeld
    from sinks.xml_text import SinkInputError
    from sources.akeneo_files import PimFileError  # noqa: F401  (registers the subclass)
    from sources.drops import DropError  # noqa: F401
    from sources.erp_files import ErpFileError  # noqa: F401
    from sources.http import SourceError
    from sources.text_files import InputFileError

    return {
        ExitCode.CONFIG: _subclass_names(ConfigError, MappingError, TransformError),
        ExitCode.INPUT: _subclass_names(InputFileError, SourceError, SinkInputError),
        ExitCode.LOCK: _subclass_names(PublishLockHeld),
        ExitCode.PUBLISH: _subclass_names(PublishError, PortalError),
    }


def _chain(error: Any) -> Iterator[Any]:
    """The error and its causes (``raise ... from``) and contexts, outermost first."""
    seen = 0
    while error is not None and seen < 20:
        yield error
        error = error.cause or error.context
        seen += 1


def _text(error: Any) -> str:
    """The exception's message without the ``module.Class: `` prefix Dagster records."""
    text = str(error.message).strip()
    head, _, rest = text.partition(": ")
    return rest if head.rsplit(".", 1)[-1] == error.cls_name and rest else text


def explain(
    result: dg.ExecutionResult, config_file: Path, override_breakers: bool = False
) -> Failure:
    """The cause of a failed run: a tripped breaker, else the first failed step's error."""
    blocked = _failed_checks(result)
    if blocked:
        return _breaker(result, blocked, config_file, override_breakers)
    failures = [e for e in result.all_events if e.is_step_failure]
    if not failures:
        return Failure(ExitCode.INTERNAL, "the run failed before any step ran")
    return _step_failure(failures[0], config_file)


def _failed_checks(result: dg.ExecutionResult) -> list[dg.AssetCheckEvaluation]:
    return [
        check
        for check in result.get_asset_check_evaluations()
        if not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    ]


def _step_failure(event: dg.DagsterEvent, config_file: Path) -> Failure:
    error = event.step_failure_data.error
    step = event.step_key
    if error is None:
        return Failure(ExitCode.INTERNAL, f"step {step} failed", step=step)
    chain = list(_chain(error))
    for link in chain:
        if (unset := missing_variable(str(link.message))) is not None:
            return dataclasses.replace(unset, step=step, trace=error.to_string())
    own = next((e for e in chain if not e.cls_name.startswith("Dagster")), chain[-1])
    code = code_of(chain, step)
    text = _text(own) if code != ExitCode.INTERNAL else f"{own.cls_name}: {_text(own)}"
    headline, next_step = _HOW[code]
    if missing := MISSING_DROP.match(text):
        key = f"{missing.group(1).lower()}.path"
        next_step = _MISSING_DROP_NEXT.format(key=key, config=config_file)
    return Failure(
        code,
        f"{headline}: {text}",
        next_step=next_step.format(config=config_file),
        step=step,
        error=own.cls_name,
        trace=error.to_string(),
    )


def missing_variable(text: str) -> Failure | None:
    """A credential's environment variable that is not set (Dagster's ``EnvVar``), if the
    text says so: a configuration problem of the environment, not a bug."""
    found = MISSING_VARIABLE.search(text)
    if found is None:
        return None
    return Failure(
        ExitCode.CONFIG,
        f"configuration error: the environment variable {found.group(1)} is not set",
        next_step="set it (a live source's credential); `prism validate-config` lists every "
        "variable the configuration needs",
        error="EnvVar",
    )


def code_of(chain: Sequence[Any], step: str | None) -> ExitCode:
    """The exit code of a failed step from its errors' class names (outermost first); an
    unknown error is a failed publish in the publish step, else internal."""
    kinds = error_kinds()
    for error in chain:
        for code, names in kinds.items():
            if error.cls_name in names:
                return code
    return ExitCode.PUBLISH if step == PUBLISH_STEP else ExitCode.INTERNAL


_HOW: dict[ExitCode, tuple[str, str]] = {
    ExitCode.CONFIG: (
        "configuration error",
        "fix {config} (`prism validate-config` checks it), then run again",
    ),
    ExitCode.INPUT: (
        "input error",
        "fix or replace the input named above (drop paths in {config} are relative to it), "
        "then run again",
    ),
    ExitCode.LOCK: (
        "the publish lock is held",
        "wait for that run to end and run again; if it died, `prism recover` frees the lock "
        "once its lease has run out",
    ),
    ExitCode.PUBLISH: (
        "the publish failed",
        "`prism status` shows what is live; fix the target named above and run again",
    ),
    ExitCode.INTERNAL: (
        "internal error",
        "run again with --verbose for the stack trace, and report it with the run's log file",
    ),
}


def _breaker(
    result: dg.ExecutionResult,
    failed: list[dg.AssetCheckEvaluation],
    config_file: Path,
    override_breakers: bool,
) -> Failure:
    breakers = [c for c in failed if c.check_name == CIRCUIT_BREAKERS]
    others = [c for c in failed if c.check_name != CIRCUIT_BREAKERS]
    if not breakers:
        names = ", ".join(f"{c.check_name} on {c.asset_key.to_user_string()}" for c in others)
        return Failure(
            ExitCode.BREAKER,
            f"a blocking check failed: {names}",
            details=[_check_detail(c) for c in others],
            next_step="the quality report lists the products and rules; fix the data and run again",
            step="channel_feeds",
        )
    report = _report_path(result)
    details = [breaker_line(b) for b in _tripped(report)] or [
        str(t) for c in breakers for t in _metadata_value(c, "tripped") or []
    ]
    if report is not None:
        details.append(f"report: {report}")
    advice = (
        "if the change is intended, publish it once with `prism run --override-breakers` "
        f"(recorded in the report); the limits are under `quality:` in {config_file}"
    )
    return Failure(
        ExitCode.BREAKER,
        "circuit breaker tripped: the run would change the channels more than the limits allow",
        details=details,
        next_step=advice if not override_breakers else "",
        step="quality_report",
    )


def _metadata_value(check: dg.AssetCheckEvaluation, key: str) -> Any:
    value = check.metadata.get(key)
    return getattr(value, "value", value)


def _check_detail(check: dg.AssetCheckEvaluation) -> str:
    figures = {k: getattr(v, "value", v) for k, v in check.metadata.items()}
    shown = ", ".join(f"{k} {v}" for k, v in figures.items() if v not in (None, [], ""))
    return f"{check.asset_key.to_user_string()} {check.check_name}: {shown}"


def _report_path(result: dg.ExecutionResult) -> Path | None:
    for materialization in result.asset_materializations_for_node("quality_report"):
        return Path(str(materialization.metadata["report"].value))
    return None


def _tripped(report: Path | None) -> list[dict[str, Any]]:
    """The tripped breakers of the report's summary (name, channel, value, limit, detail)."""
    if report is None:
        return []
    try:
        summary = json.loads((report.parent / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [b for b in summary.get("breakers", []) if b.get("tripped")]


def breaker_line(breaker: dict[str, Any]) -> str:
    """``product_drop (shop): 271 -> 135 products: 50.2 %, limit 20 %``."""
    name, channel = breaker["name"], breaker.get("channel")
    where = f"{name} ({channel})" if channel else name
    value, limit = float(breaker["value"]), float(breaker["limit"])
    if name in SHARES:
        figures = f"{_percent(value)}, limit {_percent(limit)}"
    elif name == "freshness":
        figures = f"limit {limit:g} h"
    else:
        return f"{where}: {breaker['detail']}"
    return f"{where}: {breaker['detail']}: {figures}"


def _percent(share: float) -> str:
    return f"{share * 100:.3g} %"
