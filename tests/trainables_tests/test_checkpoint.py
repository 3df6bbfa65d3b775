"""A checkpoint (`TrialState`) round-trips every field, and resuming from it continues a trial exactly:
the CPU and the GPU random streams included (the GPU case runs where a GPU is present)."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from tests.conftest import synthetic_images
from trainables.checkpoint import RngState, TrialState, load_state, save_state
from trainables.data import ImageData, make_trial_data
from trainables.loop import TrainSettings, run

# dropout makes the result depend on the random stream of the device the model computes on
MLP = {"family": "mlp", "mlp_layers": 1, "mlp_units_1": 32, "mlp_dropout_1": 0.5, "lr": 1e-2, "batch_size": 32,
       "aug_hflip": 0.5, "seed": 4}
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"))]


def _data():
    x, y = synthetic_images(240, shape=(1, 12, 12), seed=3)
    return make_trial_data(ImageData("synthetic", x, y, [str(i) for i in range(10)]), 0.25, seed=0)


def _states(device: str, epochs: int, start: TrialState | None = None) -> list[TrialState]:
    out: list[TrialState] = []
    # a state holds live tensors (the Ray adapter saves it at once); copy it as a checkpoint would
    run(MLP, _data(), TrainSettings(max_epochs=epochs, device=device, num_threads=1),
        lambda _r, s: out.append(copy.deepcopy(s)), start)
    return out


def test_state_round_trips_with_gpu_random_states(tmp_path: Path) -> None:
    state = _states("cpu", 1)[0]
    assert state.preprocess is not None and state.rng.cuda == []  # CUDA unused: nothing to keep
    # as a GPU machine writes it: one generator state per visible GPU
    state.rng.cuda = [torch.randint(0, 256, (16,), dtype=torch.uint8) for _ in range(2)]
    save_state(state, tmp_path)
    back = load_state(tmp_path)
    assert back is not None
    assert (back.config, back.epoch, back.best_val_loss, back.bad_epochs, back.preprocess) == \
           (state.config, state.epoch, state.best_val_loss, state.bad_epochs, state.preprocess)
    assert all(torch.equal(back.model[k], v) for k, v in state.model.items())
    assert back.schedule == state.schedule and back.optimizer["param_groups"] == state.optimizer["param_groups"]
    for a, b in zip([back.rng.generator, back.rng.cpu, *back.rng.cuda],
                    [state.rng.generator, state.rng.cpu, *state.rng.cuda]):
        assert torch.equal(a, b)


def test_restore_puts_cpu_streams_back_and_handles_gpu_states_without_gpus(caplog) -> None:
    gen = torch.Generator().manual_seed(1)
    saved = RngState.capture(gen)
    expected = (torch.rand(3, generator=gen), torch.rand(3))
    gen.manual_seed(99)
    torch.manual_seed(99)
    # GPU states from a machine with more GPUs than this one: the CPU streams are restored all the same
    visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
    cuda = [torch.cuda.get_rng_state(i) for i in range(visible)] + [torch.cuda.get_rng_state(0) if visible
                                                                    else torch.zeros(16, dtype=torch.uint8)]
    RngState(saved.generator, saved.cpu, cuda).restore(gen)
    assert torch.equal(torch.rand(3, generator=gen), expected[0]) and torch.equal(torch.rand(3), expected[1])
    assert "GPU random states" in caplog.text


@pytest.mark.parametrize("device", DEVICES)
def test_resume_continues_exactly(device: str) -> None:
    """Epoch 2 after a resume from epoch 1's checkpoint equals epoch 2 of an uninterrupted run."""
    straight = _states(device, 2)
    first = _states(device, 1)[0]
    if device == "cuda":  # the GPU stream (dropout there) is in the checkpoint
        assert len(first.rng.cuda) == torch.cuda.device_count()
    resumed = _states(device, 2, start=first)
    assert [s.epoch for s in resumed] == [2]
    for k, v in straight[-1].model.items():
        assert torch.equal(resumed[0].model[k], v), k


def test_checkpoint_written_before_preprocessing_was_stored_still_loads(tmp_path: Path) -> None:
    old = _states("cpu", 1)[0].to_dict()
    del old["preprocess"], old["rng"]["cuda"]  # the layout hpsearch wrote before
    torch.save(old, tmp_path / "state.pt")
    back = load_state(tmp_path)
    assert back is not None and back.preprocess is None and back.rng.cuda == [] and back.epoch == 1
