"""A training fitted to a deadline (a time-budgeted run's final training, issue #15 must-show 4): planned
from a bad first estimate, it ends by the deadline and close to it."""
from __future__ import annotations

import time

import pytest

from analysis.final import fit_to_deadline
from tests.conftest import synthetic_images
from trainables.data import TrialData
from trainables.loop import TrainSettings, run

LR = 1e-2
CONFIG = {"family": "mlp", "mlp_layers": 1, "mlp_units_1": 256, "optimizer": "adamw", "lr": LR, "batch_size": 64,
          "schedule": "onecycle", "seed": 1}


def _data() -> TrialData:
    x, y = synthetic_images(6100, shape=(1, 28, 28), seed=3)
    return TrialData(x[:6000], y[:6000], x[6000:], y[6000:], [str(i) for i in range(10)], (0.2,), (0.3,))


@pytest.mark.parametrize("first_estimate", [2, 400])
def test_a_training_fitted_to_a_deadline_ends_by_it_with_its_schedule_complete(first_estimate: int) -> None:
    """Planned 2 epochs (far too few) or 400 (far too many) for a 4 s deadline: it trains what fits."""
    data, said = _data(), []
    settings = TrainSettings(max_epochs=first_estimate, num_threads=1)
    reports = []
    t0 = time.time()
    deadline = t0 + 4.0
    state = run(CONFIG, data, settings, lambda r, _s: reports.append(r), epochs=first_estimate,
                length=fit_to_deadline(deadline, said.append, "final"))
    end = time.time()
    longest = max(r.epoch_seconds for r in reports)
    assert state is not None and 2 <= len(reports) < 400, len(reports)
    assert end <= deadline + 0.5, (end - deadline, longest)  # never an epoch that ends past it (+ timer slack)
    # a partial last pass fills what is left: half an epoch of slack for epochs that vary in length under load
    # (whole epochs alone left up to an epoch unused; 0.00-0.03 s here, idle and beside a test run)
    assert end >= deadline - 0.5 * longest - 0.2, (deadline - end, longest)
    assert said and said[0].startswith("final: ")
    # Not asserted: that the one-cycle schedule ended exactly on the last step. It does when the last epoch
    # takes no longer than the median of the three before it; when it takes longer, the deadline ends the
    # training before the (partial) pass the schedule was last sized for (seen in 1 of 6 runs of this test on
    # 0.2 s epochs with whole epochs only; a known gap, issue #15). The schedule's resizing itself is tested
    # exactly in test_schedules.py.
