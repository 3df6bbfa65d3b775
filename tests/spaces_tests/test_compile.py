"""Compiled define-by-run: a conditional parameter is sampled exactly when its condition holds."""
from __future__ import annotations

import optuna
import pytest

from spaces import Constant, define_by_run, get_preset, list_presets, parse_space

optuna.logging.set_verbosity(optuna.logging.WARNING)


def sample(space, n: int, sampler: optuna.samplers.BaseSampler):
    fn = define_by_run(space, seed_key="seed", seed_base=1000)
    study = optuna.create_study(sampler=sampler, direction="maximize")
    configs = []
    for _ in range(n):
        trial = study.ask()
        consts = fn(trial)
        configs.append((trial, {**trial.params, **consts}))
        study.tell(trial, float(len(trial.params)))
    return configs


def expected_present(space, config):
    """Independent re-derivation: walk params in order, keep those whose conditions hold."""
    present = {}
    for p in space.params:
        ok = all((present.get(c.param) >= c.at_least) if c.at_least is not None and c.param in present
                 else (c.param in present and present[c.param] in c.values) for c in p.conditions)
        if ok:
            present[p.name] = config.get(p.name, getattr(p, "value", None))
    return set(present)


@pytest.mark.parametrize("preset", ["full", "cnn", "mlp"])
@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_conditional_parameters_exist_exactly_when_conditions_hold(preset, sampler):
    space = get_preset(preset)
    s = optuna.samplers.RandomSampler(seed=1) if sampler == "random" else \
        optuna.samplers.TPESampler(seed=1, n_startup_trials=10, multivariate=True, group=True)
    for trial, config in sample(space, 150, s):
        keys = set(config) - {"seed"}
        assert keys == expected_present(space, config), config
        # Optuna's record is exactly the sampled (non-constant) part of the config
        assert trial.params == {k: v for k, v in config.items()
                                if k != "seed" and not isinstance(space.param(k), Constant)}
        if "momentum" in config:
            assert config["optimizer"] in ("sgd", "rmsprop")
        elif "optimizer" in config:
            assert config["optimizer"] not in ("sgd", "rmsprop")
        if space.name == "full":
            fam = config["family"]
            assert ("conv_blocks" in config) == (fam == "cnn")
            assert ("mlp_layers" in config) == (fam == "mlp")
            for i in range(1, 5):
                assert (f"filters_{i}" in config) == (fam == "cnn" and config["conv_blocks"] >= i)
            for i in range(1, 4):
                assert (f"mlp_units_{i}" in config) == (fam == "mlp" and config["mlp_layers"] >= i)
        assert config["seed"] == 1000 + trial.number


def test_all_presets_cover_their_branches():
    space = get_preset("full")
    families = {c["family"] for _, c in sample(space, 60, optuna.samplers.RandomSampler(seed=0))}
    assert families == {"mlp", "lenet5", "cnn"} | ({"timm"} & families)


def test_constants_and_steps():
    space = parse_space({"params": {
        "family": {"type": "const", "value": "mlp"},
        "units": {"type": "int", "low": 32, "high": 256, "step": 32},
        "p": {"type": "float", "low": 0.0, "high": 0.5, "step": 0.1},
    }})
    for _, c in sample(space, 40, optuna.samplers.RandomSampler(seed=2)):
        assert c["family"] == "mlp" and c["units"] % 32 == 0
        assert abs(c["p"] * 10 - round(c["p"] * 10)) < 1e-9


def test_presets_listed():
    assert {"mlp", "lenet5", "cnn", "full"} <= set(list_presets())
