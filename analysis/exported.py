"""Read back a file written by `hpsearch export`: ONNX through onnxruntime alone, TorchScript through torch.jit.

Either way the file holds the preprocessing, so raw uint8 images go in and probabilities come out.
"""
from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trainables.data import DataError

from .errors import ExperimentError
from .export import EXPORT_FORMAT, FORMATS, META_KEY, require

Run = Callable[[np.ndarray], np.ndarray]  # uint8 images in the file's layout -> probabilities


@dataclass
class ExportedModel:
    path: Path
    meta: dict[str, Any]
    run: Run

    @property
    def class_names(self) -> list[str]:
        return list(self.meta["class_names"])

    @property
    def in_shape(self) -> tuple[int, int, int]:
        c, h, w = self.meta["in_shape"]
        return c, h, w

    def probabilities(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Probabilities [N, classes] for uint8 images [N, C, H, W] (reshaped to the file's layout here)."""
        x = np.ascontiguousarray(x[:, 0] if self.meta["layout"] == "NHW" else x, dtype=np.uint8)
        return np.concatenate([self.run(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def _onnx(path: Path) -> tuple[dict[str, Any], Run]:
    require("onnxruntime")
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map.get(META_KEY)
    return json.loads(meta or "{}"), lambda x: session.run(None, {session.get_inputs()[0].name: x})[0]


def _torchscript(path: Path) -> tuple[dict[str, Any], Run]:
    import torch

    extra = {f"{META_KEY}.json": ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit's deprecation notice
        module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return module(torch.from_numpy(x)).numpy()

    return json.loads(extra[f"{META_KEY}.json"] or "{}"), run


_READERS: dict[str, Callable[[Path], tuple[dict[str, Any], Run]]] = {
    FORMATS.get("onnx").suffix: _onnx, FORMATS.get("torchscript").suffix: _torchscript}


def is_exported(path: str | Path) -> bool:
    """A file with an export format's suffix (a bundle is a folder)."""
    return Path(path).suffix in _READERS and Path(path).is_file()


def load_exported(path: str | Path) -> ExportedModel:
    """Open an exported file; a file that `hpsearch export` did not write is refused."""
    path = Path(path)
    if path.suffix not in _READERS:
        raise DataError(f"{path}: not an exported model (suffixes {', '.join(sorted(_READERS))})")
    try:
        meta, run = _READERS[path.suffix](path)
    except ExperimentError:  # a missing runtime: its own message says what to install
        raise
    except Exception as e:  # noqa: BLE001 - the runtimes raise their own types for an unreadable file
        first = (str(e).strip().splitlines() or ["(no message)"])[0]
        raise DataError(f"{path}: cannot load as an exported model ({type(e).__name__}: {first})") from None
    if meta.get("format") != EXPORT_FORMAT:
        raise DataError(f"{path}: no {EXPORT_FORMAT} metadata (export it with `hpsearch export`)")
    return ExportedModel(path, meta, run)
