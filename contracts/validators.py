"""Pieces the configuration models share: the strict base model and text checked by a regex.

Each settings module (``config``, ``delivery_config``, ``execution_config``) used to define
its own copies; one definition keeps their behaviour alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A settings block: unknown keys are errors (a typo is named, not ignored), values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    """A pydantic ``AfterValidator`` function: the whole value matches ``pattern``, else
    ``'<value>' is <what>`` (e.g. "not a queue name ...")."""

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            msg = f"{value!r} is {what}"
            raise ValueError(msg)
        return value

    return check
