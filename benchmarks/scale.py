"""A thousand trials: hpsearch against bare Ray Tune on a local 3-raylet cluster, per trial-slot.

Every trial is a real MLP (the `mlp` preset's space with the architecture and batch size fixed, so a trial
costs the same in every arm: benchmarks/spaces/scale_mlp.yaml; twelve knobs searched by TPE) trained for at
most two tiny epochs on a small Fashion-MNIST subset, under ASHA, through hpsearch and through a bare Ray Tune
`Tuner` (a plain function trainable around the same `trainables.loop.run`, the same define-by-run space in an
in-memory OptunaSearch, the same ASHA and concurrency), once without checkpoints and once with hpsearch's
per-epoch checkpoint, back to back on the same cluster.

Marginal overhead per trial-slot: with `c` trials at a time, each completion after the first `skip` (start-up
and ramp-up left out) costs `c * slope` slot-seconds, where `slope` is the least-squares slope of completion
time against completion number. The trial's own work is the mean over its trials of the summed `epoch_seconds`
(training + validation, timed inside the trial); overhead = c * slope - work: everything else a slot is held
for (building the model, Ray's scheduling and reporting, the searcher, checkpoints, result files).

    PYTHONPATH=$PWD python -m benchmarks.scale --out docs/benchmarks            # 1,000 trials each
    PYTHONPATH=$PWD python -m benchmarks.scale --quick                          # CI: form only
    PYTHONPATH=$PWD python -m benchmarks.scale --profile 300 --out /tmp/prof    # cProfile of hpsearch's driver
"""
from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._report import arg_parser
from ._scale_parts import checkpoint_seconds, suggestion_ms
from ._scale_probe import CompletionClock, DriverSampler, MethodTimer
from ._scale_report import Run, summarise, write

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
BARE, BARE_CHECKPOINTED = "bare_ray_tune", "bare_ray_tune_checkpointed"  # run names, also their experiment folders
ROOT = Path(__file__).resolve().parents[1]
# the mlp preset with the architecture and batch size fixed: trials cost the same in every arm
SPACE = ROOT / "benchmarks" / "spaces" / "scale_mlp.yaml"


def experiment_raw(args: argparse.Namespace, storage: Path, name: str, address: str | None) -> dict[str, Any]:
    """The hpsearch experiment: the benchmark's space (SPACE), two epochs, ASHA after the first, no warm starts."""
    return {"name": name, "space": str(SPACE), "storage": str(storage), "address": address,
            "dataset": {"name": "fashion_mnist", "data_dir": args.data_dir, "train_subset": args.images,
                        "options": {"download": False}},
            "budget": {"num_samples": args.trials, "max_epochs": 2, "grace_period": 1, "time_budget_s": args.budget_s},
            "search": {"warm_start": False, "seed": 0},
            "resources": {"cpus_per_trial": 1, "max_concurrent": args.concurrency}}


@contextmanager
def local_cluster(nodes: int, cpus_per_node: int) -> Iterator[str]:
    """A `ray.cluster_utils.Cluster` of `nodes` raylets on this machine (token auth on), joined by this driver."""
    import ray
    from ray.cluster_utils import Cluster

    from search._ray_compat import use_token_auth

    if not (os.environ.get("RAY_AUTH_TOKEN") or (Path.home() / ".ray" / "auth_token").is_file()):
        subprocess.run(["ray", "get-auth-token", "--generate"], check=True, capture_output=True)
    use_token_auth()
    # on a loaded machine a raylet can take more than Ray's default 10 s to register
    os.environ.setdefault("RAY_raylet_start_wait_time_s", "120")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": cpus_per_node, "include_dashboard": False})
    try:
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=cpus_per_node)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False, logging_level=logging.ERROR)
        yield cluster.address
    finally:
        ray.shutdown()
        cluster.shutdown()


def driver_targets(searcher_cls: type) -> dict[str, tuple[type, str]]:
    """The driver methods timed during a run: suggestion and tell, result files, experiment-state snapshots."""
    from ray.tune.execution.tune_controller import TuneController
    from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback, TBXLoggerCallback

    from search.progress import LiveProgress

    return {"optuna_suggest": (searcher_cls, "suggest"), "optuna_report": (searcher_cls, "on_trial_result"),
            "optuna_complete": (searcher_cls, "on_trial_complete"),
            "progress_view": (LiveProgress, "on_trial_complete"),
            "json_results": (JsonLoggerCallback, "log_trial_result"),
            "csv_results": (CSVLoggerCallback, "log_trial_result"),
            "tensorboard_results": (TBXLoggerCallback, "log_trial_result"),
            "experiment_state_save": (TuneController, "checkpoint")}


