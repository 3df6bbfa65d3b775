"""A SearchGenerator that survives a resume: a raised budget, and trials created where the folder is now.

Ray restores the generator's pickled `Experiment`, whose storage still names the folder the search was
launched in; trials the generator creates after a resume would write their results there, not into a
moved or copied folder. `experiment_path` (set before `fit()`) re-points them, as Ray itself does for
the trials it restores.
"""
from __future__ import annotations

import copy
from pathlib import PurePosixPath
from typing import Any

from ray.tune.search import SearchGenerator

from ._ray_compat import (
    extend_generator_budget,
    generator_budget,
    generator_counter,
    generator_storage,
    reset_live_trials,
    set_generator_counter,
    set_generator_storage,
)


class ExtendableSearchGenerator(SearchGenerator):
    extend_to: int | None = None          # raise the total budget to this many trials
    experiment_path: str | None = None    # where the experiment folder is now
    recorded_trials: int | None = None    # trials in Ray's experiment state, read by `resume_experiment`
    continued_trials: set[str] | None = None  # of those, the ones Ray continues (not TERMINATED)

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        if self.recorded_trials is not None and self.recorded_trials != generator_counter(self):
            # its state file and Ray's experiment state were saved or uploaded at different moments (a kill
            # in between): Ray's record of the trials decides, or the resumed search misses its budget
            set_generator_counter(self, self.recorded_trials)
        if self.continued_trials is not None:  # the concurrency limiter's own state may be older, too
            reset_live_trials(self.searcher, self.continued_trials)
        if self.extend_to is not None and self.extend_to > generator_budget(self):
            extend_generator_budget(self, self.extend_to)
        if self.experiment_path is not None:
            self._relocate(self.experiment_path)

    def _relocate(self, path: str) -> None:
        import pyarrow.fs

        storage = generator_storage(self)
        if storage is None:
            return
        fs, fs_path = pyarrow.fs.FileSystem.from_uri(path)  # as Ray resolves a storage path
        moved = copy.copy(storage)
        moved.storage_filesystem = fs
        moved.storage_fs_path = str(PurePosixPath(fs_path).parent)
        moved.experiment_dir_name = PurePosixPath(fs_path).name
        set_generator_storage(self, moved)
