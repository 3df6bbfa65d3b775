"""Where a search's data comes from, as a few hundred bytes: what each node loads for itself.

`DataSource.load_split` is the one definition of how a dataset becomes what trials see (test set held
out, validation split, optional subset), used by the driver's up-front check, by every node
(`trainables.node_data`) and by analysis afterwards.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from .dataset import ImageData
from .split import TrialData, make_trial_data, test_split


@dataclass(frozen=True)
class DataSource:
    name: str
    data_dir: str | None
    options: dict[str, Any] = field(default_factory=dict, hash=False)
    test_fraction: float = 0.2
    val_fraction: float = 0.1
    seed: int = 0
    train_subset: int | None = None

    def key(self) -> str:
        """Names this exact data (dataset, folder, options, split): equal keys, equal arrays."""
        return hashlib.sha256(repr(sorted(vars(self).items())).encode()).hexdigest()[:12]

    def load_split(self) -> tuple[ImageData, TrialData]:
        """The dataset with its held-out test set, and the train/validation split every trial sees."""
        from . import load_dataset  # the registry imports every loader

        raw = test_split(load_dataset(self.name, self.data_dir, self.options), self.test_fraction, self.seed)
        return raw, make_trial_data(raw, self.val_fraction, self.seed, self.train_subset)

    def load(self) -> TrialData:
        return self.load_split()[1]