def measured(label: str, searcher_cls: type, launch: Callable[[CompletionClock], Any], trials: int) -> Run:
    """Run one search under the completion clock, the driver sampler and the method timer."""
    clock = CompletionClock()
    timer = MethodTimer(clock)
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    error = None
    with timer.patched(driver_targets(searcher_cls)), DriverSampler(clock) as sampler:
        try:
            launch(clock)
        except Exception as e:  # noqa: BLE001 - e.g. Ray's OOM killer on a shared machine: keep what was measured
            error = f"{type(e).__name__}: {e}"[:500]
    wall = time.perf_counter() - t0
    return Run(label, [t - t0 for t in clock.times], clock.ids, sampler.rows, timer.summary(total=trials), wall,
               load_start, os.getloadavg(), error)


def run_hpsearch(args: argparse.Namespace, storage: Path, address: str, clock: CompletionClock) -> str:
    from search.config import parse_config
    from search.launch import prepare, run_experiment
    from search.progress import LiveProgress

    cfg = parse_config(experiment_raw(args, storage, "hpsearch", address), "<scale benchmark>")
    # the progress view `hpsearch run` shows, as in a log file (a line per trial's end)
    with open(os.devnull, "w") as devnull:
        view = LiveProgress(cfg.search.metric, cfg.mode, cfg.budget.num_samples, cfg.budget.max_epochs,
                            stream=devnull, tty=False)
        return run_experiment(prepare(cfg), callbacks=[clock, view])


def bare_trial(config: dict[str, Any], data: Any, settings: Any, checkpoint: bool = False) -> None:
    """What a person writes with Ray Tune alone: train, report the metrics (with `checkpoint`, and the same
    per-epoch checkpoint as hpsearch's trainable, written to a temporary folder that Ray copies)."""
    from ray import tune

    from trainables.checkpoint import save_state
    from trainables.loop import run

    def report(result: Any, state: Any) -> None:
        if not (checkpoint and state is not None):
            tune.report(result.metrics())
            return
        with tempfile.TemporaryDirectory() as folder:
            save_state(state, folder)
            tune.report(result.metrics(), checkpoint=tune.Checkpoint.from_directory(folder))

    run(config, data, settings, report)


def run_bare(args: argparse.Namespace, storage: Path, clock: CompletionClock, checkpoint: bool = False) -> None:
    """The same trials through a plain Tuner: same space (in-memory Optuna TPE), ASHA, concurrency; with
    `checkpoint`, the same checkpoints as hpsearch (every epoch, the same number kept)."""
    import optuna
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search import ConcurrencyLimiter
    from ray.tune.search.optuna import OptunaSearch

    from analysis.experiment_data import load_data, settings_for
    from search.config import parse_config
    from search.launch import checkpoint_config
    from spaces import define_by_run, load_space

    name = BARE_CHECKPOINTED if checkpoint else BARE
    cfg = parse_config(experiment_raw(args, storage, name, None), "<scale benchmark>")
    _, data = load_data(cfg)
    sampler = optuna.samplers.TPESampler(seed=0, n_startup_trials=10, multivariate=True, group=True,
                                         constant_liar=True)
    searcher = OptunaSearch(space=define_by_run(load_space(SPACE), seed_key="seed"), metric="val_acc", mode="max",
                            sampler=sampler)
    fn = tune.with_resources(tune.with_parameters(bare_trial, data=data, settings=settings_for(cfg),
                                                  checkpoint=checkpoint), {"cpu": 1})
    kept = checkpoint_config("val_acc", "max") if checkpoint else None
    tuner = tune.Tuner(fn, tune_config=tune.TuneConfig(
        metric="val_acc", mode="max", search_alg=ConcurrencyLimiter(searcher, max_concurrent=args.concurrency),
        scheduler=ASHAScheduler(time_attr="epoch", max_t=2, grace_period=1, reduction_factor=2),
        num_samples=args.trials, reuse_actors=True, time_budget_s=args.budget_s),
        run_config=tune.RunConfig(name=name, storage_path=str(storage), verbose=0, callbacks=[clock],
                                  checkpoint_config=kept))
    tuner.fit()


