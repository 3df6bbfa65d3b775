"""The training loop, free of Ray: `run(config, data, settings, report)` trains one configuration.

    trial = setup(...)                  model, optimizer, schedule, data on the device, restored state
    while epochs remain:
        report(one_epoch(trial), trial.state())   train, evaluate, decide whether to stop

Batches are sliced from uint8 tensors held on the device; augmentation is batched on tensors.
"""
from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from . import metrics as M
from .checkpoint import RngState, TrialState
from .constraints import Constraint, violated
from .cost import inference_ms
from .data import TrialData
from .device_speed import StepOptions, autocast, prepare_device, to_memory_format, use_bf16, use_channels_last
from .losses import compute_loss
from .memory_fit import choose_micro_batch, cuda_step_peak, dataset_fits, gpu_budget_bytes
from .metrics import EpochReport, StopReason
from .models import WeightSources, build_model, count_parameters
from .models.builders import use_code_paths
from .models.pretrained import env_offline
from .optimizers import make_optimizer
from .preprocess import Normalisation, Preprocess, normalisation_for
from .schedules import make_schedule, part_images, resize_schedule, step_schedule, steps_per_epoch, training_steps
from .trial_config import TrialConfig, parse_trial_config
from .tta import flip_tta_logits, use_flip_tta

# (this epoch's report, the state to checkpoint; None when nothing is worth keeping) -> None
Report = Callable[[EpochReport, "TrialState | None"], None]
# (the epoch just trained, the epochs training is meant to have) -> the epochs it should have in all; a
# fractional length ends with a partial pass (a final training fitted to a deadline)
Length = Callable[[EpochReport, float], float]


@runtime_checkable
class _EpochAware(Protocol):
    """A model that changes between epochs (e.g. a timm backbone frozen for its first warm-up epochs)."""

    def begin_epoch(self, epoch: int) -> None: ...


@runtime_checkable
class _GroupsParams(Protocol):
    """A model that puts its parameters in optimizer groups of its own (e.g. a lower backbone lr)."""

    def param_groups(self, lr: float) -> list[dict[str, Any]]: ...


@dataclass
class TrainSettings:
    """Experiment-level settings a trial needs besides its sampled config."""

    max_epochs: int
    seed: int = 0
    device: str | None = None          # None: cuda when visible, else cpu
    eval_batch_size: int = 1024
    num_threads: int | None = None     # CPU threads for this trial (defaults to its CPU share)
    class_weights: bool = False        # weight the loss by inverse class frequency
    sampling: str = "uniform"          # "balanced": draw every class equally often (with replacement)
    pretrained_weights: dict[str, str] = field(default_factory=dict)  # backbone name -> weights file
    hub_offline: bool = False          # never contact the Hugging Face hub for pretrained weights
    precision: str = "auto"            # "auto" (bf16 autocast on a GPU that supports it), "fp32", "bf16"
    channels_last: bool | None = None  # None: on for convolutional models on a GPU
    cudnn_benchmark: bool = True
    micro_batch: int | None = None     # force gradient accumulation over micro-batches of this size
    memory_fit: bool = True            # GPU: profile one step and shrink to micro-batches that fit
    gpu_fraction: float | None = None  # this trial's share of its GPU (gpus_per_trial < 1)
    max_epoch_seconds: float | None = None  # stop a fresh trial whose first epoch is projected to take longer
    schedule_epochs: int | None = None  # the planned training length the lr schedule spans; None: max_epochs
    tta: bool | None = None            # flip test-time augmentation at evaluation; None: when trained with aug_hflip
    # folders of the user's own code (a custom model), put on the import path where they exist: a node
    # that shares the driver's files needs no runtime_env (e.g. a Ray started before the search)
    code_paths: tuple[str, ...] = ()
    constraints: tuple[Constraint, ...] = ()  # search.constraints: a trial that breaks one ends as infeasible

    def planned_epochs(self) -> int:
        """The training length a trial's schedule spans."""
        return self.schedule_epochs or self.max_epochs

    def weight_sources(self) -> WeightSources:
        return WeightSources(dict(self.pretrained_weights), self.hub_offline or env_offline())


def pick_device(preferred: str | None = None) -> torch.device:
    return torch.device(preferred or ("cuda" if torch.cuda.is_available() else "cpu"))


