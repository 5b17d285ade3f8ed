"""File-system paths in the configuration: a relative path is relative to the configuration
file's folder (``base`` in pydantic's validation context), so a configuration works from any
working directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, ValidationInfo


def _anchored(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base")
    return value if value.is_absolute() or base is None else Path(base) / value


LocalPath = Annotated[Path, AfterValidator(_anchored)]
"""A file-system path; relative ones are anchored at the configuration file's folder."""
