"""Replay searcher + scheduler variants against a replay table on a simulated clock.

A trial's step costs the wall seconds the table recorded for it (plus `overhead_s` when a trial starts);
`workers` trials run at once. Early stopping is Ray Tune's own `AsyncHyperBandScheduler` (one bracket,
rungs at grace_period * eta^k, a trial continues past a rung if it is in the top 1/eta of the results
recorded there), fed the simulated results.

How a searcher is restricted to the table: Optuna asks the method's sampler for a configuration through
the space's define-by-run function (as hpsearch does); the nearest table configuration not yet run is
taken (distance: per parameter, 1 for a different category or a parameter only one side has, else the
absolute difference in the (log-)normalised range; ties to the lowest config_id). Unless the proposal is
that configuration exactly, the proposal is closed as FAIL (samplers ignore failed trials) and the table
configuration is enqueued and asked for, so the sampler's model sees what was really evaluated. Each
table configuration runs at most once per search (a real search would train a new configuration, with a
new curve). What Optuna is told mirrors `search.searcher.TrialAwareOptunaSearch`: per-step values,
PRUNED when stopped early, COMPLETE with the best value when run to the end, FAIL when diverged.

    PYTHONPATH=$PWD python -m benchmarks.replay.simulate benchmarks/replay/tables/smoke_lenet5 --seeds 50 \\
        --budgets-min 0.05 0.1 0.2 --out benchmarks/replay/out/smoke
"""
from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import optuna

from spaces import Categorical, Constant, Space, define_by_run, parse_space

from .table import Curve, curves_of, read_meta, read_rows

optuna.logging.set_verbosity(optuna.logging.ERROR)
TRAINING_SEED = "seed"  # the per-configuration training seed build_table adds; not a searched parameter


@dataclass(frozen=True)
class Table:
    """A loaded replay table: its space and its curves."""

    space: Space
    curves: tuple[Curve, ...]

    @property
    def best_val(self) -> float:
        return max(float(np.nanmax(c.val_acc)) for c in self.curves if np.isfinite(c.val_acc).any())


def load_table(path: str) -> Table:
    meta = read_meta(path)
    return Table(parse_space(meta["space"], source=meta.get("space_ref", "<table>")), tuple(curves_of(read_rows(path))))


@dataclass(frozen=True)
class Method:
    """A searcher (sampler factory) and whether ASHA stops trials early; cite the method in `doc`."""

    sampler: Callable[[Space, int], optuna.samplers.BaseSampler]
    asha: bool
    warm_start: bool
    doc: str


def _tpe(space: Space, seed: int) -> optuna.samplers.BaseSampler:
    # as search.searcher.build_searcher configures it; 10 start-up trials, hpsearch's value for >= 30 samples
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=10, multivariate=True, group=True,
                                      constant_liar=True)


def _prior(space: Space, seed: int) -> optuna.samplers.BaseSampler:
    from search.prior_sampler import prior_sampler_for

    return prior_sampler_for(space, seed=seed)


def _random(space: Space, seed: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)


METHODS: dict[str, Method] = {
    "random": Method(_random, asha=False, warm_start=False, doc="uniform sampling, every trial to the end"),
    "random+asha": Method(_random, asha=True, warm_start=False, doc="uniform sampling + ASHA (Li et al. 2020)"),
    "tpe+asha": Method(_tpe, asha=True, warm_start=True, doc="hpsearch today: warm start, multivariate TPE + ASHA"),
    "prior+asha": Method(_prior, asha=True, warm_start=True, doc="warm start as a prior (PriorSampler) + ASHA"),
}


@dataclass(frozen=True)
class Settings:
    workers: int = 2
    budget_s: float = 3600.0
    grace_period: int = 1
    reduction_factor: float = 2.0  # hpsearch's default budget.reduction_factor
    overhead_s: float = 0.0  # simulated start-up cost of each trial


@dataclass
class Trace:
    """What one simulated search found: (time, best validation accuracy so far, its test accuracy, config_id)."""

    events: list[tuple[float, float, float, int]] = field(default_factory=list)
    trials: int = 0
    steps: int = 0
    stopped: list[tuple[int, int]] = field(default_factory=list)  # (config_id, last step) of ASHA-stopped trials

    def found_at(self, t: float) -> tuple[float, float, int]:
        """(validation accuracy, test accuracy, config_id) of the best result by time t (nan, nan, -1 if none)."""
        best = (math.nan, math.nan, -1)
        for when, val, test, cid in self.events:
            if when > t:
                break
            best = (val, test, cid)
        return best


def distance(space: Space, a: dict[str, Any], b: dict[str, Any]) -> float:
    """Sum over parameters of 1 (different category, or only one side has it) or the normalised difference."""
    total = 0.0
    for name in set(a) | set(b):
        if name not in a or name not in b:
            total += 1.0
            continue
        p = space.param(name)
        if isinstance(p, Categorical):
            total += float(a[name] != b[name])
        else:
            f = math.log if p.log else float
            total += abs(f(a[name]) - f(b[name])) / (f(p.high) - f(p.low))
    return total


