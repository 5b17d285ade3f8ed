"""Shared pytest setup: tests import helpers from ``tests/`` as top-level modules."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
