"""One experiment over the `full` preset runs several model families side by side."""
from __future__ import annotations

import pytest

from analysis import leaderboard, load_experiment
from search.cli import main

FAMILY_PARAMS = {"mlp": "mlp_layers=", "cnn": "conv_blocks=", "lenet5": "pool=", "timm": "backbone="}


@pytest.mark.slow
def test_full_preset_mixes_families_with_their_own_parameters(tmp_path, make_experiment, fashion_dir, capsys,
                                                              ray_session):
    exp_yaml = make_experiment("full", space="full", dataset={"data_dir": str(fashion_dir), "train_subset": 600},
                               budget={"num_samples": 8, "max_epochs": 1, "grace_period": 1},
                               search={"seed": 0, "startup_trials": 8})  # warm starts, then random
    assert main(["run", str(exp_yaml)]) == 0
    out = capsys.readouterr().out
    board = leaderboard(load_experiment(tmp_path / "results" / "full"))
    families = set(board["config/family"])
    assert len(families) >= 3, families
    for _, row in board.iterrows():
        fam = row["config/family"]
        assert FAMILY_PARAMS[fam] in row["params"], row["params"]
        for other, marker in FAMILY_PARAMS.items():
            if other != fam and not (fam == "cnn" and other == "lenet5"):  # cnn and lenet5 share `pool`
                assert marker not in row["params"], (fam, row["params"])
    # the printed leaderboard shows the family-specific parameters too
    assert "conv_blocks=" in out and "family=cnn" in out
