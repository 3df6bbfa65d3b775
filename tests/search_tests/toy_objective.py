"""A cheap, accuracy-like toy objective with conditional parameters, for sampler tests."""
from __future__ import annotations

import math
from typing import Any

import optuna

OPTIMUM_LR = {"adam": 3e-3, "sgd": 1e-1, "rmsprop": 1e-3}
OPTIMIZER_COST = {"adam": 0.0, "sgd": 0.01, "rmsprop": 0.03}
SCHEDULE_COST = {"cosine": 0.0, "step": 0.005, "none": 0.015}
# a hand-tuned point near the optimum (value ~0.935; the optimum, adam/3e-3/200/0.3/cosine, is 1.0)
GOOD_PRIOR = {"optimizer": "adam", "lr": 1e-3, "width": 128, "dropout": 0.1, "schedule": "none"}
# a deliberately poor one: a bad corner of the space
POOR_PRIOR = {"optimizer": "sgd", "lr": 1e-5, "momentum": 0.5, "width": 8, "dropout": 0.8, "schedule": "step",
              "step_size": 10}


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    """Define-by-run: `momentum` exists only for sgd/rmsprop, `step_size` only for the step schedule."""
    p: dict[str, Any] = {"optimizer": trial.suggest_categorical("optimizer", ["sgd", "adam", "rmsprop"]),
                         "lr": trial.suggest_float("lr", 1e-5, 1.0, log=True)}
    if p["optimizer"] in ("sgd", "rmsprop"):
        p["momentum"] = trial.suggest_float("momentum", 0.5, 0.99)
    p["width"] = trial.suggest_int("width", 8, 512, log=True)
    p["dropout"] = trial.suggest_float("dropout", 0.0, 0.8)
    p["schedule"] = trial.suggest_categorical("schedule", ["none", "cosine", "step"])
    if p["schedule"] == "step":
        p["step_size"] = trial.suggest_int("step_size", 1, 10)
    return p


def value(p: dict[str, Any]) -> float:
    """Accuracy-like score, at most 1.0."""
    loss = 0.08 * math.log10(p["lr"] / OPTIMUM_LR[p["optimizer"]]) ** 2
    loss += 0.03 * math.log2(p["width"] / 200) ** 2 + 0.5 * (p["dropout"] - 0.3) ** 2
    loss += OPTIMIZER_COST[p["optimizer"]] + SCHEDULE_COST[p["schedule"]]
    if "momentum" in p:
        loss += 0.3 * (p["momentum"] - 0.9) ** 2
    if "step_size" in p:
        loss += 0.002 * abs(p["step_size"] - 4)
    return 1.0 - loss


def objective(trial: optuna.Trial) -> float:
    return value(suggest(trial))
