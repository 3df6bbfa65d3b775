"""Contract over every registry entry: each model family, activation, optimizer, loss, schedule and
augmentation builds from the knobs' defaults alone (plus the one key that selects it) and takes one
real training step with a finite loss. Parametrized over the registries, so a new entry is covered."""
from __future__ import annotations

import math

import pytest
import timm
import torch
from safetensors.torch import save_file

from tests.conftest import synthetic_images
from trainables.activations import ACTIVATIONS
from trainables.augment import AUGMENTATIONS
from trainables.data.split import TrialData
from trainables.knobs import AUG_PREFIX, KNOBS
from trainables.loop import Preprocess, TrainSettings, build, l1_penalty
from trainables.losses import LOSSES, compute_loss
from trainables.models import MODELS
from trainables.optimizers import OPTIMIZERS
from trainables.schedules import SCHEDULES, ScheduleLength, step_schedule
from trainables.trial_config import parse_trial_config

SELECTORS = {"family": MODELS, "activation": ACTIVATIONS, "optimizer": OPTIMIZERS, "loss": LOSSES,
             "schedule": SCHEDULES}
SHAPE, CLASSES = (1, 28, 28), 10
# the keys an entry needs besides the one that selects it: a custom model names the user's builder
NEEDS = {("family", "custom"): {"builder": "tests.trainables_tests.custom_builders:tiny_cnn"}}


def _cases() -> list[tuple[str, object]]:
    named = [(key, name) for key, reg in SELECTORS.items() for name in reg.names()]
    # an augmentation is selected by a strength > 0: half its knob's maximum
    augs = [(AUG_PREFIX + name, KNOBS[AUG_PREFIX + name].high / 2) for name in AUGMENTATIONS.names()]
    return named + augs


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny batches: one thread is faster than two fighting over a shared machine's cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> TrainSettings:
    """Offline weights for the default timm backbone, so `family: timm` builds from its defaults as they are
    (pretrained: true) on a machine without network: a random init saved as the 'pretrained' file."""
    backbone = KNOBS["backbone"].default
    path = tmp_path_factory.mktemp("weights") / f"{backbone}.safetensors"
    save_file(timm.create_model(backbone, pretrained=False).state_dict(), str(path))
    return TrainSettings(max_epochs=3, pretrained_weights={backbone: str(path)}, hub_offline=True)


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    x, y = synthetic_images(8, CLASSES, SHAPE, seed=0)
    return torch.from_numpy(x), torch.from_numpy(y)


def test_every_registry_a_knob_selects_from_is_covered() -> None:
    """A new registry-backed knob must be added to SELECTORS (head_activation reuses ACTIVATIONS)."""
    assert {id(k.names) for k in KNOBS.values() if k.names is not None} <= {id(r) for r in SELECTORS.values()}
    assert {AUG_PREFIX + n for n in AUGMENTATIONS.names()} <= set(KNOBS)


@pytest.mark.parametrize("key, value", _cases(), ids=lambda v: str(v))
def test_entry_builds_from_defaults_and_steps(key: str, value: object, settings: TrainSettings) -> None:
    cfg = parse_trial_config({key: value, **NEEDS.get((key, value), {})})
    x, y = _batch()
    data = TrialData(x.numpy(), y.numpy(), x.numpy(), y.numpy(), [str(i) for i in range(CLASSES)], (0.2,), (0.3,))
    torch.manual_seed(0)
    model, pre, opt, sched = build(cfg, data, settings, torch.device("cpu"))
    model.train()
    gen = torch.Generator().manual_seed(0)
    xb = pre(x, dict(cfg.augment), gen)
    assert xb.shape == x.shape and torch.isfinite(xb).all()
    logits = model(xb)
    assert logits.shape == (len(y), CLASSES)
    loss = compute_loss(logits, y, cfg.loss) + cfg.l1 * l1_penalty(model)
    assert math.isfinite(loss.item()), (key, value)
    trained = [p for p in model.parameters() if p.requires_grad]
    before = [p.detach().clone() for p in trained]
    opt.zero_grad()
    loss.backward()
    opt.step()
    step_schedule(sched, loss.item())
    assert any(not torch.equal(p, b) for p, b in zip(trained, before)), "the optimizer step changed nothing"
    assert all(math.isfinite(g["lr"]) and g["lr"] > 0 for g in opt.param_groups)
    _selected_entry_is_in_use(key, value, model, pre, x, opt, sched)


def _selected_entry_is_in_use(key: str, value: object, model: torch.nn.Module, pre: Preprocess,
                              x: torch.Tensor, opt: torch.optim.Optimizer, sched: object) -> None:
    """The one key really selected what it names (not a default standing in for it)."""
    if key == "activation":
        assert any(type(m) is ACTIVATIONS.get(str(value)) for m in model.modules())
    elif key == "optimizer":
        assert type(opt) is type(OPTIMIZERS.get(str(value))([torch.zeros(1, requires_grad=True)],
                                                            parse_trial_config({}).optimizer))
    elif key == "schedule":
        fresh = SCHEDULES.get(str(value))(torch.optim.SGD([torch.zeros(1, requires_grad=True)]),
                                          parse_trial_config({}).schedule, ScheduleLength(3, 1))
        assert type(sched).__name__ == type(fresh).__name__
    elif key.startswith(AUG_PREFIX):
        name = key.removeprefix(AUG_PREFIX)
        plain = pre(x)
        augmented = pre(x, {name: float(value)}, torch.Generator().manual_seed(1))  # type: ignore[arg-type]
        assert not torch.equal(plain, augmented), f"{name} at strength {value} left the batch unchanged"
