"""`hpsearch export`: a bundle (one model or an ensemble) as one ONNX or TorchScript file, preprocessing inside.

The graph takes raw uint8 images as the dataset stores them: [N, H, W] for one channel (as IDX files
and greyscale images hold them), [N, C, H, W] otherwise. It casts, scales by 1/255, normalises with
each member's stored mean/std (`trainables.preprocess.normalisation_for` decided them when the trial
was built), resizes where the model does, and returns probabilities [N, classes]. Class names and the
input layout travel inside the file (ONNX `metadata_props`, a TorchScript extra file), so onnxruntime
alone can use it (`analysis.exported` reads it back, for `hpsearch predict`).
"""
from __future__ import annotations

import importlib.util
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from trainables.data import DataError
from trainables.registry import Registry

from .bundle import META, Bundle, load_bundle
from .errors import ExperimentError

EXPORT_FORMAT = "hpsearch-export/1"
META_KEY = "hpsearch"  # ONNX metadata key; TorchScript extra file META_KEY + ".json"


class RawInput(nn.Module):
    """The classifier behind the dataset's own layout: adds the channel axis of [N, H, W] images."""

    def __init__(self, classifier: nn.Module, add_channel: bool) -> None:
        super().__init__()
        self.classifier, self.add_channel = classifier, add_channel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(x.unsqueeze(1) if self.add_channel else x)


@dataclass(frozen=True)
class ExportFormat:
    suffix: str
    write: Callable[[nn.Module, torch.Tensor, dict[str, Any], Path], None]


FORMATS: Registry[ExportFormat] = Registry("export format")


def require(*modules: str) -> None:
    """The optional packages ONNX needs, checked before any work, with the command that installs them."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise ExperimentError(f"ONNX needs {', '.join(missing)}: pip install 'hpsearch[export]'")


def _write_onnx(graph: nn.Module, example: torch.Tensor, meta: dict[str, Any], out: Path) -> None:
    """torch.export-based exporter (the legacy TorchScript one is deprecated); the batch size stays free."""
    require("onnx", "onnxscript")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(graph, (example,), dynamo=True, verbose=False, input_names=["images"],
                                    output_names=["probabilities"], dynamic_shapes=({0: torch.export.Dim("batch")},))
    if program is None:  # only the legacy exporter returns None
        raise RuntimeError("torch.onnx.export returned no program")
    program.model.metadata_props[META_KEY] = json.dumps(meta)
    program.save(out, external_data=False)  # one self-contained file (models under ONNX's 2 GB limit)


def _write_torchscript(graph: nn.Module, example: torch.Tensor, meta: dict[str, Any], out: Path) -> None:
    """Traced, not scripted: timm models do not all script. Input height/width are fixed by the bundle, so
    the resize branch that tracing freezes is the one every valid input takes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit's deprecation notice and the frozen-branch TracerWarning
        traced = torch.jit.trace(graph, example)
        torch.jit.save(traced, str(out), _extra_files={f"{META_KEY}.json": json.dumps(meta)})


FORMATS.register("onnx", ExportFormat(".onnx", _write_onnx))
FORMATS.register("torchscript", ExportFormat(".pt", _write_torchscript))


def bundle_folder(source: str | Path) -> Path:
    """A bundle folder as given, or an experiment folder's bundle: `final/` (the single best), else `ensemble/`."""
    source = Path(source)
    for folder in (source, source / "final", source / "ensemble"):
        if (folder / META).is_file():
            return folder
    raise DataError(f"{source}: neither a model bundle nor an experiment with one in final/ or ensemble/ "
                    f"(make one with `hpsearch final {source}`)")


def export_meta(bundle: Bundle) -> dict[str, Any]:
    """What a user of the file needs besides the graph: classes, expected input, where it came from."""
    c, h, w = bundle.in_shape
    return {"format": EXPORT_FORMAT, "class_names": bundle.class_names, "in_shape": [c, h, w],
            "layout": "NHW" if c == 1 else "NCHW", "input": "uint8, 0..255, not normalised",
            "output": "probabilities", "members": len(bundle.members) or 1, "source": bundle.meta.get("source", {})}


def export_bundle(source: str | Path, fmt: str = "onnx", out: str | Path | None = None) -> Path:
    """Write the bundle (or an experiment's final/ bundle) as one `fmt` file; returns its path.

    Example:
        >>> export_bundle("results/quickstart/final", "onnx")  # doctest: +SKIP
        PosixPath('results/quickstart/final/model.onnx')
    """
    if fmt not in FORMATS:
        raise DataError(f"export format {fmt!r}: allowed {', '.join(FORMATS.names())}")
    folder = bundle_folder(source)
    bundle = load_bundle(folder)
    spec = FORMATS.get(fmt)
    path = Path(out) if out else folder / f"model{spec.suffix}"
    meta = export_meta(bundle)
    c, h, w = bundle.in_shape
    example = torch.zeros((2, h, w) if c == 1 else (2, c, h, w), dtype=torch.uint8)
    graph = RawInput(bundle.classifier(), add_channel=c == 1).eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    spec.write(graph, example, meta, path)
    return path
