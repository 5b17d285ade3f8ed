"""Freed ``malloc`` memory goes back to the system when a run asks (between steps and writers):
glibc keeps freed chunks below a live one in its heap, and only ``malloc_trim`` returns them."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

import pytest

from contracts.memory import release_free_memory

CHUNK = 64 * 1024
"""Below glibc's mmap threshold (128 KiB at start): served from the heap, not mapped apart."""
CHUNKS = 3200  # 200 MiB


def resident_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * 4096


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heap")
def test_memory_freed_under_a_live_chunk_is_given_back() -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    if not hasattr(libc, "malloc_trim") or not hasattr(libc, "gnu_get_libc_version"):
        pytest.skip("not glibc")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    blocks = [libc.malloc(CHUNK) for _ in range(CHUNKS)]
    for block in blocks:
        ctypes.memset(block, 1, CHUNK)  # touched: resident
    pinned = libc.malloc(CHUNK)  # a live chunk above them: the heap's top cannot shrink
    try:
        for block in blocks:
            libc.free(block)
        held = resident_bytes()
        assert release_free_memory()
        assert held - resident_bytes() > CHUNKS * CHUNK // 2
    finally:
        libc.free(pinned)
