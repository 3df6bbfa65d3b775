"""Micro-batches with gradient accumulation, bf16 autocast, channels_last and the GPU memory fit.

The GPU-only parts (peak-memory profiling, per-process memory cap) run only where CUDA is present;
everything else runs here on the CPU with real PyTorch.
"""
from __future__ import annotations

import math

import pytest
import torch

from search.config import ConfigError, parse_config
from search.launch import settings_for
from tests.conftest import synthetic_images
from trainables.data import ImageData, make_trial_data
from trainables.device_speed import StepOptions, cpu_has_amx, use_bf16, use_channels_last
from trainables.loop import TrainSettings, build, run, to_device_uint8, train_one_epoch
from trainables.memory_fit import DoesNotFit, choose_micro_batch, dataset_fits
from trainables.trial_config import parse_trial_config

LENET = {"family": "lenet5", "activation": "relu", "optimizer": "sgd", "lr": 0.05, "momentum": 0.9,
         "batch_size": 64, "dense_dropout": 0.0, "pool": "max"}
CNN = {"family": "cnn", "conv_blocks": 2, "filters_1": 8, "filters_2": 16, "convs_per_block": 1, "kernel_size": 3,
       "batch_norm": True, "block_dropout_1": 0.0, "block_dropout_2": 0.0, "dense_layers": 1, "dense_units": 32,
       "dense_dropout": 0.0, "activation": "relu", "optimizer": "adam", "lr": 1e-3, "batch_size": 64}


@pytest.fixture(scope="module")
def data():
    x, y = synthetic_images(600, 10, (1, 28, 28), seed=1)
    return make_trial_data(ImageData("synthetic", x, y, [str(i) for i in range(10)]), 0.2, seed=0)


def one_epoch(config, data, opts: StepOptions):
    """Model and epoch summary after one epoch; the summary also counts forward passes and optimizer steps."""
    torch.manual_seed(0)
    cfg = parse_trial_config(config)
    model, pre, opt, _ = build(cfg, data, TrainSettings(max_epochs=1), torch.device("cpu"))
    x, y = to_device_uint8(data.x_train, torch.device("cpu")), torch.from_numpy(data.y_train)
    counts = {"forwards": 0, "steps": 0}
    model.register_forward_hook(lambda *_: counts.__setitem__("forwards", counts["forwards"] + 1))
    opt.register_step_post_hook(lambda *_: counts.__setitem__("steps", counts["steps"] + 1))
    out = train_one_epoch(model, pre, opt, x, y, cfg, torch.Generator().manual_seed(0), None, opts=opts)
    return model, {**out, **counts}


def test_micro_batches_give_the_same_training_as_whole_batches(data) -> None:
    """Same effective batch: a model without batch norm or dropout ends the epoch with the same weights."""
    whole, a = one_epoch(LENET, data, StepOptions())
    split, b = one_epoch(LENET, data, StepOptions(micro_batch=16))
    batches = math.ceil(len(data.y_train) / 64)
    assert a["seen"] == b["seen"] == len(data.y_train)
    assert (a["steps"], b["steps"]) == (batches, batches)            # one optimizer step per batch either way
    assert a["forwards"] == batches and b["forwards"] > 3 * batches   # but 4 forward passes per batch when split
    assert math.isclose(a["train_loss"], b["train_loss"], rel_tol=1e-4)
    assert a["train_acc"] == b["train_acc"]
    for p, q in zip(whole.parameters(), split.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)
    assert one_epoch(LENET, data, StepOptions(micro_batch=64))[1]["forwards"] == batches  # micro = batch: no split


def test_micro_batches_that_do_not_divide_the_batch(data) -> None:
    """60 images in micro-batches of 16: chunks of 15, every image used once, one step per batch."""
    _, out = one_epoch({**CNN, "batch_size": 60}, data, StepOptions(micro_batch=16))
    assert out["seen"] == len(data.y_train) and math.isfinite(out["train_loss"]) and not out["diverged"]


def test_bf16_and_channels_last_train_on_the_cpu_when_asked(data, monkeypatch) -> None:
    seen: list[tuple[torch.dtype, bool]] = []  # (conv output dtype, conv weight in channels_last) per training pass
    results: list[dict] = []
    import trainables.loop as loop

    def watched_build(*args, **kwargs):  # the real build, with a hook on the first convolution
        model, pre, opt, sched = build(*args, **kwargs)
        conv = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1]  # 8 -> 16 channels: formats differ
        conv.register_forward_hook(lambda m, i, o: seen.append(
            (o.dtype, m.weight.is_contiguous(memory_format=torch.channels_last))) if m.training else None)
        return model, pre, opt, sched

    monkeypatch.setattr(loop, "build", watched_build)
    settings = TrainSettings(max_epochs=1, precision="bf16", channels_last=True, micro_batch=32, num_threads=1)
    run(CNN, data, settings, lambda r, state: results.append(r.metrics()))
    assert results and math.isfinite(results[0]["val_loss"]) and results[0]["micro_batch"] == 32
    assert seen and set(seen) == {(torch.bfloat16, True)}  # bf16 autocast, channels_last weights


