"""Real-compute search benchmark: `hpsearch run` of a shipped time-budgeted example against training one
configuration for the same whole budget, on the same split, paired by seed (issue #15).

Arms (each run is a fresh process, one at a time, on an otherwise idle machine):
- hpsearch:   `hpsearch run EXAMPLE --set search.seed=S --set budget.time_budget_s=B` (its final training on
              train+validation and its one test evaluation are inside B);
- warm_start: the `cnn` preset's hand-tuned configuration (what users reach by hand), trained on
              train+validation for as many epochs as fit in B (first planned from a few timed steps, then
              fitted to the deadline at the speed of its epochs, as hpsearch's own final training is:
              `analysis.final.fit_to_deadline`), with its schedule spanning them, tested once;
- recipe:     the `resnet_cpu` preset's first warm start (the published recipe), trained the same way;
- random:     `hpsearch run` as above with `search.sampler=random`, no warm starts, no prior kept: random
              search over the same stage ladder and final training;
- one_factor: `hpsearch run` as above over the one-factor grid (the recipe, then each knob moved alone to its
              neighbouring values, evaluated in order: benchmarks/_one_factor_space.py), the best trained.
Every arm reads the example's dataset, split and resources (precision, threads) with seed S, and counts its
clock from its first line (data loading) to its test evaluation. Each finished run is one JSON line appended
to the log (`--log`), so runs made in different sessions merge (a rerun of an arm and seed replaces the
earlier one in the summary; the log keeps both); `--summarise` reads the log and writes the
table (median, IQR, the paired difference to hpsearch with a bootstrap 95% interval, sign and Wilcoxon tests),
recording the load average at the start and end of every run.

    PYTHONPATH=$PWD python -m benchmarks.real_compute --arms hpsearch warm_start --seeds 0 1 2 3 4 --budget 600
    PYTHONPATH=$PWD python -m benchmarks.real_compute --summarise
    PYTHONPATH=$PWD python -m benchmarks.real_compute --quick --out /tmp/rc                  # CI: about a minute
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from analysis.layout import PARAMS_FILE, trial_dirs

from ._one_factor_space import write_one_factor_space
from ._paired import compare
from ._report import DEFAULT_OUT, markdown_table, write_results

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "fashion_10min.yaml"
LOG = ROOT / "benchmarks" / "results" / "real_compute.jsonl"
BASELINES = {"warm_start": "cnn", "recipe": "resnet_cpu"}  # arm -> the preset whose first warm start it trains
# arm -> its overrides of the example: searches run as `hpsearch run`, on the same ladder and final training
SEARCH_ARMS: dict[str, list[str]] = {
    "hpsearch": [],
    "random": ["search.sampler=random", "search.warm_start=false", "search.prior_margin=0"],
    "one_factor": ["search.sampler=random", "search.prior_margin=0"],  # and its grid as the space's warm starts
}
ARMS = (*SEARCH_ARMS, *BASELINES)
MARGIN = 0.02  # of the budget, kept back as hpsearch's own plan keeps it


def git_commit() -> str:
    r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


def experiment_config(example: Path, seed: int, budget: float, storage: str, name: str, extra: list[str]):
    from search.config import load_config

    overrides = [f"search.seed={seed}", f"budget.time_budget_s={budget:g}", f"storage={storage}", f"name={name}",
                 *extra]
    return load_config(str(example), overrides)


def run_hpsearch(args: argparse.Namespace, seed: int, work: Path, arm: str = "hpsearch") -> dict[str, Any]:
    """`hpsearch run` in its own process (with the arm's overrides); the result is what its time account says."""
    name = f"rc_s{seed}"
    sets = [*args.set, *SEARCH_ARMS[arm]]
    if arm == "one_factor":
        sets.append(f"space={write_one_factor_space('resnet_cpu', work)}")
    cmd = [sys.executable, "-m", "search.cli", "run", str(args.example), "--set", f"search.seed={seed}",
           "--set", f"budget.time_budget_s={args.budget:g}", "--set", f"storage={work}", "--set", f"name={name}",
           *[x for kv in sets for x in ("--set", kv)]]
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    wall = time.time() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"hpsearch run failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    account = json.loads((work / name / "time_account.json").read_text())
    final = account["final"]
    trials = trial_dirs(work / name)
    return {"test_acc": final["test_acc"], "wall_s": account["wall_s"], "process_s": wall,
            "epochs": final["epochs"], "trial_id": final["trial_id"], "chosen": final.get("chosen"),
            "trials": len(trials), "spent": account["spent"], "planned": account["planned"],
            "config": _chosen_config(trials.get(final["trial_id"]))}


def _chosen_config(trial_dir: Path | None) -> dict[str, Any] | None:
    """The configuration the search chose (what its final training trained)."""
    return json.loads((trial_dir / PARAMS_FILE).read_text()) if trial_dir is not None else None


def run_fixed(args: argparse.Namespace, seed: int, preset: str) -> dict[str, Any]:
    """One configuration (the preset's first warm start) trained on train+validation for the whole budget."""
    from analysis.evaluate import evaluate_model, flip_tta_for
    from analysis.experiment_data import ExperimentData, settings_for
    from analysis.final import WATCH_IMAGES, train_fixed
    from search.launch import prepare
    from search.throughput import local_cpus, warm_start_config
    from search.timed_run import final_costs
    from spaces import get_preset

    started = time.time()
    cfg = experiment_config(args.example, seed, args.budget, tempfile.mkdtemp(), "fixed", args.set)
    prep = prepare(cfg, ROOT)
    config = warm_start_config(get_preset(preset), seed)
    epoch_s, evaluation = final_costs(prep, config, local_cpus())
    epochs = max(1, math.floor((started + args.budget * (1 - MARGIN) - time.time() - evaluation) / epoch_s))
    settings = replace(settings_for(cfg), num_threads=local_cpus(), max_epoch_seconds=None, max_epochs=epochs,
                       schedule_epochs=epochs)
    d = prep.loaded
    x, y = np.concatenate([d.x_train, d.x_val]), np.concatenate([d.y_train, d.y_val])
    assert prep.test is not None
    base = ExperimentData(d, prep.test[0], np.asarray(prep.test[1]), settings)
    fit = train_fixed(config, x, y, d.x_val[:WATCH_IMAGES], d.y_val[:WATCH_IMAGES], base, epochs, preset, lambda _m: None,
                      deadline=started + args.budget * (1 - MARGIN / 2) - evaluation)
    ev = evaluate_model(fit.model, fit.preprocess, base.x_test, base.y_test, d.class_names, preset,
                        fit.epochs, config, flip_tta_for(config, settings))
    return {"test_acc": float(ev.metrics.summary()["accuracy"]), "wall_s": time.time() - started,
            "epochs": fit.epochs, "planned_epochs": epochs, "config": config}


def one_run(args: argparse.Namespace, arm: str, seed: int) -> dict[str, Any]:
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hpsearch-rc-") as work:
        out = run_hpsearch(args, seed, Path(work), arm) if arm in SEARCH_ARMS else run_fixed(args, seed, BASELINES[arm])
    return {"arm": arm, "seed": seed, "budget_s": args.budget, "example": args.example.name, "set": args.set,
            **out, "load_start": load_start, "load_end": os.getloadavg(), "commit": git_commit(),
            "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def latest(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One run per (budget, arm, seed): the last logged (a rerun, e.g. after a change to hpsearch, replaces it)."""
    return list({(float(r["budget_s"]), r["arm"], r["seed"]): r for r in rows}.values())


def summarise(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    """Per budget: each arm's median and IQR of test accuracy, and hpsearch minus each other arm, paired."""
    rows = latest(rows)
    summary: dict[str, Any] = {}
    table_rows = []
    for budget in sorted({float(r["budget_s"]) for r in rows}):
        at = [r for r in rows if float(r["budget_s"]) == budget]
        by_arm = {a: {r["seed"]: r["test_acc"] for r in at if r["arm"] == a} for a in ARMS}
        key = f"{float(budget):g}"
        summary[key] = {}
        for arm, accs in by_arm.items():
            if not accs:
                continue
            v = np.asarray(list(accs.values()))
            s = {"seeds": sorted(accs), "median": float(np.median(v)), "q1": float(np.quantile(v, 0.25)),
                 "q3": float(np.quantile(v, 0.75)), "min": float(v.min()), "max": float(v.max()),
                 "wall_s_min": min(r["wall_s"] for r in at if r["arm"] == arm),
                 "wall_s_max": max(r["wall_s"] for r in at if r["arm"] == arm)}
            if arm != "hpsearch" and by_arm["hpsearch"]:
                s["hpsearch_minus_this"] = compare(by_arm["hpsearch"], accs)
            summary[key][arm] = s
            p = s.get("hpsearch_minus_this")
            table_rows.append([f"{budget:g}", arm, len(accs), 100 * s["median"], f"{100 * s['q1']:.2f}-{100 * s['q3']:.2f}",
                               f"{s['wall_s_min'] / budget:.3f}-{s['wall_s_max'] / budget:.3f}",
                               "" if p is None else f"{100 * p['median_difference']:+.2f} "
                                                    f"[{100 * p['ci_low']:+.2f}, {100 * p['ci_high']:+.2f}]",
                               "" if p is None else f"{p['wins']}/{len(p['seeds'])}, p={p['sign_test_p']:.3f}"])
    table = markdown_table(["budget s", "arm", "seeds", "median test acc %", "IQR %", "wall / budget, min-max",
                            "hpsearch - arm, points [95% CI]", "hpsearch wins, sign test"], table_rows)
    return summary, table


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    p.add_argument("--budget", type=float, default=600.0, help="seconds per run, for every arm")
    p.add_argument("--example", type=Path, default=EXAMPLE)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override the example's config")
    p.add_argument("--log", type=Path, default=LOG, help="JSON lines, one per finished run (appended)")
    p.add_argument("--summarise", action="store_true", help="only summarise the log")
    p.add_argument("--quick", action="store_true", help="a smoke run: 2,000 images, one seed, 45 s")
    p.add_argument("--out", default=str(DEFAULT_OUT))
    return p


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    if args.quick:
        fashion = os.environ.get("HPSEARCH_FASHION_DIR", "/usr/share/datasets/fashion-mnist")
        args.seeds, args.budget, args.log = [0], 45.0, Path(args.out) / "real_compute.jsonl"
        args.set = [*args.set, "dataset.train_subset=2000", f"dataset.data_dir={fashion}"]
    if not args.summarise:
        for seed in args.seeds:  # seed-major: a session cut short leaves whole pairs
            for arm in args.arms:
                row = one_run(args, arm, seed)
                args.log.parent.mkdir(parents=True, exist_ok=True)
                with args.log.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                print(f"{arm} seed {seed}: test {100 * row['test_acc']:.2f}% in {row['wall_s']:.0f} s "
                      f"(load {row['load_start'][0]:.1f} -> {row['load_end'][0]:.1f})", flush=True)
    rows = read_log(args.log)
    summary, table = summarise(rows)
    result = {"summary": summary, "runs": rows, "log": str(args.log)}
    write_results("real_compute", args.out, result, table, args.quick)
    return result


if __name__ == "__main__":
    main()
