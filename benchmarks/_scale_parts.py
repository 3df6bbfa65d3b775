"""The scale benchmark's measurements outside a search: Optuna's suggestion time against study size (plain TPE
against hpsearch's `SnapshotSampler`, both in hpsearch's default journal study) and one checkpoint's writing time."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from ._scale_probe import by_size


def suggestion_ms(trials: int, snapshot: bool, running: int = 4) -> list[dict[str, float]]:
    """Mean ms per ask + define-by-run suggestion of the mlp preset, by study size, `running` trials in flight."""
    import optuna

    from search.searcher import study_storage
    from search.study_snapshot import SnapshotSampler
    from spaces import define_by_run, get_preset

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler: optuna.samplers.BaseSampler = optuna.samplers.TPESampler(
        seed=0, n_startup_trials=10, multivariate=True, group=True, constant_liar=True)
    if snapshot:
        sampler = SnapshotSampler(sampler)
    with tempfile.TemporaryDirectory() as folder:
        study = optuna.create_study(storage=study_storage(f"{folder}/optuna.journal"), sampler=sampler,
                                    direction="maximize")
        space_fn = define_by_run(get_preset("mlp"), seed_key="seed")
        calls, live = [], []
        for i in range(trials):
            t0 = time.perf_counter()
            trial = study.ask()
            space_fn(trial)
            calls.append((i, time.perf_counter() - t0))
            live.append(trial)
            if len(live) > running:  # the oldest ends: every other one completes, the rest are pruned at epoch 1
                done = live.pop(0)
                done.report(float(i % 7) / 7, 1)
                study.tell(done, float(i % 5) / 5 if i % 2 else None,
                           state=optuna.trial.TrialState.COMPLETE if i % 2 else optuna.trial.TrialState.PRUNED)
        return by_size(calls, 5, trials)


def checkpoint_seconds(repeats: int = 5) -> dict[str, float]:
    """Seconds to write one checkpoint (model, optimizer, schedule, RNG) of the mlp preset's warm start."""
    import torch

    from spaces import get_preset
    from trainables.checkpoint import RngState, TrialState, save_state
    from trainables.data import load_dataset, make_trial_data
    from trainables.loop import TrainSettings, build
    from trainables.trial_config import parse_trial_config

    config: dict[str, Any] = {"family": "mlp", **get_preset("mlp").warm_start[0]}
    data = make_trial_data(load_dataset("fashion_mnist", "/usr/share/datasets/fashion-mnist", {"download": False}),
                           0.1, 0, 100)
    model, _, opt, sched = build(parse_trial_config(config), data, TrainSettings(max_epochs=2), torch.device("cpu"))
    model(torch.zeros(2, *data.in_shape)).sum().backward()
    opt.step()  # the optimizer state exists only after a step
    state = TrialState(config, 1, model.state_dict(), opt.state_dict(), sched.state_dict(), 0.0, 0,
                       RngState.capture(torch.Generator()), None)
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        for i in range(repeats):
            (Path(folder) / f"c{i}").mkdir()
            save_state(state, Path(folder) / f"c{i}")
        seconds = (time.perf_counter() - t0) / repeats
        mib = sum(f.stat().st_size for f in (Path(folder) / "c0").iterdir()) / 2**20
    return {"checkpoint_write_s": seconds, "checkpoint_mib": mib}