def to_device_uint8(x: np.ndarray, device: torch.device) -> torch.Tensor:
    with warnings.catch_warnings():  # arrays from Ray's object store are read-only; we never write them
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(x).to(device)


def class_weight_tensor(y: np.ndarray, num_classes: int) -> torch.Tensor:
    counts = np.bincount(y, minlength=num_classes).astype(np.float64)
    w = counts.sum() / np.maximum(counts, 1) / num_classes
    return torch.tensor(w, dtype=torch.float32)


def balanced_sample_weights(y: np.ndarray, num_classes: int) -> torch.Tensor:
    """Per-image draw weights that make every present class equally likely."""
    counts = np.bincount(y, minlength=num_classes).astype(np.float64)
    return torch.tensor(1.0 / counts[y], dtype=torch.float64)


def l1_penalty(model: nn.Module) -> torch.Tensor:
    return sum(p.abs().sum() for p in model.parameters() if p.dim() > 1 and p.requires_grad)  # type: ignore[return-value]


def draw_order(n: int, gen: torch.Generator, sample_weights: torch.Tensor | None) -> torch.Tensor:
    """This epoch's image indices: a shuffle of all n, or n draws by `sample_weights` (with replacement)."""
    if sample_weights is None:
        return torch.randperm(n, generator=gen)
    return torch.multinomial(sample_weights, n, replacement=True, generator=gen)


def train_step(model: nn.Module, pre: Preprocess, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
               idx: torch.Tensor, config: TrialConfig, gen: torch.Generator, class_weights: torch.Tensor | None,
               opts: StepOptions) -> tuple[float, int] | None:
    """One optimizer step on the batch `idx`: (mean loss, correct predictions), or None if the loss is not finite.

    With `opts.micro_batch`, the batch is split into chunks whose gradients are accumulated before the
    one optimizer step, so the effective batch is unchanged (batch norm sees the chunks' statistics).
    """
    l1, strengths = config.l1, dict(config.augment)
    micro = opts.micro_batch
    chunks = idx.tensor_split(math.ceil(len(idx) / micro)) if micro and micro < len(idx) else (idx,)
    opt.zero_grad(set_to_none=True)
    batch_loss, correct = 0.0, 0
    for part in chunks:
        # y lives where the model computes; x may stay on the CPU when it does not fit the GPU
        xb, yb = to_memory_format(pre(x[part], strengths, gen), opts.channels_last), y[part.to(y.device)]
        with autocast(x.device, opts.bf16):
            logits = model(xb)
        loss = compute_loss(logits.float(), yb, config.loss, class_weights)
        if l1 > 0:
            loss = loss + l1 * l1_penalty(model)
        if not torch.isfinite(loss):
            return None
        share = len(part) / len(idx)
        (loss * share if len(chunks) > 1 else loss).backward()
        batch_loss += float(loss.detach()) * share
        correct += int((logits.detach().argmax(1) == yb).sum())
    opt.step()
    return batch_loss, correct


def train_one_epoch(model: nn.Module, pre: Preprocess, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                    config: TrialConfig, gen: torch.Generator, class_weights: torch.Tensor | None,
                    sample_weights: torch.Tensor | None = None, opts: StepOptions = StepOptions(),
                    time_limit: float | None = None, fraction: float = 1.0) -> dict[str, float]:
    """One pass over shuffled (x, y), or len(y) draws by `sample_weights`. Stops at the first non-finite loss.

    With `time_limit` (seconds), the pass stops as soon as its projected length exceeds the limit, and
    the result holds that projection under PROJECTED_EPOCH_SECONDS. `fraction` < 1 trains only that
    share of the pass (the first images of its shuffled order).
    """
    model.train()
    bs = config.batch_size
    order = draw_order(len(y), gen, sample_weights)
    order = order[:part_images(fraction, len(order))].to(x.device)
    total_loss, correct, seen, diverged, too_slow = 0.0, 0, 0, False, 0.0
    t0 = time.perf_counter()
    for i in range(0, len(order), bs):
        idx = order[i:i + bs]
        if len(idx) < 2:  # batch norm cannot train on a single sample
            continue
        step = train_step(model, pre, opt, x, y, idx, config, gen, class_weights, opts)
        if step is None:
            diverged = True
            break
        total_loss, correct, seen = total_loss + step[0] * len(idx), correct + step[1], seen + len(idx)
        if time_limit is not None:
            projected = projected_seconds(time.perf_counter() - t0, seen, len(order))
            if projected > time_limit:
                too_slow = projected
                break
    out = {M.TRAIN_LOSS: total_loss / max(seen, 1) if not diverged else math.nan,
           M.TRAIN_ACC: correct / max(seen, 1), "seen": seen, M.DIVERGED: int(diverged)}
    if too_slow:
        out[M.PROJECTED_EPOCH_SECONDS] = too_slow
    return out


