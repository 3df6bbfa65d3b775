"""search.constraints inside a trial: a cost over its bound stops the trial before its first step; a
per-epoch metric over its bound ends it after that epoch. Both report as infeasible, naming the bound."""
from __future__ import annotations

import pytest
import torch

from tests.conftest import synthetic_images
from trainables.constraints import Constraint, ConstraintError, parse_constraint, violated
from trainables.data.split import TrialData
from trainables.loop import TrainSettings, run
from trainables.metrics import INFEASIBLE, STOPPED_BY, VIOLATED, StopReason

MLP = {"family": "mlp", "mlp_layers": 1, "mlp_units_1": 64, "batch_size": 32}  # 50,890 parameters


def data(n: int = 256) -> TrialData:
    x, y = synthetic_images(n)
    return TrialData(x, y, x[:64], y[:64], [str(i) for i in range(10)], (0.2,), (0.3,))


def _run(constraints: list[str], max_epochs: int = 2) -> tuple[list, object]:
    torch.set_num_threads(1)
    reports: list = []
    settings = TrainSettings(max_epochs=max_epochs, constraints=tuple(parse_constraint(c) for c in constraints))
    state = run(MLP, data(), settings, lambda r, s: reports.append(r))
    return reports, state


def test_a_model_over_its_parameter_bound_never_trains_a_step(monkeypatch):
    steps = []
    monkeypatch.setattr("trainables.loop.train_step", lambda *a, **k: steps.append(1))  # count, never train
    reports, state = _run(["param_count <= 50000"])
    assert steps == [] and state is None and len(reports) == 1
    r = reports[0]
    assert r.epoch == 0 and r.stopped_by is StopReason.INFEASIBLE and r.param_count == 50_890
    assert r.inference_ms is not None and r.inference_ms > 0  # measured, on the trial's device
    m = r.metrics()
    assert m[STOPPED_BY] == INFEASIBLE and m[VIOLATED] == "param_count <= 50000 (was 50890)"
    assert "train_loss" not in m


def test_a_per_epoch_bound_ends_the_trial_after_the_epoch_that_breaks_it():
    reports, state = _run(["train_loss <= 0"], max_epochs=3)  # no real loss is ever <= 0
    assert [r.epoch for r in reports] == [1] and state is not None
    assert reports[0].stopped_by is StopReason.INFEASIBLE and reports[0].violated.startswith("train_loss <= 0 (was ")


def test_constraints_that_hold_change_nothing():
    reports, _ = _run(["param_count <= 1e6", "inference_ms <= 1000", "val_acc >= 0"])
    assert [r.epoch for r in reports] == [1, 2] and all(r.stopped_by is None for r in reports)


def test_parse_and_violation():
    c = parse_constraint(" param_count<=1e6 ")
    assert c == Constraint("param_count", "<=", 1e6) and c.before_training and str(c) == "param_count <= 1e+06"
    assert c.violation(1.5e6) == 5e5 and c.violation(1e6) == 0 and c.violation(10) < 0  # <= 0: met (Optuna)
    low = parse_constraint("val_acc >= 0.8")
    assert not low.before_training and low.violation(0.7) == pytest.approx(0.1) and low.violation(0.9) < 0
    assert violated([c, low], {"param_count": 10, "val_acc": 0.5}) == "val_acc >= 0.8 (was 0.5)"
    assert violated([low], {"param_count": 10}) is None  # not measured yet: not judged
    for bad in ("param_count < 5", "param_count <= ", "<= 5", "param_count <= inf", "flops <= 5", 3):
        with pytest.raises(ConstraintError):
            parse_constraint(bad)  # type: ignore[arg-type]
