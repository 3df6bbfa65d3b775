"""Report figures. Each module computes plain data first (`*_data`, asserted on by tests) and draws second."""
from __future__ import annotations

from ._best_so_far import best_so_far_data, plot_best_so_far
from ._canvas import to_png
from ._confusion import plot_confusion
from ._curves import curves_data, plot_curves
from ._importance import plot_importance
from ._kinds import KINDS, draw_figure
from ._pareto import pareto_data, plot_pareto
from ._roc import plot_roc
from ._rungs import plot_rungs, rungs_data
from ._size import plot_size, size_data
from ._slices import plot_slices, slices_data

__all__ = ["KINDS", "best_so_far_data", "curves_data", "draw_figure", "pareto_data", "plot_best_so_far", "plot_confusion",
           "plot_curves", "plot_importance", "plot_pareto", "plot_roc", "plot_rungs", "plot_size", "plot_slices",
           "rungs_data", "size_data", "slices_data", "to_png"]
