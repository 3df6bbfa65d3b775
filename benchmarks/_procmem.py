"""Resident memory of processes from /proc (Linux), without psutil: RSS, PSS and USS per process."""
from __future__ import annotations

import os
from pathlib import Path

from ._sampler import BackgroundSampler

MiB = 1024 * 1024


def smaps_rollup(pid: int) -> dict[str, int] | None:
    """{"rss", "pss", "uss"} in bytes, or None when the process is gone or unreadable.

    USS (private pages) is what only this process holds; PSS splits every shared page evenly
    among the processes that map it, so summing PSS counts a shared dataset exactly once.
    """
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    kb = {}
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
            kb[parts[0][:-1]] = int(parts[1]) * 1024
    return {"rss": kb.get("Rss", 0), "pss": kb.get("Pss", 0),
            "uss": kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)}


def shm_mapped(pid: int, marker: str = "/dev/shm/plasma") -> dict[str, int]:
    """Bytes of Ray's object store (its /dev/shm file) resident in `pid`: {"shm_rss", "shm_shared", "shm_private"}.

    Pages counted as shared are mapped by more than one process: the same physical copy.
    """
    out = {"shm_rss": 0, "shm_shared": 0, "shm_private": 0}
    inside = False
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                head, _, rest = line.partition(" ")
                if not head.endswith(":"):  # a mapping's header line: "start-end perms offset dev inode path"
                    inside = marker in rest
                elif inside and head in ("Rss:", "Shared_Clean:", "Shared_Dirty:", "Private_Clean:", "Private_Dirty:"):
                    kb = int(rest.split()[0]) * 1024
                    key = "shm_rss" if head == "Rss:" else "shm_shared" if head.startswith("Shared") else "shm_private"
                    out[key] += kb
    except OSError:
        pass
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])  # the name in (...) may hold spaces


def descends_from(pid: int, root: int) -> bool:
    while pid > 1:
        pid = parent(pid)
        if pid == root:
            return True
    return False


def matching_pids(prefix: str, root: int | None = None) -> list[int]:
    """Descendants of `root` (default: this process) whose command line starts with `prefix`.

    Ray names its workers `ray::<Actor>`; the workers of a Ray started here descend from this process,
    which keeps other Ray sessions on a shared machine out of the count.
    """
    root = os.getpid() if root is None else root
    out = []
    for entry in Path("/proc").iterdir():
        pid = int(entry.name) if entry.name.isdigit() else 0
        if pid and cmdline(pid).startswith(prefix) and descends_from(pid, root):
            out.append(pid)
    return out


class PeakSampler(BackgroundSampler):
    """Samples the memory of processes matching `prefix` in a background thread; keeps each one's peak.

    Peaks are taken at the moment of the highest summed PSS of all matching processes, so the
    figures describe one instant at which the trials were alive together.
    """

    def __init__(self, prefix: str, interval_s: float = 0.2) -> None:
        super().__init__(interval_s)
        self.prefix = prefix
        self.best: dict[int, dict[str, int]] = {}
        self.max_alive = 0

    def sample(self) -> None:
        snap = {pid: {**m, **shm_mapped(pid)} for pid in matching_pids(self.prefix) if (m := smaps_rollup(pid))}
        # the instant with the most trials alive wins, then the one with the highest total PSS
        key = (len(snap), sum(m["pss"] for m in snap.values()))
        if key > (self.max_alive, sum(m["pss"] for m in self.best.values())):
            self.best, self.max_alive = snap, len(snap)