def projected_seconds(elapsed: float, seen: int, total: int, min_elapsed: float = 2.0) -> float:
    """The whole pass's projected length from its first `seen` of `total` images; 0 until `min_elapsed`
    seconds have passed (the first batches include one-off start-up costs)."""
    if elapsed < min_elapsed and seen < total:
        return 0.0
    return elapsed / max(seen, 1) * total


@torch.no_grad()
def predict_logits(model: nn.Module, pre: Preprocess, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Logits for every image of x (uint8 on the model's device), in order."""
    model.eval()
    return torch.cat([model(pre(x[i:i + batch_size])).float() for i in range(0, len(x), batch_size)])


@torch.no_grad()
def evaluate(model: nn.Module, pre: Preprocess, x: torch.Tensor, y: torch.Tensor, config: TrialConfig,
             num_classes: int, batch_size: int = 1024, tta: bool = False) -> dict[str, float]:
    """Validation loss (the trial's own loss function), accuracy and macro F1; `tta`: with flip TTA."""
    logits = flip_tta_logits(model, pre, x, batch_size) if tta else predict_logits(model, pre, x, batch_size)
    loss = float(compute_loss(logits, y, config.loss))
    preds = logits.argmax(1)
    conf = M.confusion_matrix(preds.cpu(), y.cpu(), num_classes)
    return {M.VAL_LOSS: loss, M.VAL_ACC: float((preds == y).float().mean()), M.VAL_F1: M.f1_macro(conf)}


def build(config: TrialConfig, data: TrialData, settings: TrainSettings,
          device: torch.device) -> tuple[nn.Module, Preprocess, torch.optim.Optimizer, Any]:
    """Model, preprocessing (decided here, once: see `normalisation_for`), optimizer and schedule."""
    model = build_model(config, data.in_shape, data.num_classes, settings.weight_sources()).to(device)
    pre = normalisation_for(model, data.mean, data.std).module().to(device)
    params = model.param_groups(config.optimizer.lr) if isinstance(model, _GroupsParams) else model.parameters()
    opt = make_optimizer(params, config.optimizer)
    per_epoch = steps_per_epoch(len(data.y_train), config.batch_size)
    sched = make_schedule(opt, config.schedule, settings.planned_epochs() * per_epoch, per_epoch)
    return model, pre, opt, sched


@dataclass
class DeviceData:
    """A trial's images (uint8) and labels where it computes, and how it weighs and draws them."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    class_weights: torch.Tensor | None   # loss weight per class (TrainSettings.class_weights)
    draws: torch.Tensor | None           # draw weight per image (TrainSettings.sampling == "balanced")


def to_device(data: TrialData, settings: TrainSettings, device: torch.device) -> DeviceData:
    # images resident on the GPU when they fit the trial's share, else sliced on the CPU and sent per batch
    on_gpu = dataset_fits(device, data.x_train.nbytes + data.x_val.nbytes, settings.gpu_fraction)
    images = device if on_gpu else torch.device("cpu")
    weights = class_weight_tensor(data.y_train, data.num_classes).to(device) if settings.class_weights else None
    draws = balanced_sample_weights(data.y_train, data.num_classes) if settings.sampling == "balanced" else None
    return DeviceData(to_device_uint8(data.x_train, images), torch.from_numpy(np.asarray(data.y_train)).to(device),
                      to_device_uint8(data.x_val, images), torch.from_numpy(np.asarray(data.y_val)).to(device),
                      weights, draws)


@dataclass
class Trial:
    """One configuration being trained: what `setup` builds, and where training stands."""

    config: dict[str, Any]               # as sampled: what the checkpoint keeps
    cfg: TrialConfig                     # the same, typed
    settings: TrainSettings
    num_classes: int
    model: nn.Module
    pre: Preprocess
    opt: torch.optim.Optimizer
    sched: Any
    gen: torch.Generator                 # the trial's own stream: shuffling and augmentation
    data: DeviceData
    opts: StepOptions
    param_count: int
    inference_ms: float
    epoch: int = 0                       # epochs trained so far
    best_val_loss: float = math.inf
    bad_epochs: int = 0                  # epochs since val_loss last improved

    @property
    def preprocess(self) -> Normalisation:
        return self.pre.stats

    def state(self) -> TrialState:
        """The checkpoint of this trial as it stands."""
        return TrialState(dict(self.config), self.epoch, self.model.state_dict(), self.opt.state_dict(),
                          self.sched.state_dict(), self.best_val_loss, self.bad_epochs, RngState.capture(self.gen),
                          self.preprocess)

    def restore(self, start: TrialState) -> None:
        """Continue from `start`: model, optimizer, schedule, random streams and progress exactly as they were."""
        self.model.load_state_dict(start.model)
        self.opt.load_state_dict(start.optimizer)
        self.sched.load_state_dict(start.schedule)
        start.rng.restore(self.gen)
        self.epoch, self.best_val_loss, self.bad_epochs = start.epoch, start.best_val_loss, start.bad_epochs


def setup(config: dict[str, Any], data: TrialData, settings: TrainSettings, start: TrialState | None = None) -> Trial:
    """Build everything a trial trains with, seeded; restored from `start` when given."""
    cfg = parse_trial_config(config)  # the boundary: Ray's flat dict becomes the typed config here
    use_code_paths(settings.code_paths)
    if settings.num_threads:
        torch.set_num_threads(settings.num_threads)
    device = pick_device(settings.device)
    seed = settings.seed if cfg.seed is None else cfg.seed
    torch.manual_seed(seed)
    model, pre, opt, sched = build(cfg, data, settings, device)
    prepare_device(device, settings.cudnn_benchmark, settings.gpu_fraction)
    bf16, channels_last = use_bf16(settings.precision, device), use_channels_last(settings.channels_last, model, device)
    if channels_last:
        model.to(memory_format=torch.channels_last)  # in place: the optimizer keeps the same parameters
    gen = torch.Generator(device="cpu").manual_seed(seed)
    on_device = to_device(data, settings, device)
    micro = settings.micro_batch
    if micro is None and device.type == "cuda" and settings.memory_fit:
        peak = cuda_step_peak(model, pre, on_device.x_train, on_device.y_train, cfg.loss, StepOptions(bf16, channels_last))
        micro = choose_micro_batch(cfg.batch_size, peak,
                                   gpu_budget_bytes(device, settings.gpu_fraction))
    trial = Trial(dict(config), cfg, settings, data.num_classes, model, pre, opt, sched, gen, on_device,
                  StepOptions(bf16, channels_last, micro), count_parameters(model),
                  inference_ms(model, pre, on_device.x_val))
    if start is not None:  # last: the memory profile above draws random numbers (dropout) of its own
        trial.restore(start)
    return trial


def one_epoch(t: Trial, fraction: float = 1.0) -> EpochReport:
    """Train `t` for one more epoch (`fraction` of one: a partial last pass), evaluate it, and decide
    whether it should stop."""
    t.epoch += 1
    if isinstance(t.model, _EpochAware):  # e.g. a backbone frozen for its first warm-up epochs
        t.model.begin_epoch(t.epoch)
    lr = t.opt.param_groups[0]["lr"]  # the rate this epoch starts at (per-epoch schedules: all of it)
    t0 = time.perf_counter()
    # only a fresh trial's first epoch is timed: later ones may slow down with the machine's load
    limit = t.settings.max_epoch_seconds if t.epoch == 1 else None
    d = t.data
    tr = train_one_epoch(t.model, t.pre, t.opt, d.x_train, d.y_train, t.cfg, t.gen, d.class_weights, d.draws,
                         t.opts, limit, fraction)
    speed = tr["seen"] / max(time.perf_counter() - t0, 1e-9)
    if M.PROJECTED_EPOCH_SECONDS in tr:  # too expensive for this search's budget: no epoch's results
        return EpochReport(0, speed, t.param_count, stopped_by=StopReason.TOO_SLOW,
                           projected_epoch_seconds=tr[M.PROJECTED_EPOCH_SECONDS])
    va = evaluate(t.model, t.pre, d.x_val, d.y_val, t.cfg, t.num_classes, t.settings.eval_batch_size,
                  use_flip_tta(t.settings.tta, t.cfg))
    diverged = bool(tr[M.DIVERGED]) or not math.isfinite(va[M.VAL_LOSS])
    if not diverged:
        step_schedule(t.sched, va[M.VAL_LOSS])
    improved = va[M.VAL_LOSS] < t.best_val_loss
    t.best_val_loss, t.bad_epochs = (va[M.VAL_LOSS], 0) if improved else (t.best_val_loss, t.bad_epochs + 1)
    result = EpochReport(t.epoch, speed, t.param_count, val_loss=va[M.VAL_LOSS], val_acc=va[M.VAL_ACC],
                         val_f1=va[M.VAL_F1], train_loss=tr[M.TRAIN_LOSS], train_acc=tr[M.TRAIN_ACC], lr=lr,
                         epoch_seconds=time.perf_counter() - t0, inference_ms=t.inference_ms,
                         micro_batch=t.opts.micro_batch or t.cfg.batch_size,
                         diverged=diverged, stopped_by=stop_reason(t, diverged))
    broken = None if diverged else violated(t.settings.constraints, result.metrics())
    if broken:  # a constraint on what training measures: the trial ends here, as infeasible
        result.stopped_by, result.violated = StopReason.INFEASIBLE, broken
    return result


def infeasible_before_training(t: Trial) -> EpochReport | None:
    """The report (epoch 0, nothing trained) of a trial whose costs break a constraint knowable before
    training (param_count, inference_ms on its own device); None when every such constraint holds."""
    costs = {M.PARAM_COUNT: t.param_count, M.INFERENCE_MS: t.inference_ms}
    broken = violated([c for c in t.settings.constraints if c.before_training], costs)
    if broken is None:
        return None
    return EpochReport(0, 0.0, t.param_count, inference_ms=t.inference_ms, stopped_by=StopReason.INFEASIBLE,
                       violated=broken)


def stop_reason(t: Trial, diverged: bool) -> StopReason | None:
    """Why `t` ends itself after the epoch it just trained, if it does."""
    if diverged:
        return StopReason.DIVERGED
    patience = t.cfg.patience or 0
    if patience and t.bad_epochs >= patience and t.epoch < t.settings.max_epochs:
        return StopReason.PATIENCE
    return None


def refit(t: Trial, epochs: float, planned: float) -> float:
    """Make `t` train `epochs` epochs in all instead of `planned` (never fewer than it has trained; a
    fraction: a partial last pass), its per-step schedule resized to end there; returns the new length.
    A schedule that has already ended is not restarted: such a training ends where it is, when asked for more."""
    epochs = max(t.epoch, epochs)
    if epochs != planned and epochs > t.epoch:
        if not resize_schedule(t.sched, training_steps(epochs, len(t.data.y_train), t.cfg.batch_size)):
            return min(epochs, max(planned, t.epoch))
    return epochs


def run(config: dict[str, Any], data: TrialData, settings: TrainSettings, report: Report,
        start: TrialState | None = None, epochs: int | None = None,
        length: Length | None = None) -> TrialState | None:
    """Train `config` on `data`, calling `report(epoch_report, state)` after every epoch; returns the last state.

    `start` is a state previously passed to `report` (a checkpoint): training continues at the epoch
    after it, with model, optimizer, schedule and random streams exactly as they were. `epochs` stops
    after that many epochs in all (the schedule still spans `settings.planned_epochs()`, as in the search).
    `length`, asked after every epoch, may change how many epochs training has in all, and the schedule
    follows it (`refit`): a training fitted to a deadline at the speed it actually runs, its last pass
    partial where the length is fractional.
    The state is None for a trial stopped before its first epoch ended (too slow): nothing worth keeping.

    Example:
        >>> run({"family": "lenet5"}, data, TrainSettings(max_epochs=1), print)  # doctest: +SKIP
    """
    trial = setup(config, data, settings, start)
    if start is None and (infeasible := infeasible_before_training(trial)) is not None:
        report(infeasible, None)  # never trained a step: nothing worth a checkpoint
        return None
    last = start
    until: float = settings.max_epochs if epochs is None else min(epochs, settings.max_epochs)
    while trial.epoch < until:
        part = min(1.0, until - trial.epoch)
        result = one_epoch(trial, part)
        last = None if result.stopped_by is StopReason.TOO_SLOW else trial.state()
        report(result, last)
        if result.stopped_by is not None:
            break
        if length is not None and part == 1.0:  # a partial pass is the last
            until = refit(trial, length(result, until), until)
    return last
