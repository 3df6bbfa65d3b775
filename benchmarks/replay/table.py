"""The replay table: one row per configuration x fidelity step of a real learning curve.

Stored as `<name>.csv.gz` (rows; appended to as configurations finish) plus `<name>.meta.json` (how the
table was built: the space, the data, the epochs, the machine). Columns (`COLUMNS`):

    config_id     int    the configuration's index in the build's seeded sample (0.. = the space's warm starts)
    config        str    the trained configuration as JSON (sampled parameters and the space's constants)
    step          int    fidelity step, 1.. (one step = one epoch of the build)
    epoch         float  epochs of training so far (train_images_seen / training-set size)
    train_images_seen  int  training images processed so far
    val_acc       float  validation accuracy after this step
    test_acc      float  held-out test accuracy after this step (the table is for studying searches: a real
                         search would look at the test set once)
    wall_seconds  float  seconds this step took (training plus validation), 1 thread
    stopped_by    str    "" or why training ended before the last step (e.g. diverged)
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

COLUMNS = ["config_id", "config", "step", "epoch", "train_images_seen", "val_acc", "test_acc", "wall_seconds",
           "stopped_by"]


@dataclass(frozen=True)
class Curve:
    """One configuration's learning curve, as arrays indexed by step - 1."""

    config_id: int
    config: dict[str, Any]
    val_acc: np.ndarray
    test_acc: np.ndarray
    wall_seconds: np.ndarray

    @property
    def steps(self) -> int:
        return len(self.val_acc)


def paths(table: str | Path) -> tuple[Path, Path]:
    """(rows, meta) file paths of a table named by either file or by its stem."""
    p = Path(table)
    stem = p.name.removesuffix(".csv.gz").removesuffix(".meta.json")
    return p.with_name(stem + ".csv.gz"), p.with_name(stem + ".meta.json")


def config_json(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True)


def append_rows(table: str | Path, rows: list[dict[str, Any]]) -> None:
    """Append one finished configuration's rows (a gzip member per call, so a killed build loses at most one)."""
    rows_path, _ = paths(table)
    df = pd.DataFrame(rows, columns=COLUMNS)
    df.to_csv(rows_path, mode="a", header=not rows_path.exists(), index=False, compression="gzip")


def write_meta(table: str | Path, meta: dict[str, Any]) -> None:
    paths(table)[1].write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")


def read_meta(table: str | Path) -> dict[str, Any]:
    return json.loads(paths(table)[1].read_text())


def read_rows(table: str | Path) -> pd.DataFrame:
    """All rows, sorted by (config_id, step); an empty frame with `COLUMNS` if nothing was written yet."""
    rows_path, _ = paths(table)
    if not rows_path.exists():
        return pd.DataFrame(columns=COLUMNS)
    df = pd.read_csv(rows_path, keep_default_na=False, na_values={"val_acc": ["nan", "NaN"]})
    missing = set(COLUMNS) - set(df.columns)
    if missing:
        raise ValueError(f"{rows_path}: not a replay table, missing columns {sorted(missing)}")
    return df.sort_values(["config_id", "step"], kind="stable").reset_index(drop=True)


def curves_of(df: pd.DataFrame) -> list[Curve]:
    """The table's learning curves, by config_id; steps must run 1..n without gaps."""
    out = []
    for cid, g in df.groupby("config_id", sort=True):
        if list(g["step"]) != list(range(1, len(g) + 1)):
            raise ValueError(f"config {cid}: steps {list(g['step'])} are not 1..{len(g)}")
        out.append(Curve(int(cid), json.loads(g["config"].iloc[0]), g["val_acc"].to_numpy(float),
                         g["test_acc"].to_numpy(float), g["wall_seconds"].to_numpy(float)))
    return out
