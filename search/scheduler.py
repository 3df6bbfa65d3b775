"""Where the ASHA early-stopping scheduler is built, and refilled after a resume.

Ray Tune does not save scheduler state, so a restored ASHA starts with empty rungs and lets
every resumed trial through. `ResumableASHA.replay` rebuilds the rungs from the per-epoch results
recorded on disk, so early stopping after a resume decides exactly as it would have.
"""
from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace

from ray.tune.schedulers import AsyncHyperBandScheduler

from trainables.metrics import EPOCH, RESOURCE
from trainables.stages import Ladder

from ._ray_compat import asha_bracket, asha_rungs
from .config import ExperimentConfig


class ResumableASHA(AsyncHyperBandScheduler):
    def replay(self, history: Iterable[tuple[str, int, float]], mode: str) -> int:
        """Feed recorded `(trial_id, epoch, value)` results, in the order they happened, into the rungs.

        `mode` is passed in because a restored scheduler only learns it when the run starts.
        """
        sign = 1.0 if mode == "max" else -1.0
        bracket = asha_bracket(self)  # one bracket (ASHA); trials are all in it
        n = 0
        for trial_id, epoch, value in history:
            bracket.on_result(SimpleNamespace(trial_id=trial_id), epoch, sign * value)
            n += 1
        return n

    def rung_sizes(self) -> dict[float, int]:
        return {milestone: len(recorded) for milestone, recorded in asha_rungs(self)}


def build_scheduler(cfg: ExperimentConfig, ladder: Ladder | None = None) -> ResumableASHA:
    """ASHA on the epoch counter; metric and mode are set here as in TuneConfig (named once there).

    With a stage `ladder`, ASHA counts `resource` (full-data epochs spent, reported at the end of each
    stage only) and its milestones are the stage costs: the cheapest stage's cost times eta^k, which the
    ladder's costs are by construction (`trainables.stages.make_ladder`).
    """
    if ladder is not None:
        # Ray's hints say int; its rung arithmetic is float throughout, and stage costs are fractions
        return ResumableASHA(time_attr=RESOURCE, max_t=ladder.resource(len(ladder.stages) - 1),  # type: ignore[arg-type]
                             grace_period=ladder.stages[0].cost,  # type: ignore[arg-type]
                             reduction_factor=cfg.budget.reduction_factor)
    return ResumableASHA(
        time_attr=EPOCH,
        max_t=cfg.budget.max_epochs,
        grace_period=cfg.budget.grace_period,
        reduction_factor=cfg.budget.reduction_factor,
    )
