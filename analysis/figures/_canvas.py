"""Matplotlib on the Agg backend (no display needed), and PNG output."""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FADED = "#c8c8c8"


def new_figure(width: float = 7.0, height: float = 4.0, ncols: int = 1):
    fig, axes = plt.subplots(1, ncols, figsize=(width, height), squeeze=False)
    return fig, list(axes[0])


def to_png(fig, path: str | Path | None = None) -> bytes:
    """PNG bytes of `fig` (also written to `path` if given); the figure is closed."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    data = buf.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data