def cli_seconds(exp: Path, out: Path, report: bool = True) -> dict[str, float]:
    """Wall seconds of `hpsearch status`, `leaderboard` and `report` on the finished experiment (fresh processes)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    commands = {"status": ["status", str(exp)], "leaderboard": ["leaderboard", str(exp), "--top", "10"]}
    if report:
        commands["report"] = ["report", str(exp), "--out", str(out / "report")]
    seconds = {}
    for name, argv in commands.items():
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "search.cli", *argv], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=1200)
        seconds[name] = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"hpsearch {name} failed: {proc.stderr[-2000:]}")
    return seconds


def profile_hpsearch(args: argparse.Namespace, storage: Path, address: str) -> str:
    """cProfile of the driver over one hpsearch run: the top functions by own and by cumulative time."""
    prof = cProfile.Profile()
    clock = CompletionClock()
    t0 = time.perf_counter()
    prof.runcall(run_hpsearch, args, storage, address, clock)
    wall = time.perf_counter() - t0
    if args.out:
        prof.dump_stats(str(Path(args.out) / "scale_profile.prof"))  # for pstats / snakeviz: callers, callees
    text = io.StringIO()
    for key in ("tottime", "cumulative"):
        pstats.Stats(prof, stream=text).sort_stats(key).print_stats(35)
    return f"{len(clock.times)} trials, {wall:.1f} s wall under cProfile\n\n{text.getvalue()}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = arg_parser(__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=1000, help="trials per search")
    p.add_argument("--images", type=int, default=300, help="training subset (before the 10%% validation split)")
    p.add_argument("--nodes", type=int, default=3, help="raylets of the local cluster")
    p.add_argument("--cpus-per-node", type=int, default=2, help="logical CPUs each raylet offers")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--skip", type=int, default=100, help="completions left out of the slope (start-up)")
    p.add_argument("--budget-s", type=float, default=None, help="stop each search after this many seconds")
    p.add_argument("--optuna-trials", type=int, default=200, help="study size for the suggestion-time comparison")
    p.add_argument("--profile", type=int, default=0, help="only profile hpsearch's driver over this many trials")
    p.add_argument("--data-dir", default=FASHION_DIR)
    p.add_argument("--keep", default=None, help="folder for the experiments, kept afterwards (default: a temporary one)")
    args = p.parse_args(argv)
    if args.quick:
        args.trials, args.images, args.concurrency, args.skip, args.cpus_per_node = 12, 100, 2, 4, 1
        args.optuna_trials = 12
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # no config table and result paths printed per search
    work = Path(args.keep or tempfile.mkdtemp(prefix="hpsearch-scale-"))
    try:
        with local_cluster(args.nodes, args.cpus_per_node) as address:
            if args.profile:
                args.trials = args.profile
                Path(args.out).mkdir(parents=True, exist_ok=True)
                (Path(args.out) / "scale_profile.txt").write_text(profile_hpsearch(args, work, address))
                return {}
            from search.searcher import TrialAwareOptunaSearch

            hp = measured("hpsearch", TrialAwareOptunaSearch,
                          lambda clock: run_hpsearch(args, work, address, clock), args.trials)
            from ray.tune.search.optuna import OptunaSearch
            bare = measured(BARE, OptunaSearch, lambda clock: run_bare(args, work, clock), args.trials)
            bare_ckpt = measured(BARE_CHECKPOINTED, OptunaSearch,
                                 lambda clock: run_bare(args, work, clock, checkpoint=True), args.trials)
        cli = cli_seconds(work / "hpsearch", work, report=not args.quick)  # quick: the report's own tests cover it
        parts = {"optuna_suggest_ms": {"plain_tpe": suggestion_ms(args.optuna_trials, snapshot=False),
                                       "snapshot_sampler": suggestion_ms(args.optuna_trials, snapshot=True)},
                 **checkpoint_seconds()}
        result, table = summarise(args, work / "hpsearch", [hp, bare, bare_ckpt], cli, parts)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    write(args, result, table)
    return result


if __name__ == "__main__":
    main()
