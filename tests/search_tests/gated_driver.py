"""Driver for test_cluster's dead-cached-worker test, run in its own process against a test cluster.

Trial 0 runs on the only worker node and finishes; with worker reuse its worker is kept for the next
trial. Trial 1 is suggested only once the test has killed that node (file `gate`), so Ray Tune hands
trial 1 a cached worker that is already dead. Writes each trial's status to WORKDIR/statuses.json.

Usage: python gated_driver.py ADDRESS WORKDIR
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import ray
from ray import tune
from ray.tune.search import Searcher

from search.launch import failure_config


class MarkCompleted(tune.Callback):
    """Writes WORKDIR/completed<i> once Tune has completed trial i (its worker is cached in the same step)."""

    def __init__(self, work: Path) -> None:
        self.work = work

    def on_trial_complete(self, iteration: int, trials: list, trial, **info) -> None:
        (self.work / f"completed{trial.config['i']}").touch()


class GatedSearcher(Searcher):
    def __init__(self, gate: Path) -> None:
        super().__init__(metric="score", mode="max")
        self.gate, self.n = gate, 0

    def suggest(self, trial_id: str) -> dict | str | None:
        if self.n >= 2:
            return Searcher.FINISHED
        if self.n == 1 and not self.gate.exists():
            return None  # not ready: Tune asks again
        self.n += 1
        return {"i": self.n - 1}

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        pass


def main(address: str, work: Path) -> None:
    def trainable(config: dict) -> None:
        (work / f"ran{config['i']}").write_text(ray.get_runtime_context().get_node_id())
        tune.report({"score": 1.0})

    ray.init(address=address, log_to_driver=False)
    tuner = tune.Tuner(
        trainable, tune_config=tune.TuneConfig(search_alg=GatedSearcher(work / "gate"), num_samples=2, reuse_actors=True),
        run_config=tune.RunConfig(storage_path=str(work / "results"), name="gated", verbose=0,
                                  callbacks=[MarkCompleted(work)],
                                  failure_config=failure_config(max_failures=2)))
    grid = tuner.fit()
    statuses = [{"status": "ERROR" if r.error else "TERMINATED", "error": str(r.error)[:300] if r.error else None}
                for r in grid]
    (work / "statuses.json").write_text(json.dumps(statuses))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