class TableSearcher:
    """Proposes table configurations through an Optuna sampler (see the module docstring)."""

    def __init__(self, table: Table, sampler: optuna.samplers.BaseSampler, warm_start: bool) -> None:
        self.space = table.space
        searched = {p.name for p in table.space.params if not isinstance(p, Constant)}
        self.params = {c.config_id: {k: v for k, v in c.config.items() if k in searched} for c in table.curves}
        self.unused = {c.config_id: c for c in table.curves}
        self.study = optuna.create_study(direction="maximize", sampler=sampler)
        self.fn = define_by_run(table.space)
        for point in table.space.warm_start if warm_start else ():
            self.study.enqueue_trial({k: v for k, v in point.items() if k in searched})

    def propose(self) -> tuple[optuna.Trial, Curve] | None:
        if not self.unused:
            return None
        trial = self.study.ask()
        self.fn(trial)
        cid = min(self.unused, key=lambda i: (distance(self.space, trial.params, self.params[i]), i))
        if trial.params != self.params[cid]:
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            self.study.enqueue_trial(self.params[cid])
            # every value of the enqueued trial is fixed: skip the sampler's model (TPE would fit it for nothing)
            sampler, self.study.sampler = self.study.sampler, optuna.samplers.RandomSampler(seed=0)
            try:
                trial = self.study.ask()
            finally:
                self.study.sampler = sampler
            self.fn(trial)
        return trial, self.unused.pop(cid)

    def finish(self, trial: optuna.Trial, curve: Curve, last_step: int) -> None:
        vals = curve.val_acc[:last_step]
        if not np.isfinite(vals).all():
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
        elif last_step < curve.steps:
            self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            self.study.tell(trial, float(vals.max()))


def asha_scheduler(table: Table, settings: Settings) -> Any:
    from ray.tune.schedulers import AsyncHyperBandScheduler

    return AsyncHyperBandScheduler(time_attr="step", metric="val_acc", mode="max",
                                   max_t=max(c.steps for c in table.curves), grace_period=settings.grace_period,
                                   reduction_factor=settings.reduction_factor, brackets=1)


def simulate(table: Table, method: Method | str, seed: int, settings: Settings = Settings()) -> Trace:
    """One search of `method` over `table` until the simulated clock passes `settings.budget_s`."""
    method = METHODS[method] if isinstance(method, str) else method
    searcher = TableSearcher(table, method.sampler(table.space, seed), method.warm_start)
    asha = asha_scheduler(table, settings) if method.asha else None
    trace, order = Trace(), itertools.count()
    events: list[tuple[float, int, int, Any, Curve]] = []  # (time a step ends, tie-break, step, trial, curve)

    def start(now: float) -> None:
        proposed = searcher.propose()
        if proposed is None:
            return  # the table is used up: this worker idles
        trial, curve = proposed
        trace.trials += 1
        if asha is not None:
            asha.on_trial_add(None, SimpleNamespace(trial_id=curve.config_id))
        heapq.heappush(events, (now + settings.overhead_s + curve.wall_seconds[0], next(order), 1, trial, curve))

    for _ in range(settings.workers):
        start(0.0)
    while events:
        now, _, step, trial, curve = heapq.heappop(events)
        if now > settings.budget_s:
            break
        trace.steps += 1
        val = float(curve.val_acc[step - 1])
        if math.isfinite(val):
            trial.report(val, step)
            if not trace.events or val > trace.events[-1][1]:
                trace.events.append((float(now), val, float(curve.test_acc[step - 1]), curve.config_id))
        stop = step >= curve.steps or not math.isfinite(val)
        if not stop and asha is not None:
            result = {"step": step, "val_acc": val}
            stop = asha.on_trial_result(None, SimpleNamespace(trial_id=curve.config_id), result) == "STOP"
            if stop:
                trace.stopped.append((curve.config_id, step))
        if stop:
            searcher.finish(trial, curve, step)
            start(now)
        else:
            heapq.heappush(events, (now + curve.wall_seconds[step], next(order), step + 1, trial, curve))
    return trace


def main(argv: list[str] | None = None) -> None:
    import argparse

    from .summary import compare, write

    ap = argparse.ArgumentParser(description="Replay search methods against a replay table on a simulated clock.")
    ap.add_argument("table", help="table path stem (or its .csv.gz)")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--seeds", type=int, default=50, help="seeds per method (0..N-1)")
    ap.add_argument("--budgets-min", type=float, nargs="+", default=[5, 10, 15, 20, 30, 40, 50, 60])
    ap.add_argument("--workers", type=int, default=Settings.workers, help="simulated parallel trials")
    ap.add_argument("--grace-period", type=int, default=Settings.grace_period)
    ap.add_argument("--reduction-factor", type=float, default=Settings.reduction_factor)
    ap.add_argument("--overhead-s", type=float, default=Settings.overhead_s, help="simulated start-up cost per trial")
    ap.add_argument("--jobs", type=int, default=1, help="processes running seeds in parallel")
    ap.add_argument("--out", default="benchmarks/replay/out", help="folder for replay.json, replay.md, replay.png")
    a = ap.parse_args(argv)
    settings = Settings(a.workers, 60.0 * max(a.budgets_min), a.grace_period, a.reduction_factor, a.overhead_s)
    result = compare(a.table, a.methods, range(a.seeds), settings, a.budgets_min, a.jobs)
    for f in write(result, a.out):
        print(f)
    print({m: round(v["seconds"], 1) for m, v in result["methods"].items()}, "seconds per method")


if __name__ == "__main__":
    main()
