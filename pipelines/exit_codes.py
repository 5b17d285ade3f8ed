"""The ``prism`` command's exit codes: one per kind of outcome, so a scheduler or a shell script
can tell a configuration mistake from bad input, an expected breaker stop or a held lock."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented in ``prism --help`` and the README; never renumber a released code."""

    OK = 0
    INTERNAL = 1
    """an unexpected error (a bug, a broken environment); ``--verbose`` shows the trace"""
    USAGE = 2
    """click's own: an unknown option or a bad argument"""
    CONFIG = 3
    """the configuration file is missing, not YAML, or not valid"""
    INPUT = 4
    """an input (PIM or ERP drop, live source) is missing, damaged or refused"""
    BREAKER = 5
    """a circuit breaker tripped: nothing was published, the previous snapshot stays live"""
    LOCK = 6
    """another run or operation holds the publish lock"""
    PUBLISH = 7
    """the publish itself failed (a target could not be written): the previous snapshot stays
    live"""
    DELIVERY = 8
    """a push delivery to a channel's target failed: the snapshot stays live and published,
    the target is retried by the next run or ``prism deliver``"""
