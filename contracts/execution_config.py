"""Where a run's steps execute (``execution:`` of prism.yaml).

Three of Dagster's own executors, chosen per deployment without touching the asset code:

* ``in_process`` (default): every step in the run's one process, as `prism run` always did;
  the steps form a chain, so on one machine nothing is faster (README, "Dagster UI").
* ``multiprocess``: a process per step on the run's machine, at most ``max_concurrent`` at once.
* ``celery``: each step is a task on a Celery broker (RabbitMQ or Redis), executed by whichever
  `prism worker` takes it, on this machine or another.

Outside ``in_process`` every step reads its inputs back from ``publish.work_directory`` and
writes to ``publish.directory``: both must be storage every worker reaches (one disk, or a
shared file system mounted at the same path). The broker URL can hold a password, so the file
names the environment variable that holds it, never the URL.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from contracts.paths import LocalPath
from contracts.validators import Strict, matching

_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_QUEUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")

Executor = Literal["in_process", "multiprocess", "celery"]


_env_name = matching(_ENV_NAME, "not an environment variable name such as PRISM_CELERY_BROKER_URL")
_queue_name = matching(_QUEUE, "not a queue name: letters, digits, '_', '.', '-' (e.g. prism)")


EnvName = Annotated[str, AfterValidator(_env_name)]


class ExecutionConfig(Strict):
    executor: Executor = Field(
        default="in_process", description="in_process | multiprocess | celery"
    )
    max_concurrent: int | None = Field(
        default=None,
        ge=1,
        description="multiprocess: steps at once (null = one per CPU); celery: the processes "
        "each `prism worker` runs (null = one per CPU of its machine)",
    )
    broker_env: EnvName = Field(
        default="PRISM_CELERY_BROKER_URL",
        description="celery: the variable holding the broker URL, e.g. "
        "amqp://guest:guest@127.0.0.1:5672// or redis://127.0.0.1:6379/0",
    )
    backend_env: EnvName | None = Field(
        default=None,
        description="celery: the variable holding the result backend URL; null = rpc:// (the "
        "results come back over the broker)",
    )
    queue: Annotated[str, AfterValidator(_queue_name)] = Field(
        default="prism",
        description="celery: the queue the run's steps are sent to and `prism worker` takes "
        "them from",
    )

    shards: int = Field(
        default=1,
        ge=1,
        le=256,
        description="1 = the asset job; N > 1 = the sharded job: the catalog split into N "
        "shards by a stable hash of each product's family root, read, merged and mapped in a "
        "step per shard, one snapshot published from all (README, 'Running at scale')",
    )
    shard_directory: LocalPath | None = Field(
        default=None,
        description="where the shard steps keep their parts, by run; storage every worker "
        "reaches (null = publish.work_directory)",
    )

    def credential_variables(self) -> dict[str, str]:
        """Key -> the environment variable it names, for what this executor reads (nothing
        unless ``celery``); ``prism validate-config`` checks that each is set."""
        if self.executor != "celery":
            return {}
        found = {"broker_env": self.broker_env}
        if self.backend_env is not None:
            found["backend_env"] = self.backend_env
        return found
