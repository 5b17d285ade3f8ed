"""The benches measure a run's CPU and page faults from outside (``bench/run.py``): what a
child process tree cost, separately from the children waited for before it."""

from __future__ import annotations

import importlib.util
import resource
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "run.py"
PAGE = resource.getpagesize()
TOUCH = """
import sys
pages = bytearray(int(sys.argv[1]))  # zeroed by the kernel: one fault per page touched
for at in range(0, len(pages), 4096):
    pages[at] = 1
"""


@pytest.fixture(scope="module")
def bench_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while defined
    spec.loader.exec_module(module)
    return module


def touched(size: int) -> None:
    subprocess.run([sys.executable, "-c", TOUCH, str(size)], check=True)


def test_a_child_is_measured_alone(bench_run: ModuleType) -> None:
    touched(256 * 2**20)  # waited for before: not this child's
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    touched(64 * 2**20)
    usage = bench_run.ChildUsage.since(before)
    assert usage.minor_faults >= 64 * 2**20 // PAGE // 2  # the kernel may map in 2 pages/fault
    assert usage.minor_faults < 256 * 2**20 // PAGE  # the earlier child's are not counted
    assert usage.user_seconds + usage.system_seconds > 0
    assert "page faults" in bench_run.usage_line(usage)


BURN = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\n"
WAITS_FOR_A_BURNER = f"""
import subprocess, sys, time
subprocess.run([sys.executable, "-c", {BURN!r}], check=True)
print("waited", flush=True)
time.sleep(60)
"""


def test_a_sample_counts_the_children_a_process_waited_for(bench_run: ModuleType) -> None:
    """A run's loader child is gone by the end of its step: its CPU is its parent's then."""
    command = [sys.executable, "-c", WAITS_FOR_A_BURNER]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as parent:
        try:
            assert parent.stdout is not None
            assert parent.stdout.readline().strip() == "waited"
            sample = bench_run.sample_tree(parent.pid)
        finally:
            parent.kill()
    assert sample.user + sample.system >= 0.4
    assert sample.rss > 0
    assert bench_run.sample_tree(parent.pid).rss == 0  # gone: nothing


def test_each_step_gets_the_cpu_spent_within_its_window(bench_run: ModuleType) -> None:
    sample = bench_run.Sample
    samples = [sample(0.0, 1, 1.0, 0.5), sample(1.0, 1, 3.0, 0.7), sample(2.0, 1, 3.5, 1.7)]
    windows = {"first": (0.0, 1.0), "second": (1.0, 2.0), "between": (1.2, 1.8)}
    assert bench_run.step_cpu(windows, samples) == {
        "first": (2.0, 0.2),
        "second": (0.5, 1.0),
        "between": (0.0, 0.0),
    }
