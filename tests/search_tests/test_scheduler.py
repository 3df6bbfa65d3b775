"""ResumableASHA: replaying recorded results rebuilds exactly the rungs a live run would have."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from ray.tune.schedulers import TrialScheduler

from search.config import parse_config
from search.scheduler import build_scheduler

CFG = parse_config({"budget": {"num_samples": 8, "max_epochs": 8, "grace_period": 1, "reduction_factor": 2}})
HISTORY = [(f"t{i}", e, 0.1 * i + 0.01 * e) for i in range(6) for e in (1, 2, 4) if not (i < 2 and e > 1)]


def live():
    s = build_scheduler(CFG)
    s.set_search_properties("val_acc", "max")
    for trial_id, epoch, value in HISTORY:
        t = SimpleNamespace(trial_id=trial_id)
        if trial_id not in s._trial_info:
            s.on_trial_add(None, t)
        s.on_trial_result(None, t, {"epoch": epoch, "val_acc": value})
    return s


def test_replay_rebuilds_live_rungs_and_decisions():
    replayed = build_scheduler(CFG)
    assert replayed.replay(HISTORY, "max") == len(HISTORY)
    replayed.set_search_properties("val_acc", "max")
    reference = live()
    assert replayed.rung_sizes() == reference.rung_sizes()
    assert replayed.rung_sizes()[1] == 6 and replayed.rung_sizes()[4] == 4
    # a newcomer below the median of the first rung is stopped by both
    for s in (replayed, reference):
        t = SimpleNamespace(trial_id="new")
        s.on_trial_add(None, t)
        assert s.on_trial_result(None, t, {"epoch": 1, "val_acc": 0.0}) == TrialScheduler.STOP


def test_replay_respects_min_mode():
    s = build_scheduler(parse_config({"search": {"metric": "val_loss"}, "budget": {"max_epochs": 4}}))
    s.replay([("a", 1, 0.5), ("b", 1, 0.7)], "min")
    s.set_search_properties("val_loss", "min")
    t = SimpleNamespace(trial_id="c")
    s.on_trial_add(None, t)
    assert s.on_trial_result(None, t, {"epoch": 1, "val_loss": 0.9}) == TrialScheduler.STOP


def test_staged_asha_decides_at_stage_ends_only_with_milestones_at_the_stage_costs():
    from trainables.stages import Ladder, make_ladder

    ladder = Ladder(make_ladder(9, 3, 0.1))  # costs 1/9, 1/3, 1, 3, 9 full-data epochs
    cfg = parse_config({"budget": {"num_samples": 8, "max_epochs": 8, "reduction_factor": 3}})
    s = build_scheduler(cfg, ladder)
    s.set_search_properties("val_acc", "max")
    assert sorted(s.rung_sizes()) == pytest.approx([1 / 9, 1 / 3, 1, 3, 9])
    for i in range(3):  # three trials end the cheapest stage with 0.5, 0.6, 0.7
        t = SimpleNamespace(trial_id=f"t{i}")
        s.on_trial_add(None, t)
        s.on_trial_result(None, t, {"epoch": 1, "resource": ladder.resource(0), "val_acc": 0.5 + 0.1 * i})
    weak = SimpleNamespace(trial_id="weak")
    s.on_trial_add(None, weak)
    # mid-stage results carry no resource: never judged, however poor
    assert s.on_trial_result(None, weak, {"epoch": 1, "val_acc": 0.0}) == TrialScheduler.CONTINUE
    assert s.on_trial_result(None, weak, {"epoch": 1, "resource": ladder.resource(0), "val_acc": 0.1}) \
        == TrialScheduler.STOP
