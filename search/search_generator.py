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


class ExtendableSearchGenerator(SearchGenerator):
    extend_to: int | None = None          # raise the total budget to this many trials
    experiment_path: str | None = None    # where the experiment folder is now

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        if self.extend_to is not None and self.extend_to > self._total_samples:
            self._total_samples = self.extend_to
            self._finished = False
        if self.experiment_path is not None:
            self._relocate(self.experiment_path)

    def _relocate(self, path: str) -> None:
        from ray.train._internal.storage import get_fs_and_path

        storage = self._experiment.spec.get("storage") if self._experiment else None
        if storage is None:
            return
        fs, fs_path = get_fs_and_path(path)
        moved = copy.copy(storage)
        moved.storage_filesystem = fs
        moved.storage_fs_path = str(PurePosixPath(fs_path).parent)
        moved.experiment_dir_name = PurePosixPath(fs_path).name
        self._experiment.spec["storage"] = moved
        self._experiment.storage = moved
