"""TensorBoard: `tensorboard --logdir RESULTS_DIR` finds one run per trial, with HParams and per-epoch curves."""
from __future__ import annotations

import json

import pytest

from analysis.load import read_results


@pytest.mark.slow
def test_one_run_per_trial_with_hparams_and_epoch_curves(search):
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer
    from tensorboard.plugins.hparams import plugin_data_pb2

    assert search.returncode == 0, search.output
    mux = EventMultiplexer()
    mux.AddRunsFromDirectory(str(search.path))  # what `tensorboard --logdir` does
    mux.Reload()
    trial_dirs = {d.name: d for d in search.path.iterdir() if (d / "params.json").is_file()}
    assert sorted(mux.Runs()) == sorted(trial_dirs) and len(trial_dirs) == 3

    for run, d in trial_dirs.items():
        params = json.loads((d / "params.json").read_text())
        content = mux.PluginRunToTagToContent("hparams")[run]
        start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
        hparams = start.session_start_info.hparams
        for name, value in params.items():
            shown = hparams[name]
            got = shown.string_value if isinstance(value, str) else shown.number_value
            assert got == pytest.approx(value), (run, name)

        rows = read_results(d / "result.json")
        for metric in ("val_acc", "train_loss", "epoch"):
            events = mux.Scalars(run, f"ray/tune/{metric}")
            assert [e.step for e in events] == [r["training_iteration"] for r in rows], (run, metric)
            # TensorBoard stores float32
            assert [e.value for e in events] == pytest.approx([r[metric] for r in rows], rel=1e-6), (run, metric)
