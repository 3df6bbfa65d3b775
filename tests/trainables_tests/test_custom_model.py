"""The `custom` family: the user's builder gets the trial's values, the input shape and the class count;
a builder that cannot be found, raises, or returns no module fails with an error naming it; the model
trains, checkpoints and bundles like a built-in one."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from analysis.bundle import load_bundle, save_bundle
from tests.conftest import synthetic_images
from trainables.checkpoint import trained_model
from trainables.data.split import TrialData
from trainables.loop import TrainSettings, run
from trainables.models import BuilderError, build_model, register_builder
from trainables.preprocess import Normalisation
from trainables.trial_config import TrialConfigError, parse_trial_config

MOD = "tests.trainables_tests.custom_builders"
SHAPE = (1, 28, 28)


def test_the_builder_gets_the_sampled_values_the_shape_and_the_class_count():
    seen = {}

    def spy(config, in_shape, num_classes):
        seen.update(config=config, in_shape=in_shape, num_classes=num_classes)
        return nn.Linear(1, 1)

    ref = register_builder(spy)
    build_model({"family": "custom", "builder": ref, "width": 12, "lr": 0.01, "seed": 3}, (3, 32, 32), 7)
    assert seen == {"config": {"family": "custom", "builder": ref, "width": 12, "lr": 0.01},
                    "in_shape": (3, 32, 32), "num_classes": 7}
    model = build_model({"family": "custom", "builder": f"{MOD}:tiny_cnn", "width": 12}, SHAPE, 10)
    assert model[0].out_channels == 12 and model(torch.zeros(2, *SHAPE)).shape == (2, 10)


def test_a_file_reference_loads_the_file(tmp_path):
    (tmp_path / "my_nets.py").write_text("from torch import nn\n"
                                         "def mlp(config, in_shape, num_classes):\n"
                                         "    return nn.Sequential(nn.Flatten(), nn.Linear(784, num_classes))\n")
    model = build_model({"family": "custom", "builder": f"{tmp_path}/my_nets.py:mlp"}, SHAPE, 4)
    assert model(torch.zeros(1, *SHAPE)).shape == (1, 4)


@pytest.mark.parametrize("builder, message", [
    (f"{MOD}:raises", f"builder '{MOD}:raises' raised RuntimeError: no layer fits (1, 28, 28)"),
    (f"{MOD}:not_a_module", f"builder '{MOD}:not_a_module' returned str, not a torch.nn.Module"),
    ("no_such_module_xyz:build", "builder 'no_such_module_xyz:build': cannot import module 'no_such_module_xyz'"),
    (f"{MOD}:missing", f"builder '{MOD}:missing': '{MOD}' has no attribute 'missing'"),
    ("/nowhere/nets.py:build", "cannot import module 'nets'"),
], ids=["raises", "not-a-module", "unimportable", "no-such-function", "no-such-file"])
def test_a_bad_builder_is_an_error_naming_it(builder, message):
    with pytest.raises(BuilderError) as e:
        build_model({"family": "custom", "builder": builder}, SHAPE, 10)
    assert message in str(e.value)


def test_a_builder_file_that_raises_on_import_is_named_and_can_be_fixed(tmp_path):
    import sys

    nets = tmp_path / "broken_nets.py"
    nets.write_text("from torch import nn\nraise RuntimeError('half-written file')\n")
    with pytest.raises(BuilderError, match=r"broken_nets.py:mlp'.*\(RuntimeError: half-written file\)"):
        build_model({"family": "custom", "builder": f"{nets}:mlp"}, SHAPE, 4)
    assert "hpsearch_user_broken_nets" not in sys.modules  # no half-run module left to be found by name
    nets.write_text("from torch import nn\n"
                    "def mlp(config, in_shape, num_classes):\n"
                    "    return nn.Sequential(nn.Flatten(), nn.Linear(784, num_classes))\n")
    assert build_model({"family": "custom", "builder": f"{nets}:mlp"}, SHAPE, 4)(torch.zeros(1, *SHAPE)).shape == (1, 4)


def test_own_parameters_only_for_a_custom_model_and_only_plain_values():
    with pytest.raises(TrialConfigError, match="width = 3: not a knob the trainable understands"):
        parse_trial_config({"family": "cnn", "width": 3})
    with pytest.raises(TrialConfigError, match="must be a string, number or boolean"):
        parse_trial_config({"family": "custom", "builder": f"{MOD}:tiny_cnn", "width": [3]})
    with pytest.raises(TrialConfigError, match="lr = -1"):  # hpsearch's knobs keep their checks
        parse_trial_config({"family": "custom", "builder": f"{MOD}:tiny_cnn", "lr": -1})
    with pytest.raises(TrialConfigError, match="builder = 'no colon'"):
        parse_trial_config({"family": "custom", "builder": "no colon"})
    with pytest.raises(BuilderError, match="family 'custom' needs a builder"):
        build_model({"family": "custom"}, SHAPE, 10)


def test_trains_checkpoints_and_bundles_like_a_built_in_family(tmp_path):
    x, y = synthetic_images(200, seed=0)
    data = TrialData(x[:160], y[:160], x[160:], y[160:], [str(i) for i in range(10)], (0.2,), (0.3,))
    config = {"family": "custom", "builder": f"{MOD}:tiny_cnn", "width": 6, "lr": 0.01, "batch_size": 32}
    reports = []
    state = run(config, data, TrainSettings(max_epochs=2, num_threads=1), lambda r, s: reports.append(r))
    assert state is not None and [r.epoch for r in reports] == [1, 2] and reports[-1].val_acc > 0.3
    model = trained_model(state.config, SHAPE, 10, state.model)
    save_bundle(tmp_path, model, state.config, data.class_names, SHAPE, Normalisation((0.2,), (0.3,)), {}, {})
    bundle = load_bundle(tmp_path)
    assert bundle.meta["config"]["builder"] == f"{MOD}:tiny_cnn"  # the reference: its module is needed to load
    probe = torch.rand(3, *SHAPE)
    assert torch.equal(bundle.model(probe), model(probe))
