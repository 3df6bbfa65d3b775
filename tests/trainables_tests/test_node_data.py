"""Each node decodes the dataset once, into its object store; every trial there maps that one copy."""
from __future__ import annotations

from pathlib import Path

from trainables.data.source import DataSource
from trainables.node_data import node_trial_data, start_loaders


def test_a_node_decodes_once_and_its_trials_share_the_copy(ray_session, idx_dir: Path) -> None:
    ray = ray_session
    source = DataSource("fashion_mnist", str(idx_dir), {"download": False}, val_fraction=0.2, seed=1)
    loaders = start_loaders(source)
    assert len(loaders) == 1  # one node in this Ray

    @ray.remote(num_cpus=0)
    def trial() -> tuple[int, float, bool]:
        data = node_trial_data(source)
        return len(data.y_train), float(data.x_train.mean()), data.x_train.flags.writeable

    _, expected = source.load_split()
    seen = ray.get([trial.remote() for _ in range(3)])
    # the same split as a local load; read-only: the pages of the node's object store, not a copy
    assert seen == [(len(expected.y_train), float(expected.x_train.mean()), False)] * 3
    assert ray.get(loaders[0].decodes.remote()) == 1
    assert source.key() == DataSource("fashion_mnist", str(idx_dir), {"download": False}, 0.2, 0.2, 1).key()
    assert source.key() != DataSource("fashion_mnist", str(idx_dir), {"download": False}, 0.2, 0.2, 2).key()
