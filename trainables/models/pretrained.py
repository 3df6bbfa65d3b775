"""Where pretrained backbone weights come from: a file per backbone, the local hub cache, or the hub.

The order is deliberate: a file the user named wins; then anything already on disk (the Hugging
Face cache, torch.hub's cache) so an offline machine never touches the network; the hub last, and
only after a short reachability probe, so a machine without network fails in seconds rather than
after minutes of download retries.
"""
from __future__ import annotations

import functools
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from ..data import DataError

HUB_FILES = ("model.safetensors", "pytorch_model.bin")  # what timm looks for in a hub repo, in order
PROBE_TIMEOUT_S = 3.0


class WeightsUnavailable(DataError):
    """Pretrained weights for a backbone cannot be found anywhere hpsearch looked."""


@dataclass(frozen=True)
class WeightSources:
    """Experiment-level weight sources: `files` maps a backbone name (or its name without the
    `.tag`) to a .safetensors / PyTorch state-dict file; `offline` forbids the hub."""

    files: dict[str, str] = field(default_factory=dict)
    offline: bool = False
    probe_timeout_s: float = PROBE_TIMEOUT_S

    def file_for(self, backbone: str) -> str | None:
        return self.files.get(backbone) or self.files.get(backbone.split(".")[0])


def env_offline() -> bool:
    """True when the environment says not to use the hub (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE)."""
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _hub_cached(hub_id: str) -> str | None:
    from huggingface_hub import try_to_load_from_cache

    for name in HUB_FILES:
        hit = try_to_load_from_cache(hub_id, name)
        if isinstance(hit, str) and Path(hit).is_file():
            return hit
    return None


def _url_cached(url: str) -> str | None:
    import torch

    path = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(url).path).name
    return str(path) if path.is_file() else None


def _hub_endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


@functools.lru_cache(maxsize=8)  # one probe per process: a launch checking many backbones waits once
def _reachable(url: str, timeout_s: float) -> bool:
    u = urlparse(url)
    try:
        with socket.create_connection((u.hostname or "", u.port or (443 if u.scheme == "https" else 80)), timeout_s):
            return True
    except OSError:
        return False


def locate_weights(backbone: str, pretrained_cfg: dict, sources: WeightSources) -> str | None:
    """A local weights file for `backbone`, or None when the hub is reachable and should be used.

    Raises WeightsUnavailable (within about `probe_timeout_s`) naming every place it looked.
    """
    looked: list[str] = []
    path = sources.file_for(backbone)
    if path:
        if Path(path).is_file():
            return path
        looked.append(f"pretrained_weights file {path} (does not exist)")
    else:
        base = backbone.split(".")[0]
        keys = f"{backbone!r}" + (f" or {base!r}" if base != backbone else "")
        looked.append(f"pretrained_weights in the experiment file (no entry for {keys})")
    hub_id, url = pretrained_cfg.get("hf_hub_id"), pretrained_cfg.get("url")
    if hub_id:
        hit = _hub_cached(hub_id)
        if hit:
            return hit
        from huggingface_hub import constants

        looked.append(f"Hugging Face cache {constants.HF_HUB_CACHE} (no {hub_id})")
    if url:
        hit = _url_cached(url)
        if hit:
            return hit
        looked.append(f"torch.hub cache (no {Path(urlparse(url).path).name})")
    if not hub_id and not url:
        raise WeightsUnavailable(f"backbone {backbone!r}: timm knows no pretrained weights for it; "
                                 "set pretrained: false, or give a file in pretrained_weights")
    remote = _hub_endpoint() if hub_id else url
    if sources.offline:
        looked.append(f"{remote} (skipped: offline, HF_HUB_OFFLINE is set)")
    elif _reachable(remote, sources.probe_timeout_s):
        return None
    else:
        looked.append(f"{remote} (unreachable within {sources.probe_timeout_s:g} s)")
    raise WeightsUnavailable(
        f"backbone {backbone!r}: pretrained weights not found. Looked in: " + "; ".join(looked) + ". "
        f"To provide them, save the weights (a .safetensors file or a PyTorch state dict) and add to the "
        f"experiment file `pretrained_weights: {{{backbone}: /path/to/model.safetensors}}`, "
        "or set pretrained: false.")


def backbone_cfg(backbone: str) -> dict:
    """timm's pretrained config of `backbone` (its default tag when untagged); {} when it has none."""
    import timm

    cfg = timm.models.get_pretrained_cfg(backbone)
    return {} if cfg is None else (cfg if isinstance(cfg, dict) else cfg.to_dict())


def create_backbone(backbone: str, pretrained: bool, in_chans: int, sources: WeightSources | None = None,
                    **kwargs):
    """`timm.create_model(backbone, num_classes=0, in_chans=...)` with weights from `sources`.

    timm adapts the pretrained first conv to `in_chans` (e.g. sums RGB filters for grayscale).
    Files are read safely: safetensors, or torch.load(weights_only=True).
    """
    import timm

    if not pretrained:
        return timm.create_model(backbone, pretrained=False, num_classes=0, in_chans=in_chans, **kwargs)
    sources = sources or WeightSources(offline=env_offline())
    path = locate_weights(backbone, backbone_cfg(backbone), sources)
    overlay = {"file": path} if path else None
    return timm.create_model(backbone, pretrained=True, num_classes=0, in_chans=in_chans,
                             pretrained_cfg_overlay=overlay, **kwargs)
