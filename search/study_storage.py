"""Where an experiment's Optuna study lives (`search.study_storage`), and how it is opened.

- null or `journal` (the default): Optuna's JournalStorage on `optuna.journal` in the results folder.
  Each operation is one JSON line appended under a lock file created with O_EXCL (`JournalFileOpenLock`,
  sound on NFSv3 and later), so many writers, and shared filesystems, are safe. SQLite, even in WAL mode,
  relies on fcntl locks and a shared-memory index that network filesystems break ("database is locked",
  or a corrupt file). Appends are not fsynced one by one (`JournalFile`).
- `sqlite`: the WAL-mode SQLite file `optuna.db` (one machine, local disk). An experiment from an older
  hpsearch has an optuna.db: it keeps it, and resumes as before.
- a database URL (postgresql://, mysql://, sqlite:///...): Optuna's RDBStorage, shared by whoever reaches it.
- results in an object store (s3://...): objects cannot be appended to, so the journal is written on the
  driver's disk (`local_journal`) and copied next to Ray's searcher state at every experiment checkpoint
  (`stage_journal`); Ray uploads both together, so the bucket holds a study and a searcher state from the
  same moment. A resume downloads it (`fetch_journal`) before reopening the study.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.storages.journal import BaseJournalBackend

from analysis.layout import JOURNAL_FILE, STUDY_FILE, is_uri
from analysis.location import filesystem

# where the journals of experiments kept in object storage are written on the driver's disk
CACHE_ENV = "HPSEARCH_STUDY_CACHE"
IN_RESULTS = (None, "journal", "sqlite")  # the choices that keep the study with the results


class SQLiteConnect:
    """Opens the study's SQLite file in write-ahead-log mode with `synchronous=NORMAL`.

    Optuna commits every suggested parameter, report and tell separately; in SQLite's default mode each
    commit waits for the disk (~20 ms), which made a 20-parameter trial cost ~0.4 s of driver time. In WAL
    mode with NORMAL sync a commit survives a killed process (only a power loss can drop the last ones)
    and never corrupts the file, at ~2 ms. A class, not a closure, so a pickled storage stays picklable.
    """

    def __init__(self, path: str, timeout: float = 30) -> None:
        self.path, self.timeout = path, timeout

    def __call__(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=self.timeout, check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")  # stays as it was where WAL is unavailable (some network mounts)
        con.execute("PRAGMA synchronous=NORMAL")
        return con


class JournalFile(BaseJournalBackend):
    """Optuna's journal file (`JournalFileBackend`, whose reader it uses), appended without an fsync per line.

    Optuna commits every suggested parameter, report and tell as its own append; the stock backend fsyncs
    each one (~0.6 ms here, 18 per trial of the mlp preset: the largest storage cost in benchmarks/scale.py).
    Without it an append is in the kernel's page cache when `write` returns, so it survives a killed
    driver (only a power loss can drop the last lines, as with SQLite's `synchronous=NORMAL`), and on NFS
    closing the file after each append sends it to the server before the lock is released (close-to-open
    consistency), so other writers see it. Appends are locked with O_EXCL lock files (NFSv3+), as before.
    """

    def __init__(self, path: str) -> None:
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

        self._path, self._lock = path, JournalFileOpenLock(path)
        self._reader = JournalFileBackend(path, lock_obj=self._lock)  # creates the file if missing

    def read_logs(self, log_number_from: int) -> Iterator[dict[str, Any]]:
        return self._reader.read_logs(log_number_from)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        text = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs).encode("utf-8")
        self._lock.acquire()
        try:
            with open(self._path, "ab") as f:
                f.write(text)
        finally:
            self._lock.release()


def journal_storage(path: str) -> optuna.storages.JournalStorage:
    """Optuna's journal storage on a local or network file (`JournalFile`)."""
    return optuna.storages.JournalStorage(JournalFile(path))


def study_storage(path_or_url: str) -> optuna.storages.BaseStorage:
    """Optuna storage: a journal file (`*.journal`), a SQLite file path (WAL, see SQLiteConnect) or a database URL."""
    if path_or_url.endswith(".journal") and "://" not in path_or_url:
        return journal_storage(path_or_url)
    path = path_or_url.removeprefix("sqlite:///")
    if "://" in path:
        return optuna.storages.RDBStorage(path_or_url)
    return optuna.storages.RDBStorage(f"sqlite:///{path}", engine_kwargs={"creator": SQLiteConnect(path)})


def in_results(choice: str | None) -> bool:
    """Whether the study is kept with the results (not in a database of the user's)."""
    return choice in IN_RESULTS


def study_ref(exp_path: str, choice: str | None = None) -> str:
    """The study's file (journal, or an existing or requested SQLite file), or the configured database URL."""
    if not in_results(choice):
        return str(choice)
    if is_uri(exp_path):
        return str(local_journal(exp_path))
    sqlite_file = Path(exp_path) / STUDY_FILE
    if choice == "sqlite" or sqlite_file.is_file():
        return str(sqlite_file)
    return str(Path(exp_path) / JOURNAL_FILE)


def local_journal(exp_uri: str) -> Path:
    """The driver-side journal of an experiment kept in object storage (one per experiment URI)."""
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "hpsearch" / "studies").expanduser()
    folder = root / hashlib.sha256(exp_uri.rstrip("/").encode()).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    return folder / JOURNAL_FILE


def fresh_journal(exp_uri: str) -> None:
    """A launch starts a new study: forget a journal left on this disk by an earlier experiment of that URI."""
    local_journal(exp_uri).unlink(missing_ok=True)


def stage_journal(exp_uri: str, staging_dir: str | Path) -> None:
    """Copy the journal into Ray's driver staging folder, which Ray uploads with the searcher state.

    Written to a temporary name and renamed: an upload still reading the previous copy keeps reading it.
    """
    source = local_journal(exp_uri)
    if not source.is_file():
        return
    target = Path(staging_dir) / JOURNAL_FILE
    tmp = target.with_name(f".{JOURNAL_FILE}.tmp")
    tmp.write_bytes(source.read_bytes())
    os.replace(tmp, target)


def publish_journal(exp_uri: str) -> None:
    """Upload the driver's journal to the bucket now (after the trials Ray left RUNNING were ended)."""
    source = local_journal(exp_uri)
    fs, path = filesystem(exp_uri)
    with fs.open_output_stream(f"{path}/{JOURNAL_FILE}") as f:
        f.write(source.read_bytes())


def fetch_journal(exp_uri: str) -> Path:
    """Download the bucket's journal to the driver's disk (a resume); a line cut off mid-upload is dropped."""
    fs, path = filesystem(exp_uri)
    try:
        with fs.open_input_stream(f"{path}/{JOURNAL_FILE}") as f:
            data = f.read()
    except FileNotFoundError:
        data = b""
    local = local_journal(exp_uri)
    local.write_bytes(data[: data.rfind(b"\n") + 1])
    return local


def load_experiment_study(exp_path: str | Path, name: str, choice: str | None = None) -> optuna.Study:
    """An experiment's study, wherever it is kept (a bucket's journal is downloaded first)."""
    exp_path = str(exp_path)
    if is_uri(exp_path) and in_results(choice):
        fetch_journal(exp_path)
    return optuna.load_study(study_name=name, storage=study_storage(study_ref(exp_path, choice)))
