"""Ray's per-trial `result.json` (JSON lines), read incrementally: each file is parsed once per process.

A search appends one line per epoch to each trial's file, and a finished trial's file never changes, so a
reader that looks again (the leaderboard after `trial_dirs`, `hpsearch status` right after a resume's budget
check, a long-running watcher) re-parses nothing: a file of the same inode, size and modification time is
served from memory, and a file that grew is read from where the last read stopped. Anything else (a new
inode, a shrunk or rewritten file) is read again from the start.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class _Parsed:
    inode: int
    size: int
    mtime_ns: int
    offset: int = 0  # bytes of whole lines (up to and including their newline) already parsed
    rows: list[dict[str, Any]] = field(default_factory=list)
    tail: list[dict[str, Any]] = field(default_factory=list)  # a last line without its newline (yet)


_CACHE: dict[str, _Parsed] = {}


def _parse(lines: bytes) -> list[dict[str, Any]]:
    rows = []
    for line in lines.splitlines():
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:  # a line cut off by a crash
                continue
    return rows


def read_results(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a result file; a line cut off by a crash is ignored. The rows are shared: do not mutate them."""
    key = os.path.abspath(path)
    try:
        st = os.stat(key)
    except OSError:
        _CACHE.pop(key, None)
        return []
    if not os.path.isfile(key):
        return []
    cached = _CACHE.get(key)
    if cached is None or cached.inode != st.st_ino or st.st_size < cached.size or (
            st.st_size == cached.size and st.st_mtime_ns != cached.mtime_ns):
        cached = _Parsed(st.st_ino, 0, 0)
    if (cached.size, cached.mtime_ns) != (st.st_size, st.st_mtime_ns):
        with open(key, "rb") as f:
            f.seek(cached.offset)
            new = f.read()
        whole = new.rfind(b"\n") + 1  # a last line without its newline may still be being written: not cached
        cached.rows += _parse(new[:whole])
        cached.offset += whole
        cached.size, cached.mtime_ns = cached.offset + len(new) - whole, st.st_mtime_ns
        cached.tail = _parse(new[whole:])
        _CACHE[key] = cached
    return cached.rows + cached.tail


def clear_cache() -> None:
    """Forget every parsed file (tests; a process that reads many experiments once)."""
    _CACHE.clear()
