"""The time-budget planner: parts that sum to the budget, a final training and a ladder that fit their shares,
precise errors for budgets too small to train anything; and when a config is time-budgeted at all."""
from __future__ import annotations

import pytest

from search.budget_plan import (
    FINAL_SHARE,
    LADDER_CLIMBS,
    TRIAL_START_S,
    PlanError,
    Throughput,
    ladder_seconds,
    plan_budget,
    top_stage_epochs,
)
from search.config import ConfigError, parse_config

# a CNN on full Fashion-MNIST on one CPU thread: 40 s per training epoch, 3 s per validation pass
CNN = Throughput(epoch_seconds=40.0, eval_seconds=3.0, final_epoch_seconds=45.0, train_images=54000,
                 val_images=6000, test_images=10000, concurrency=2)


@pytest.mark.parametrize("budget", [600.0, 1800.0, 7200.0])
def test_plan_parts_sum_to_the_budget_and_each_fits_its_share(budget: float) -> None:
    plan = plan_budget(budget, 20.0, CNN, eta=3)
    parts = plan.startup_s + plan.explore_s + plan.final_s + plan.evaluation_s + plan.reserve_s
    assert parts == pytest.approx(budget)
    assert plan.final_s == pytest.approx(plan.final_epochs * CNN.final_epoch_seconds)
    usable = budget - plan.startup_s - plan.evaluation_s - plan.reserve_s
    assert plan.final_s <= FINAL_SHARE * usable
    climb = ladder_seconds(plan.stages, CNN)
    assert plan.explore_s >= TRIAL_START_S + LADDER_CLIMBS * climb / CNN.concurrency
    # the top stage: all the training images for a complete training eta times shorter than the final one
    assert plan.stages[-1].fraction == 1.0 and plan.stages[-1].epochs == top_stage_epochs(plan.final_epochs, 3)
    assert plan.evaluation_s > CNN.eval_seconds * 10_000 / 6_000  # the test set is larger than validation


def test_a_larger_budget_buys_a_longer_final_training_and_more_stages() -> None:
    plans = [plan_budget(b, 20.0, CNN, eta=3) for b in (600.0, 1800.0, 7200.0)]
    assert [p.final_epochs for p in plans] == sorted(p.final_epochs for p in plans)
    assert plans[0].final_epochs < plans[-1].final_epochs and len(plans[0].stages) <= len(plans[-1].stages)
    assert plan_budget(10**6, 20.0, CNN, eta=3, max_final_epochs=30).final_epochs == 30


@pytest.mark.parametrize("share", [0.25, 0.75])
def test_final_share_caps_the_final_training_and_a_larger_share_trains_longer(share: float) -> None:
    plan = plan_budget(1800.0, 20.0, CNN, eta=3, final_share=share)
    usable = 1800.0 - plan.startup_s - plan.evaluation_s - plan.reserve_s
    assert plan.final_s <= share * usable
    half = plan_budget(1800.0, 20.0, CNN, eta=3)
    assert (plan.final_epochs < half.final_epochs) if share < FINAL_SHARE else (plan.final_epochs > half.final_epochs)
    climb = ladder_seconds(plan.stages, CNN)  # the search still has room for its two climbs
    assert plan.explore_s >= TRIAL_START_S + LADDER_CLIMBS * climb / CNN.concurrency


def test_a_budget_too_small_to_train_anything_says_what_it_would_take() -> None:
    with pytest.raises(PlanError) as e:
        plan_budget(120.0, 20.0, CNN, eta=3)
    message = str(e.value)
    assert "budget.time_budget_s = 120 s is too small" in message and "start-up took 20 s" in message
    assert "40.0 s" in message and "Give at least" in message
    need = int(message.split("Give at least ")[1].split(" s")[0])
    plan_budget(need, 20.0, CNN, eta=3)  # the budget it names is enough


def test_a_time_budget_alone_means_time_mode_and_explicit_counts_keep_the_old_mode() -> None:
    timed = parse_config({"name": "t", "space": "lenet5", "budget": {"time_budget_s": 600}})
    assert timed.budget.mode == "time" and timed.budget.epoch_time_limit() is None
    both = parse_config({"name": "t", "space": "lenet5", "budget": {"time_budget_s": 600, "num_samples": 9}})
    assert both.budget.mode == "explicit" and both.budget.epoch_time_limit() == 150.0
    forced = parse_config({"name": "t", "space": "lenet5", "budget": {"time_budget_s": 60, "max_epochs": 3,
                                                                         "mode": "time"}})
    assert forced.budget.mode == "time"
    assert parse_config({"name": "t", "space": "lenet5"}).budget.mode == "explicit"
    with pytest.raises(ConfigError, match=r"budget.mode = 'time': .*together with budget.time_budget_s"):
        parse_config({"name": "t", "space": "lenet5", "budget": {"mode": "time"}})
    with pytest.raises(ConfigError, match=r"budget.mode = 'fast': time .*, explicit"):
        parse_config({"name": "t", "space": "lenet5", "budget": {"mode": "fast"}})
