"""The `resnet` family: builds for the image shapes our datasets have, trains, and grows with its knobs."""
from __future__ import annotations

import pytest
import torch

from trainables.knobs import knob_for
from trainables.models import MODELS, build_model, count_parameters
from trainables.models.resnet import macs_per_image
from trainables.tta import flip_tta_logits

SMALL = {"family": "resnet", "resnet_width": 4, "resnet_stages": 3, "resnet_blocks": 1}


@pytest.mark.parametrize("in_shape", [(1, 28, 28), (3, 28, 28), (1, 32, 32), (3, 32, 32)])
def test_builds_trains_and_steps_finitely(in_shape: tuple[int, int, int]) -> None:
    torch.manual_seed(0)
    model = build_model({**SMALL, "head_dropout": 0.2, "activation": "silu"}, in_shape, 7)
    x, y = torch.randn(6, *in_shape), torch.arange(6) % 7
    logits = model(x)
    assert logits.shape == (6, 7)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    before = [p.detach().clone() for p in model.parameters()]
    loss = torch.nn.functional.cross_entropy(logits, y)
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    opt.step()
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert torch.isfinite(model(x)).all()


def test_size_grows_with_width_stages_and_blocks() -> None:
    def size(**knobs: int) -> tuple[int, int]:
        m = build_model({**SMALL, **knobs}, (1, 28, 28), 10)
        return count_parameters(m), macs_per_image(m, (1, 28, 28))

    base = size()
    for knobs in ({"resnet_width": 8}, {"resnet_stages": 4}, {"resnet_blocks": 2}):
        params, macs = size(**knobs)
        assert params > base[0] and macs > base[1], knobs
    # doubling the width roughly quadruples the conv weights (the stem and head grow only linearly)
    assert 3 * base[0] < size(resnet_width=8)[0] < 4 * base[0]


def test_too_many_stages_for_the_image_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="6 stages.*at most 5 stages"):
        build_model({**SMALL, "resnet_stages": 6}, (1, 28, 28), 10)


def test_registered_with_validated_knobs() -> None:
    assert "resnet" in MODELS
    assert knob_for("resnet_width").problem(0) is not None
    assert knob_for("resnet_stages").problem(3) is None
    assert knob_for("resnet_blocks").problem(1.5) is not None


def test_flip_tta_is_invariant_to_mirroring_the_input() -> None:
    torch.manual_seed(0)
    model = build_model(SMALL, (1, 28, 28), 10)
    x = torch.randint(0, 256, (5, 1, 28, 28), dtype=torch.uint8)
    pre = torch.nn.Identity()
    a, b = flip_tta_logits(model, pre, x.float()), flip_tta_logits(model, pre, x.flip(3).float())
    assert torch.allclose(a, b, atol=1e-5)
    assert torch.allclose(a.exp().sum(1), torch.ones(5), atol=1e-5)  # log of averaged probabilities
