"""The final training's trial in time mode (search.winner): the leader at the top stage, unless the space's
first warm start (the prior) is within search.prior_margin points of it at the highest stage both reached."""
from __future__ import annotations

import pandas as pd
import pytest

from search.winner import prior_lead
from trainables.metrics import RESOURCE, STAGE


def _ends(rows: list[tuple[str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"trial_id": t, STAGE: s, RESOURCE: s + 1.0, "val_acc": v} for t, s, v in rows])


def test_the_lead_is_measured_at_the_highest_stage_both_finished() -> None:
    ends = _ends([("prior", 0, 0.80), ("prior", 1, 0.880), ("lead", 0, 0.70), ("lead", 1, 0.886),
                  ("lead", 2, 0.91)])
    lead, stage = prior_lead(ends, "val_acc", 1.0, "lead", "prior")
    assert stage == 1 and lead == pytest.approx(0.6)  # points: hundredths of the metric


def test_a_smaller_loss_is_a_positive_lead_and_a_prior_with_no_stage_gives_none() -> None:
    ends = _ends([("prior", 0, 0.40), ("lead", 0, 0.35)]).rename(columns={"val_acc": "val_loss"})
    lead, stage = prior_lead(ends, "val_loss", -1.0, "lead", "prior")
    assert stage == 0 and lead == pytest.approx(5.0)
    assert prior_lead(ends, "val_loss", -1.0, "lead", "absent") is None
