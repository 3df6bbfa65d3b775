"""Weights from a file reach the model unchanged (and timm's grayscale stem adaptation is applied)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import timm
import torch
from safetensors.torch import save_file
from timm.data import resolve_model_data_config
from timm.models._manipulate import adapt_input_conv

from trainables.models import WeightSources, WeightsUnavailable, build_model

BACKBONES = {"test_resnet.r160_in1k": "conv1.0", "test_efficientnet.r160_in1k": "conv_stem",
             "test_convnext.r160_in1k": "stem.0"}


def _save(name: str, folder: Path, fmt: str) -> tuple[dict[str, torch.Tensor], Path]:
    torch.manual_seed(123)
    sd = {k: v.clone() for k, v in timm.create_model(name, pretrained=False).state_dict().items()}
    path = folder / ("model.safetensors" if fmt == "safetensors" else "model.pth")
    save_file(sd, str(path)) if fmt == "safetensors" else torch.save(sd, path)
    return sd, path


@pytest.mark.parametrize("fmt", ["safetensors", "state_dict"])
@pytest.mark.parametrize("name", list(BACKBONES))
def test_file_weights_load_exactly(name: str, fmt: str, tmp_path: Path) -> None:
    saved, path = _save(name, tmp_path, fmt)
    torch.manual_seed(0)  # a different random init, so equality below can only come from the file
    model = build_model({"family": "timm", "backbone": name, "pretrained": True}, (3, 28, 28), 10,
                        WeightSources({name.split(".")[0]: str(path)}, offline=True))
    loaded = model.backbone.state_dict()
    classifier = model.backbone.pretrained_cfg["classifier"]
    assert set(loaded) == {k for k in saved if not k.startswith(classifier + ".")}
    for k, v in loaded.items():
        assert torch.equal(v, saved[k]), k
    # normalisation is the backbone's pretrained config, never the dataset's or a hard-coded one
    assert model.data_mean == tuple(resolve_model_data_config(model.backbone)["mean"])


@pytest.mark.parametrize("name", list(BACKBONES))
def test_grayscale_stem_is_timm_adaptation(name: str, tmp_path: Path) -> None:
    saved, path = _save(name, tmp_path, "safetensors")
    model = build_model({"family": "timm", "backbone": name, "pretrained": True}, (1, 28, 28), 10,
                        WeightSources({name: str(path)}, offline=True))
    stem = BACKBONES[name] + ".weight"
    loaded = model.backbone.state_dict()
    assert loaded[stem].shape[1] == 1
    assert torch.equal(loaded[stem], adapt_input_conv(1, saved[stem]))
    assert all(torch.equal(v, saved[k]) for k, v in loaded.items() if k != stem)
    # one channel: the RGB stats averaged, as the summed RGB filters assume
    rgb = model.backbone.pretrained_cfg["mean"]
    assert model.data_mean == pytest.approx((sum(rgb) / 3,))
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_state_dict_is_loaded_safely(tmp_path: Path) -> None:
    """A pickle that needs arbitrary globals is refused (torch.load(weights_only=True)), not executed."""
    name = "test_resnet.r160_in1k"
    sd = timm.create_model(name, pretrained=False).state_dict()
    path = tmp_path / "evil.pth"
    torch.save({**sd, "payload": Path("/tmp")}, path)  # a non-tensor object that needs an unsafe global
    with pytest.raises(Exception, match="weights_only|Weights only|WeightsUnpickler"):
        build_model({"family": "timm", "backbone": name, "pretrained": True}, (1, 28, 28), 10,
                    WeightSources({name: str(path)}, offline=True))


def test_missing_weights_fail_fast_with_one_clear_message() -> None:
    name = "test_vit.r160_in1k"
    t0 = time.perf_counter()
    with pytest.raises(WeightsUnavailable) as info:
        build_model({"family": "timm", "backbone": name, "pretrained": True}, (1, 28, 28), 10,
                    WeightSources({}, offline=True))
    assert time.perf_counter() - t0 < 10
    msg = str(info.value)
    for part in (repr(name), "pretrained_weights", "Hugging Face cache", "HF_HUB_OFFLINE",
                 f"pretrained_weights: {{{name}: /path/to/model.safetensors}}"):
        assert part in msg


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(WeightsUnavailable, match="does not exist"):
        build_model({"family": "timm", "backbone": "test_resnet", "pretrained": True}, (1, 28, 28), 10,
                    WeightSources({"test_resnet": str(tmp_path / "gone.safetensors")}, offline=True))
