"""``execution:`` of prism.yaml picks the executor of every run of the code location; the
broker is named by an environment variable, never written into the file or the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from click.testing import CliRunner
from factories import default_config

from contracts.config import ConfigError, parse_config
from pipelines.cli import main
from pipelines.definitions import JOB_NAME, build_definitions
from sources.preflight import input_problems


def job_with(execution: dict[str, Any]) -> dg.JobDefinition:
    data = default_config()
    data["execution"] = execution
    return build_definitions(parse_config(data)).resolve_job_def(JOB_NAME)


def default_execution(job: dg.JobDefinition) -> Any:
    """The executor config a run that gives none gets (Dagster's retry default left out)."""
    default = job.run_config_schema.config_type.fields["execution"].default_value["config"]
    return {key: value for key, value in default.items() if key != "retries"}


def test_multiprocess_runs_at_most_max_concurrent_steps() -> None:
    job = job_with({"executor": "multiprocess", "max_concurrent": 3})
    assert job.executor_def.name == "multiprocess_by_default"
    assert default_execution(job)["multiprocess"]["max_concurrent"] == 3


def test_celery_sends_steps_to_the_queue_with_the_broker_read_from_the_environment() -> None:
    job = job_with({"executor": "celery", "queue": "prism-eu", "broker_env": "EU_BROKER"})
    assert job.executor_def.name == "celery_by_default"
    assert default_execution(job) == {
        "broker": {"env": "EU_BROKER"},
        "backend": "rpc://",
        "config_source": {"task_default_queue": "prism-eu"},
    }
    backend = job_with({"executor": "celery", "backend_env": "EU_RESULTS"})
    assert default_execution(backend)["backend"] == {"env": "EU_RESULTS"}


@pytest.mark.parametrize(
    ("execution", "reason"),
    [
        ({"executor": "threads"}, "executor"),
        ({"executor": "celery", "broker_env": "amqp://guest@host//"}, "broker_env"),
        ({"executor": "celery", "queue": "two words"}, "queue"),
        ({"max_concurrent": 0}, "max_concurrent"),
    ],
)
def test_an_invalid_execution_fails_the_load_at_its_key(
    execution: dict[str, Any], reason: str
) -> None:
    data = default_config()
    data["execution"] = execution
    with pytest.raises(ConfigError, match=rf"execution\.{reason}"):
        parse_config(data)


def test_validate_config_names_an_unset_broker_variable_only_for_celery() -> None:
    data = default_config()
    data["execution"] = {"executor": "celery", "backend_env": "PRISM_RESULTS"}
    config = parse_config(data)
    problems = [
        p for p in input_problems(config, {"PRISM_RESULTS": " "}) if p.loc[0] == "execution"
    ]
    assert [(p.loc, p.reason) for p in problems] == [
        (("execution", "broker_env"), "PRISM_CELERY_BROKER_URL is not set"),
        (("execution", "backend_env"), "PRISM_RESULTS is empty"),
    ]
    data["execution"] = {"executor": "multiprocess"}
    assert not [p for p in input_problems(parse_config(data), {}) if p.loc[0] == "execution"]


@pytest.mark.parametrize(
    ("execution", "message"),
    [
        ({"executor": "in_process"}, "execution.executor is 'in_process'"),
        ({"executor": "celery"}, "read from $PRISM_CELERY_BROKER_URL, which is not set"),
    ],
)
def test_prism_worker_refuses_a_configuration_it_cannot_serve(
    tmp_path: Path, execution: dict[str, Any], message: str
) -> None:
    data = default_config()
    data["execution"] = execution
    config = tmp_path / "prism.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    unset = {"PRISM_CELERY_BROKER_URL": None}
    result = CliRunner().invoke(main, ["worker", "--config", str(config)], env=unset)
    assert result.exit_code == 3, result.output
    assert message in result.output
