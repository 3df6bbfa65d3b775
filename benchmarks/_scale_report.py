"""The scale benchmark's numbers from its runs: overhead per trial-slot, driver memory and CPU, the accounting of
every trial in the leaderboard, driver method timings by study size; written as JSON + a Markdown table."""
from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._report import markdown_table, write_results
from ._scale_probe import marginal_slot_s, value_at


@dataclass
class Run:
    """What one search left behind: completion times (s from its start) and ids, driver samples, method timings."""

    label: str
    times: list[float]
    ids: list[str]
    samples: list[tuple[float, int, float, float]]
    methods: dict[str, Any]
    wall_s: float
    load_start: tuple[float, float, float]
    load_end: tuple[float, float, float]
    error: str | None = None  # why the search stopped early, if it raised


def work_s_per_trial(exp: Path) -> float:
    """Mean over the trials in `exp` of their summed `epoch_seconds` (training + validation, timed in the trial)."""
    from analysis.layout import read_results

    totals = [sum(r.get("epoch_seconds", 0.0) for r in read_results(f)) for f in exp.glob("*/result.json")]
    return sum(totals) / len(totals) if totals else math.nan


def run_numbers(run: Run, exp: Path, concurrency: int, skip: int) -> dict[str, Any]:
    """Overhead per slot and the driver's resources for one run."""
    n = len(run.times)
    skip = min(skip, max(0, n - 3))
    slot = marginal_slot_s(run.times, concurrency, skip)
    work = work_s_per_trial(exp)
    cpu_from, cpu_to = value_at(run.samples, skip, 2), value_at(run.samples, n, 2)
    rss_from, rss_to = value_at(run.samples, skip, 3), value_at(run.samples, n, 3)
    step = max(1, len(run.samples) // 40)
    return {"completed": n, "wall_s": run.wall_s, "slot_s_per_trial": slot, "work_s_per_trial": work,
            "overhead_s_per_slot": slot - work, "skip": skip,
            "driver_cpu_s_per_trial": (cpu_to - cpu_from) / max(1, n - skip), "driver_cpu_s_total": cpu_to,
            "driver_rss_mib_at_skip": rss_from, "driver_rss_mib_at_end": rss_to, "driver_rss_growth_mib": rss_to - rss_from,
            "driver_timeline": [{"t_s": t, "completed": c, "cpu_s": cpu, "rss_mib": rss}
                                for t, c, cpu, rss in run.samples[::step]],
            "driver_methods": run.methods, "load_avg_start": run.load_start, "load_avg_end": run.load_end,
            "error": run.error}


def accounting(exp: Path, run: Run) -> dict[str, Any]:
    """Every trial Ray ended appears exactly once in the leaderboard, and nothing else does."""
    from analysis.leaderboard import leaderboard
    from analysis.load import load_experiment

    board = leaderboard(load_experiment(exp))
    ids = list(board["trial_id"])
    return {"leaderboard_rows": len(ids), "unique_trial_ids": len(set(ids)), "ended_in_ray": len(run.ids),
            "ended_twice_in_ray": len(run.ids) - len(set(run.ids)),
            "same_trials": set(ids) == set(run.ids), "ray_ended_all_in_leaderboard": set(run.ids) <= set(ids),
            "ended": board["ended"].value_counts().to_dict()}


def summarise(args: argparse.Namespace, exp: Path, searches: list[Run], cli: dict[str, float],
              parts: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The JSON document and the Markdown table with its notes. `searches`: hpsearch's run first, then the bare
    Ray Tune runs, each in the experiment folder of its label next to hpsearch's."""
    runs = {run.label: run_numbers(run, exp if i == 0 else exp.parent / run.label, args.concurrency, args.skip)
            for i, run in enumerate(searches)}
    h = runs[searches[0].label]["overhead_s_per_slot"]
    over = {run.label: 100 * (h - runs[run.label]["overhead_s_per_slot"]) / runs[run.label]["overhead_s_per_slot"]
            for run in searches[1:] if runs[run.label]["overhead_s_per_slot"] > 0}
    result = {"trials": args.trials, "nodes": args.nodes, "cpus_per_node": args.cpus_per_node,
              "concurrency": args.concurrency, "images": args.images, "runs": runs,
              "hpsearch_overhead_over_bare_pct": over.get("bare_ray_tune", math.nan),
              "hpsearch_overhead_over_pct": over,
              "budget_s": args.budget_s, "accounting": accounting(exp, searches[0]), "cli_s": cli, **parts}
    return result, table(result)


def table(result: dict[str, Any]) -> str:
    rows = [[name, r["completed"], r["wall_s"], r["slot_s_per_trial"], r["work_s_per_trial"], r["overhead_s_per_slot"],
             r["driver_cpu_s_per_trial"], r["driver_rss_mib_at_skip"], r["driver_rss_mib_at_end"],
             f"{r['load_avg_start'][0]:.1f} / {r['load_avg_end'][0]:.1f}"] for name, r in result["runs"].items()]
    text = markdown_table(["search", "trials", "wall s", "slot s / trial (marginal)", "work s / trial",
                           "overhead s / slot", "driver CPU s / trial", "driver RSS MiB at skip",
                           "driver RSS MiB at end", "load 1m start / end"], rows)
    acc, cli = result["accounting"], result["cli_s"]
    notes = [f"hpsearch overhead over {name}: {pct:+.1f}%" for name, pct in result["hpsearch_overhead_over_pct"].items()]
    notes += [f"leaderboard: {acc['leaderboard_rows']} rows, {acc['unique_trial_ids']} distinct trials, "
              f"same trials as Ray ended: {acc['same_trials']}; ended: {acc['ended']}",
              "CLI on the finished experiment (fresh process): "
              + ", ".join(f"`{k}` {v:.1f} s" for k, v in cli.items()),
              f"one checkpoint ({result['checkpoint_mib']:.2f} MiB) written in {1000 * result['checkpoint_write_s']:.0f} ms"]
    return (text + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n\n" + methods_table(result["runs"]) + "\n\n"
            + suggestion_table(result["optuna_suggest_ms"]))


def suggestion_table(by_sampler: dict[str, list[dict[str, float]]]) -> str:
    """Optuna ask + suggestion (ms) by study size, outside a search, in hpsearch's default (journal) study."""
    rows = [[name, f"{b['trials_done_from']:.0f}-{b['trials_done_to']:.0f}", b["mean_ms"]]
            for name, buckets in by_sampler.items() for b in buckets]
    return markdown_table(["sampler (journal study, mlp preset)", "study size", "ms per ask + suggestion"], rows)


def methods_table(runs: dict[str, Any]) -> str:
    """Driver time per call (ms) by study size, for each timed method of each run."""
    rows = []
    for name, r in runs.items():
        for label, m in r["driver_methods"].items():
            buckets = m["ms_by_trials_done"]
            first, last = (buckets[0]["mean_ms"], buckets[-1]["mean_ms"]) if buckets else (math.nan, math.nan)
            rows.append([name, label, m["calls"], m["total_s"], m["mean_ms"], first, last])
    return markdown_table(["search", "driver method", "calls", "total s", "mean ms / call",
                           "ms / call, first tenth", "ms / call, last tenth"], rows)


def write(args: argparse.Namespace, result: dict[str, Any], text: str) -> Path:
    return write_results("scale", args.out, result, text, args.quick)
