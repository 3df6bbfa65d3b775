"""Measure how fast the warm-start configuration trains, here and now, to plan a time budget from it.

A few timed optimizer steps (after one untimed step that pays the one-off start-up costs) and one timed
validation pass on part of the validation images, scaled to whole epochs. Measured with one trial's
threads (what each exploring trial gets) and, where this machine has more CPUs, with all of them: the
final training (alone on the machine by then) uses whichever was faster. On a loaded machine more
threads can be many times slower, so this is measured, not assumed.
"""
from __future__ import annotations

import os
import time
from dataclasses import replace
from typing import Any

import optuna
import torch

from analysis.experiment_data import settings_for
from spaces import Space, define_by_run
from trainables.data import TrialData
from trainables.loop import TrainSettings, evaluate, setup, train_step

from .budget_plan import Throughput
from .searcher import SEED_KEY, warm_start_points

MIN_STEPS = 3
MIN_SECONDS = 1.0          # per measurement: long enough that a timer's resolution and one slow step do not matter
EVAL_IMAGES = 1024


def warm_start_config(space: Space, seed: int = 0) -> dict[str, Any]:
    """The full trial config of the space's first warm start (a seeded random point when it has none)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    points = warm_start_points(space)
    if points:
        study.enqueue_trial(points[0])
    trial = study.ask()
    constants = define_by_run(space, seed_key=SEED_KEY, seed_base=seed)(trial) or {}
    return {**trial.params, **constants}


def local_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def step_seconds(config: dict[str, Any], data: TrialData, settings: TrainSettings) -> tuple[float, float]:
    """(seconds per training image, seconds per validation image) of `config` with `settings`' threads."""
    t = setup(config, data, settings)
    d, bs, n = t.data, t.cfg.batch_size, len(t.data.y_train)
    steps, seen, spent, i = 0, 0, 0.0, 0
    while steps <= MIN_STEPS or spent < MIN_SECONDS:
        idx = torch.arange(i, min(i + bs, n))
        i = 0 if i + bs >= n else i + bs
        t0 = time.perf_counter()
        train_step(t.model, t.pre, t.opt, d.x_train, d.y_train, idx, t.cfg, t.gen, d.class_weights, t.opts)
        if steps > 0:  # the first step pays one-off costs (allocation, kernels chosen)
            spent, seen = spent + time.perf_counter() - t0, seen + len(idx)
        steps += 1
    m = min(EVAL_IMAGES, len(d.y_val))
    evaluate(t.model, t.pre, d.x_val[:64], d.y_val[:64], t.cfg, t.num_classes)  # first call: one-off costs
    t0 = time.perf_counter()
    evaluate(t.model, t.pre, d.x_val[:m], d.y_val[:m], t.cfg, t.num_classes, settings.eval_batch_size)
    return spent / max(seen, 1), (time.perf_counter() - t0) / max(m, 1)


def measure_throughput(cfg: Any, space: Space, data: TrialData, test_images: int, concurrency: int) -> Throughput:
    """Seconds per epoch of the warm start: on one trial's threads, and on all of this machine's for the final."""
    config = warm_start_config(space, cfg.search.seed)
    threads = torch.get_num_threads()
    base = replace(settings_for(cfg), max_epoch_seconds=None)
    final_threads = base.num_threads or 1
    try:
        per_image, per_val = step_seconds(config, data, base)
        per_image_final = per_image
        if local_cpus() > final_threads:
            per_image_all, _ = step_seconds(config, data, replace(base, num_threads=local_cpus()))
            if per_image_all < per_image:
                per_image_final, final_threads = per_image_all, local_cpus()
    finally:
        torch.set_num_threads(threads)
    n_train, n_val = len(data.y_train), len(data.y_val)
    return Throughput(per_image * n_train, per_val * n_val, per_image_final * (n_train + n_val),
                      n_train, n_val, test_images, concurrency, final_threads)
