"""great-expectations in a child process of its own, kept for the life of the process that
started it.

Importing great-expectations takes seconds (scipy, altair, SQLAlchemy: ~3.5 s on 2 cores). In
a child process the import runs while the run's first steps do (the worker starts with the run's
resources, ``assets.resources.ExpectationsResource``), on the other core and without holding
this process's GIL, instead of delaying the feeds' step. The process that asks gets the same
results ``quality.expectations.validate_feeds`` gives in process.

The protocol is pickles over the child's stdin and stdout, one request and one reply at a time:
a request is ``(feeds, references, result_format)``, the reply the results or the error
with the child's traceback. The child's own prints go to its stderr. When the parent goes away
(even by ``kill -9``) the child reads the end of its stdin and exits; when the child dies the
parent's request fails with ``ExpectationsWorkerError`` naming the exit code, and the next
request starts a new child.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
import traceback
from collections.abc import Mapping
from typing import IO, Any, NamedTuple

from quality.expectations import FeedSuite, validate_feeds
from quality.rules import References

PROTOCOL = pickle.HIGHEST_PROTOCOL


class ExpectationsWorkerError(RuntimeError):
    """The worker process died, or great-expectations failed inside it."""


VALIDATED = "validated"
FAILED = "failed"
"""A reply is ``(VALIDATED, results)`` or ``(FAILED, error, traceback)``: builtins only, as the
child runs as ``__main__`` (a class of its own would not unpickle in the parent)."""


class ExpectationsWorker:
    """A handle on the child process; thread-safe (requests queue on a lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._child: _Child | None = None

    def start(self) -> None:
        """Start the child now (it imports great-expectations at once), if not running."""
        with self._lock:
            self._running()

    def validate(
        self,
        feeds: Mapping[str, FeedSuite],
        references: References,
        result_format: str = "SUMMARY",
    ) -> dict[str, dict[str, Any]]:
        """``validate_feeds(feeds, references, result_format)``, computed by the child."""
        with self._lock:
            child = self._running()
            try:
                pickle.dump((dict(feeds), references, result_format), child.requests, PROTOCOL)
                child.requests.flush()
                reply = pickle.load(child.replies)
            except (EOFError, OSError, pickle.UnpicklingError) as error:
                self._child = None
                code = child.close()
                msg = f"the great-expectations worker process died (exit code {code})"
                raise ExpectationsWorkerError(msg) from error
        if reply[0] == FAILED:
            msg = f"great-expectations failed: {reply[1]}\n{reply[2]}"
            raise ExpectationsWorkerError(msg)
        results: dict[str, dict[str, Any]] = reply[1]
        return results

    def stop(self) -> None:
        """End the child (it exits at the end of its stdin) and wait for it."""
        with self._lock:
            child, self._child = self._child, None
        if child is not None:
            child.close()

    def _running(self) -> _Child:
        if self._child is None or self._child.process.poll() is not None:
            # the child imports the same code as this process: its module search path, and
            # not the working directory's (-P), which may hold folders of the same names
            path = os.pathsep.join(p for p in sys.path if p)
            process = subprocess.Popen(
                [sys.executable, "-P", "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": path},
            )
            self._child = _Child(process, _pipe(process.stdin), _pipe(process.stdout))
        return self._child


class _Child(NamedTuple):
    process: subprocess.Popen[bytes]
    requests: IO[bytes]
    replies: IO[bytes]

    def close(self) -> int:
        """Close the pipes (the child exits at the end of its requests); its exit code."""
        for pipe in (self.requests, self.replies):
            with contextlib.suppress(OSError):  # the child is gone: the buffered bytes too
                pipe.close()
        return self.process.wait()


def _pipe(pipe: IO[bytes] | None) -> IO[bytes]:
    if pipe is None:  # Popen(stdin=PIPE, stdout=PIPE) always has both
        msg = "the great-expectations worker process has no pipe"
        raise ExpectationsWorkerError(msg)
    return pipe


_SHARED = ExpectationsWorker()


def shared_worker() -> ExpectationsWorker:
    """This process's worker (one child per process, started on first use)."""
    return _SHARED


def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """The child's loop: answer each request until the end of ``requests``."""
    while True:
        try:
            feeds, references, result_format = pickle.load(requests)
        except EOFError:
            return
        reply: tuple[Any, ...]
        try:
            reply = (VALIDATED, validate_feeds(feeds, references, result_format))
        except Exception as error:  # the parent raises it, with this traceback
            reply = (FAILED, f"{type(error).__name__}: {error}", traceback.format_exc())
        pickle.dump(reply, replies, PROTOCOL)
        replies.flush()
        del feeds, reply
        _release_memory()


def _release_memory() -> None:
    """Hand the request's memory back to the system: the worker idles through the rest of the
    run, whose peak it would otherwise keep raising by what the last validation held."""
    import ctypes
    import gc

    import pyarrow as pa

    from quality.expectations import new_context

    new_context()  # replaces great-expectations' current context, which holds the last batches
    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # glibc only
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def main() -> None:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # prints must not corrupt the replies
    # the seconds a first request would otherwise wait for
    import great_expectations.validator.v1_validator  # noqa: F401

    serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
