"""Experiment files are validated before anything starts; each error names field, value, what is allowed."""
from __future__ import annotations

import pytest
import yaml

from search.cli import main
from search.config import ConfigError, load_config, parse_config

GOOD = {"name": "ok", "space": "lenet5", "budget": {"num_samples": 3, "max_epochs": 2}}


def bad(**changes):
    cfg = yaml.safe_load(yaml.safe_dump(GOOD))
    for dotted, value in changes.items():
        node = cfg
        *parents, last = dotted.split("__")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return cfg


CASES = [
    (bad(colour="red"), "colour", "unknown key; allowed here"),
    (bad(budget__epochs=3), "budget.epochs", "unknown key; allowed here: ['num_samples', 'max_epochs'"),
    (bad(budget__num_samples="many"), "budget.num_samples = 'many'", "an int >= 1"),
    (bad(budget__num_samples=0), "budget.num_samples = 0", "an int >= 1"),
    (bad(budget__num_samples=2.5), "budget.num_samples = 2.5", "an int >= 1"),
    (bad(budget__max_epochs=True), "budget.max_epochs = True", "an int >= 1"),
    (bad(budget__grace_period=5), "budget.grace_period = 5", "must be <= budget.max_epochs (2)"),
    (bad(budget__reduction_factor=1), "budget.reduction_factor = 1", "a number > 1"),
    (bad(budget__final_share=1), "budget.final_share = 1", "a number > 0 and < 1"),
    (bad(budget__time_budget_s=-5), "budget.time_budget_s = -5", "seconds > 0"),
    (bad(dataset__name="imagenet"), "dataset.name = 'imagenet'",
     "one of ['arrays', 'cifar10', 'cifar100', 'cifar10_gray', 'csv_manifest', 'custom', 'fashion_mnist'"),
    (bad(dataset__val_fraction=1.5), "dataset.val_fraction = 1.5", "a fraction in (0, 0.9]"),
    (bad(search__metric="accuracy"), "search.metric = 'accuracy'", "one of ["),
    (bad(search__metric="val_loss", search__mode="max"), "search.mode = 'max'", "'min' for metric val_loss"),
    (bad(search__mode="up"), "search.mode = 'up'", "max, min, or null"),
    (bad(search__prior_margin=-0.5), "search.prior_margin = -0.5", "points >= 0"),
    (bad(search__sampler="grid"), "search.sampler = 'grid'", "or random (uniform, seeded)"),
    (bad(resources__gpus_per_trial=-1), "resources.gpus_per_trial = -1", "a number in [0, 1]"),
    (bad(resources__cpus_per_trial=0), "resources.cpus_per_trial = 0", "a number > 0"),
    (bad(name="my experiment!"), "name = 'my experiment!'", "letters, digits"),
    (bad(address="somewhere"), "address = 'somewhere'", "'auto', HOST:PORT or ray://HOST:10001"),
    (bad(budget=[1, 2]), "budget = [1, 2]", "a mapping with keys"),
    (bad(dataset__train_subset=5), "dataset.train_subset = 5", "an int >= 20"),
    (bad(budget__max_epoch_seconds="fast"), "budget.max_epoch_seconds = 'fast'", "seconds > 0"),
    (bad(budget__max_epoch_seconds=0), "budget.max_epoch_seconds = 0", "'auto'"),
]


@pytest.mark.parametrize("raw, where, allowed", CASES, ids=[c[1].split(" ")[0] + str(i) for i, c in enumerate(CASES)])
def test_bad_field_is_named_with_value_and_allowed(raw, where, allowed):
    with pytest.raises(ConfigError) as e:
        parse_config(raw, "exp.yaml")
    msg = str(e.value)
    assert msg.startswith("exp.yaml: "), msg
    assert where in msg, msg
    assert allowed in msg, msg


def test_good_config_gets_defaults():
    cfg = parse_config(GOOD, "exp.yaml")
    assert cfg.budget.num_samples == 3 and cfg.budget.grace_period == 1
    assert cfg.search.metric == "val_acc" and cfg.mode == "max"
    assert parse_config(bad(search__metric="val_loss")).mode == "min"


def test_epoch_time_limit_auto_follows_the_time_budget():
    budget = {**GOOD["budget"], "grace_period": 2}
    assert parse_config({**GOOD, "budget": budget}).budget.epoch_time_limit() is None  # no time budget: no limit
    timed = parse_config({**GOOD, "budget": {**budget, "time_budget_s": 600}}).budget
    assert timed.max_epoch_seconds == "auto" and timed.epoch_time_limit() == 75.0  # 600 / 4 / 2
    assert parse_config({**GOOD, "budget": {**budget, "time_budget_s": 600, "max_epoch_seconds": None}}) \
        .budget.epoch_time_limit() is None
    assert parse_config({**GOOD, "budget": {**budget, "max_epoch_seconds": 30}}).budget.epoch_time_limit() == 30


def test_set_overrides_any_field_with_yaml_values():
    cfg = parse_config(GOOD, "exp.yaml", ["budget.num_samples=12", "dataset.train_subset=500",
                                          "resources.gpus_per_trial=0.25", "budget.time_budget_s=null"])
    assert cfg.budget.num_samples == 12 and cfg.dataset.train_subset == 500
    assert cfg.resources.gpus_per_trial == 0.25 and cfg.budget.time_budget_s is None


def test_set_is_validated_too():
    with pytest.raises(ConfigError, match=r"budget.max_epochs = -1: an int >= 1"):
        parse_config(GOOD, "exp.yaml", ["budget.max_epochs=-1"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_config(GOOD, "exp.yaml", ["budget.max_epochs"])


def test_duplicate_key_in_file(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("name: a\nbudget:\n  num_samples: 2\n  num_samples: 3\n")
    with pytest.raises(ConfigError, match="num_samples = <missing>: appears twice"):
        load_config(path)


def _run_cli(args, capsys):
    code = main(args)
    return code, capsys.readouterr()


@pytest.mark.parametrize("setting, message", [
    ("budget.grace_period=7", "budget.grace_period = 7: must be <= budget.max_epochs (2)"),
    ("space=no_such_preset", "is neither a preset"),
    ("dataset.name=imagenet", "dataset.name = 'imagenet'"),
])
def test_cli_exits_2_and_writes_nothing(tmp_path, make_experiment, capsys, setting, message):
    exp = make_experiment("never")
    code, out = _run_cli(["run", str(exp), "--set", setting], capsys)
    assert code == 2
    assert message in out.err and "Traceback" not in out.err
    assert not (tmp_path / "results").exists(), "nothing may be written for a bad config"


def test_space_with_negative_lr_is_rejected_before_launch(tmp_path, make_experiment, capsys):
    space = tmp_path / "neg_space.yaml"
    space.write_text("params:\n  family: {type: const, value: mlp}\n  lr: {type: float, low: -0.1, high: 0.1}\n")
    exp = make_experiment("neg", space=str(space))
    code, out = _run_cli(["run", str(exp)], capsys)
    assert code == 2
    assert f"{space}: params.lr: -0.1 is outside the allowed range (0, inf]" in out.err
    assert not (tmp_path / "results").exists()
