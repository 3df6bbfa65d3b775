"""Every use of Optuna internals in hpsearch, in one place.

Optuna names a trial in its storage by an internal id (`_trial_id`), distinct from its public
`number`; Ray's OptunaSearch pickles that id, and `optuna.trial.Trial(study, trial_id)` (the way
to act on an existing trial) takes it. Checked against optuna 5.0.0; the contract tests
(tests/search_tests/test_compat.py) fail naming the attribute when a release moves it.
"""
from __future__ import annotations

from typing import Any

import optuna

CHECKED = "optuna 5.0.0"  # read in, and tested against, this version


def storage_id(trial: Any) -> int:
    """The storage's id of an `optuna.trial.Trial` or `FrozenTrial` (what OptunaSearch pickles)."""
    return trial._trial_id


def live_trial(study: optuna.Study, trial_storage_id: int) -> optuna.trial.Trial:
    """The `Trial` handle through which a running trial reports and is told (public class, internal id)."""
    return optuna.trial.Trial(study, trial_storage_id)


def queued_params(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """The parameters a WAITING trial was enqueued with (`Study.enqueue_trial` keeps them in a system attribute)."""
    return dict(trial.system_attrs.get("fixed_params") or {})