def test_auto_turns_bf16_and_channels_last_on_only_where_they_are_native() -> None:
    model = build(parse_trial_config(CNN), make_trial_data(ImageData("s", *synthetic_images(40, 10, (1, 28, 28), seed=0),
                                                 [str(i) for i in range(10)]), 0.25, 0),
                  TrainSettings(max_epochs=1), torch.device("cpu"))[0]
    cpu, amx = torch.device("cpu"), cpu_has_amx()
    assert use_bf16("auto", cpu) == amx and use_bf16("bf16", cpu) and not use_bf16("fp32", cpu)
    assert use_channels_last(None, model, cpu) == amx and use_channels_last(True, model, cpu)
    mlp = build(parse_trial_config({"family": "mlp", "mlp_layers": 1, "mlp_units_1": 16}), make_trial_data(
        ImageData("s", *synthetic_images(40, 10, (1, 28, 28), seed=0), [str(i) for i in range(10)]), 0.25, 0),
        TrainSettings(max_epochs=1), cpu)[0]
    assert not use_channels_last(None, mlp, cpu)  # no convolutions: nothing to reorder
    with pytest.raises(ValueError, match="fp16"):
        use_bf16("fp16", cpu)


def test_images_stay_on_a_cpu_trials_device_whatever_their_size() -> None:
    assert dataset_fits(torch.device("cpu"), 10**15, None)


def test_choose_micro_batch_halves_until_the_measured_peak_fits() -> None:
    per_image, fixed = 10.0, 100.0
    peak = lambda n: fixed + per_image * n  # noqa: E731 - a memory model: bytes grow with the batch
    assert choose_micro_batch(256, peak, budget_bytes=10_000) is None          # 2,660 fits
    assert choose_micro_batch(256, peak, budget_bytes=800) == 64                 # 2,660, 1,380, 740
    with pytest.raises(DoesNotFit, match=r"budget of .* GiB even in micro-batches of 4 .*gpus_per_trial"):
        choose_micro_batch(256, peak, budget_bytes=120)

    def out_of_memory_above_32(n: int) -> float:
        if n > 32:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return fixed + per_image * n

    assert choose_micro_batch(128, out_of_memory_above_32, budget_bytes=1_000) == 32


def test_device_options_flow_from_config_to_trial_settings() -> None:
    s = settings_for(parse_config({"resources": {"gpus_per_trial": 0.25, "precision": "fp32", "micro_batch": 16,
                                                 "channels_last": False}}))
    assert (s.gpu_fraction, s.precision, s.micro_batch, s.channels_last, s.memory_fit) == (0.25, "fp32", 16, False, True)
    assert settings_for(parse_config({"resources": {"gpus_per_trial": 1}})).gpu_fraction is None
    with pytest.raises(ConfigError, match=r"resources.precision = 'fp16': 'auto' .* 'fp32' or 'bf16'"):
        parse_config({"resources": {"precision": "fp16"}})
    with pytest.raises(ConfigError, match=r"resources.micro_batch = 1: an int >= 2"):
        parse_config({"resources": {"micro_batch": 1}})


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_memory_fit_splits_or_refuses_on_a_real_gpu(data) -> None:  # pragma: no cover - GPU machines only
    from trainables.memory_fit import cuda_step_peak

    device = torch.device("cuda")
    model, pre, opt, _ = build(parse_trial_config({**CNN, "batch_size": 256}), data, TrainSettings(max_epochs=1), device)
    x, y = to_device_uint8(data.x_train, device), torch.from_numpy(data.y_train).to(device)
    before = [b.clone() for b in model.buffers()]
    peak = cuda_step_peak(model, pre, x, y, parse_trial_config(CNN).loss, StepOptions())
    full, quarter = peak(256), peak(64)
    assert quarter < full
    assert all(torch.equal(a, b) for a, b in zip(before, model.buffers()))  # profiling left BN statistics alone
    assert choose_micro_batch(256, peak, budget_bytes=(full + quarter) / 2) in (64, 128)
    with pytest.raises(DoesNotFit):
        choose_micro_batch(256, peak, budget_bytes=1)
    assert dataset_fits(device, 10**6, 0.25) and not dataset_fits(device, 10**13, 0.25)
    results: list[dict] = []  # a whole trial on the GPU, with the memory fit on
    run({**CNN, "batch_size": 256}, data, TrainSettings(max_epochs=1), lambda m, s: results.append(m.metrics()))
    assert results and math.isfinite(results[0]["val_loss"]) and results[0]["micro_batch"] == 256
