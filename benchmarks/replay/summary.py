"""Many seeds of every method on a replay table: regret curves as data (JSON), a Markdown table and a PNG."""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from .simulate import METHODS, Settings, Table, load_table, simulate


def _one(args: tuple[str, str, int, Settings, Sequence[float]]) -> list[tuple[float, float]]:
    table_path, method, seed, settings, budgets_s = args
    trace = simulate(_table(table_path), method, seed, settings)
    return [trace.found_at(b)[:2] for b in budgets_s]


_TABLES: dict[str, Table] = {}


def _table(path: str) -> Table:  # one load per worker process
    if path not in _TABLES:
        _TABLES[path] = load_table(path)
    return _TABLES[path]


def compare(table_path: str, methods: Sequence[str], seeds: Sequence[int], settings: Settings,
            budgets_min: Sequence[float], jobs: int = 1) -> dict[str, Any]:
    """Per method and budget: median and IQR of validation regret and of the found configuration's test accuracy."""
    table = _table(table_path)
    budgets_s = [60.0 * b for b in budgets_min]
    out: dict[str, Any] = {"table": str(table_path), "configs": len(table.curves), "table_best_val": table.best_val,
                           "settings": asdict(settings), "seeds": len(seeds), "budgets_min": list(budgets_min),
                           "rank_correlation_with_last_step": rank_correlations(table), "methods": {}}
    for m in methods:
        t0 = time.perf_counter()
        tasks = [(table_path, m, s, settings, budgets_s) for s in seeds]
        if jobs > 1:
            with ProcessPoolExecutor(jobs) as pool:
                found = list(pool.map(_one, tasks))
        else:
            found = [_one(t) for t in tasks]
        arr = np.array(found, dtype=float)  # seeds x budgets x (val, test)
        regret = table.best_val - arr[:, :, 0]
        out["methods"][m] = {"doc": METHODS[m].doc, "seconds": time.perf_counter() - t0,
                             "regret": _quartiles(regret), "test_acc": _quartiles(arr[:, :, 1]),
                             "no_result": int(np.isnan(regret).sum())}
    return out


def rank_correlations(table: Table) -> dict[int, float | None]:
    """Spearman correlation, over configurations that reached the last step, between the validation
    accuracy at each step (a cheap fidelity) and at the last step (the full training)."""
    import pandas as pd

    last = max(c.steps for c in table.curves)
    full = [c for c in table.curves if c.steps == last]
    if len(full) < 3:
        return {}
    vals = pd.DataFrame([c.val_acc for c in full], columns=range(1, last + 1))
    rho = vals.corr(method="spearman")[last]
    return {int(k): (float(v) if np.isfinite(v) else None) for k, v in rho.items()}  # None: a constant step


def _quartiles(a: np.ndarray) -> dict[str, list[float]]:
    """Per budget (column): median, 25th and 75th percentile over seeds, ignoring searches with no result yet."""
    with np.errstate(all="ignore"):
        q = np.nanpercentile(a, [50, 25, 75], axis=0) if np.isfinite(a).any() else np.full((3, a.shape[1]), np.nan)
    return {"median": q[0].tolist(), "q25": q[1].tolist(), "q75": q[2].tolist()}


def markdown(result: dict[str, Any]) -> str:
    """Median validation regret [IQR] and median test accuracy per budget (rows) and method (columns)."""
    methods = list(result["methods"])
    lines = [f"Replay of `{result['table']}` ({result['configs']} configurations, best validation accuracy "
             f"{result['table_best_val']:.4f}); {result['seeds']} seeds per method; settings {result['settings']}.",
             "", "Median validation regret [IQR] / median test accuracy of the configuration found:", "",
             "| budget (min) | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for i, b in enumerate(result["budgets_min"]):
        cells = []
        for m in methods:
            r, t = result["methods"][m]["regret"], result["methods"][m]["test_acc"]
            cells.append(f"{r['median'][i]:.4f} [{r['q25'][i]:.4f}, {r['q75'][i]:.4f}] / {t['median'][i]:.4f}")
        lines.append(f"| {b:g} | " + " | ".join(cells) + " |")
    rho = result.get("rank_correlation_with_last_step") or {}
    if rho:
        lines += ["", "Spearman rank correlation of validation accuracy at each step with the last step: "
                  + ", ".join(f"step {k}: {'n/a' if v is None else f'{v:.2f}'}" for k, v in rho.items())]
    lines += ["", "| method | what | seconds for all seeds |", "|---|---|---|"]
    lines += [f"| {m} | {v['doc']} | {v['seconds']:.1f} |" for m, v in result["methods"].items()]
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], path: str | Path) -> None:
    """Median regret against budget per method, with the interquartile range as a band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    b = result["budgets_min"]
    for m, v in result["methods"].items():
        r = v["regret"]
        ax.plot(b, r["median"], marker="o", ms=3, label=m)
        ax.fill_between(b, r["q25"], r["q75"], alpha=0.2)
    ax.set(xlabel="simulated budget (minutes)", ylabel="validation regret (median, IQR band)",
           title=f"replay: {result['seeds']} seeds per method")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write(result: dict[str, Any], out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "replay.json", out / "replay.md", out / "replay.png"]
    files[0].write_text(json.dumps(result, indent=1) + "\n")
    files[1].write_text(markdown(result))
    plot(result, files[2])
    return files
