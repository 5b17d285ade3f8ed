"""Named fault-injection points, so crash and race drills can hit exact moments of a run.

Production code calls ``checkpoint("publish.after_portal_switch")`` at the moments where a
crash matters. Nothing happens unless the environment variable ``PRISM_FAULT`` names that
point (drills and tests set it for a child process):

- ``PRISM_FAULT=<point>`` or ``<point>:kill``: the process kills itself with SIGKILL there,
  as a power cut or the OOM killer would (no cleanup, no ``finally``);
- ``PRISM_FAULT=<point>:raise``: ``InjectedFault`` is raised there (a failure the code must
  handle, such as a full disk);
- ``PRISM_FAULT=<point>:pause:<file>``: the process waits there until ``<file>`` exists,
  so a drill can do something (start a second run, stop a database) at exactly that moment;
  ``<file>.reached`` is created when the point is reached.

Several points may be given separated by commas.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

VARIABLE = "PRISM_FAULT"
POLL_SECONDS = 0.05


class InjectedFault(RuntimeError):
    """Raised at a checkpoint by ``PRISM_FAULT=<point>:raise``."""


def checkpoint(point: str) -> None:
    """Do what ``PRISM_FAULT`` asks at ``point``, or nothing (the normal case)."""
    setting = os.environ.get(VARIABLE)
    if not setting:
        return
    for entry in setting.split(","):
        name, _, action = entry.strip().partition(":")
        if name == point:
            _act(point, action)


def _act(point: str, action: str) -> None:
    kind, _, argument = action.partition(":")
    if kind in ("", "kill"):
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "raise":
        msg = f"fault injected at {point}"
        raise InjectedFault(msg)
    if kind == "pause":
        release = Path(argument)
        Path(f"{release}.reached").touch()
        while not release.exists():
            time.sleep(POLL_SECONDS)
