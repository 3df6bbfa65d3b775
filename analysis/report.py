"""`hpsearch report`: one self-contained HTML file (figures embedded) plus leaderboard CSV/Markdown and PNGs."""
from __future__ import annotations

import base64
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import figures as F
from .evaluate import TestEvaluation, evaluate_trial
from .importance import param_importances
from .layout import read_space
from .leaderboard import leaderboard, summary_columns, to_csv, to_markdown
from .load import Experiment, load_experiment
from .location import output_folder
from .pareto import experiment_objectives
from .progress import Progress, stderr_progress
from .summary import experiment_summary
from .time_account import read_time_account, render_time_account

REPORT_FILE = "report.html"


@dataclass
class Report:
    """What was written, so callers (and tests) can find it."""

    html: Path
    figures: dict[str, Path] = field(default_factory=dict)
    leaderboard_csv: Path | None = None
    leaderboard_md: Path | None = None
    evaluations: list[TestEvaluation] = field(default_factory=list)
    importance: pd.DataFrame | None = None


# one line per figure: shown under it in the HTML (and in the README)
CAPTIONS = {
    "best_so_far": "Best validation score found so far against wall-clock time: how fast the search improved.",
    "curves": "Learning curves of the top trials in colour over every other trial in grey.",
    "rungs": "How many trials reached each epoch: where ASHA stopped the weaker ones.",
    "importance": "Which hyperparameters explain the score (Optuna's fANOVA and mean-decrease-impurity).",
    "slices": "Score of every trial against each of the most important parameters.",
    "size": "Score against parameter count, per model family: is a bigger model worth it?",
    "pareto": "The Pareto front of the search's objectives (red, each trial named): no other trial is as good on "
              "every objective and better on one.",
    "confusion": "Test-set confusion matrix of the best trial (rows true, columns predicted).",
    "roc": "Per-class one-vs-rest ROC curves of the best trial on the test set, with AUC.",
}


def build_report(results_dir: str | Path, out: str | Path | None = None, top: int = 10, evaluate_top: int = 1,
                 by: str = "best", progress: Progress | None = stderr_progress("report")) -> Report:
    """Write the report of one experiment into `out` (default: `<results_dir>/report/`, see `output_folder`).

    Example:
        >>> build_report("results/quickstart")  # doctest: +SKIP
    """
    say = progress or (lambda _m: None)
    exp = load_experiment(results_dir)
    out_dir = output_folder(exp.path, out, "report")
    out_dir.mkdir(parents=True, exist_ok=True)
    rep = Report(out_dir / REPORT_FILE)
    space = read_space(exp.path)

    board = _write_leaderboard(exp, by, out_dir, rep)
    scored = board.dropna(subset=[exp.metric]) if not board.empty else board
    top_ids = list(scored["trial_id"].head(5))

    pngs: dict[str, bytes] = {}

    def draw(name: str, make: Callable[[], object]) -> None:
        say(f"figure {name}")
        pngs[name] = F.to_png(make(), out_dir / f"{name}.png")
        rep.figures[name] = out_dir / f"{name}.png"

    draw("best_so_far", lambda: F.plot_best_so_far(exp))
    draw("curves", lambda: F.plot_curves(exp, top_ids))
    draw("rungs", lambda: F.plot_rungs(exp))
    if space is not None:
        say("hyperparameter importance")
        rep.importance = importance = param_importances(exp, space, by)
        if not importance.empty:
            draw("importance", lambda: F.plot_importance(importance))
            draw("slices", lambda: F.plot_slices(exp, list(importance.index[:4]), by))
    _trade_offs(exp, by, draw)

    evaluated = _evaluate(exp, list(scored["trial_id"].head(evaluate_top)), say)
    rep.evaluations = evaluated
    if evaluated:
        best = evaluated[0]
        draw("confusion", lambda: F.plot_confusion(best.metrics.confusion, best.class_names))
        draw("roc", lambda: F.plot_roc(best.metrics.roc))
        for ev in evaluated:
            ev.metrics.per_class.to_csv(out_dir / f"test_per_class_{ev.trial_id}.csv")

    summary = experiment_summary(exp, space.name if space else "", len(space.params) if space else 0)
    rep.html.write_text(_html(exp, summary, board.head(top), pngs, evaluated, rep.importance))
    say(f"wrote {rep.html}")
    return rep


def _trade_offs(exp: Experiment, by: str, draw: Callable[[str, Callable[[], object]], None]) -> None:
    """Score against model size; with several objectives, their Pareto front."""
    draw("size", lambda: F.plot_size(exp, by))
    if len(experiment_objectives(exp)) >= 2:
        draw("pareto", lambda: F.plot_pareto(exp, by))


def _write_leaderboard(exp: Experiment, by: str, out_dir: Path, rep: Report) -> pd.DataFrame:
    """The leaderboard, also written as CSV and Markdown next to the report."""
    board = leaderboard(exp, by=by)
    rep.leaderboard_csv, rep.leaderboard_md = out_dir / "leaderboard.csv", out_dir / "leaderboard.md"
    to_csv(board, str(rep.leaderboard_csv))
    rep.leaderboard_md.write_text(to_markdown(board, exp.metric))
    return board


def _evaluate(exp: Experiment, trial_ids: list[str], say: Progress) -> list[TestEvaluation]:
    """Test evaluation of the given trials; trials without a readable checkpoint are skipped (and said so)."""
    if not trial_ids:
        return []
    from .errors import ExperimentError as LaunchError
    from .experiment_data import load_experiment_data

    say("loading the held-out test set")
    data = load_experiment_data(exp.path)
    out = []
    for i, t in enumerate(trial_ids, 1):
        say(f"test evaluation {i}/{len(trial_ids)}: trial {t} on {len(data.y_test)} images")
        try:
            out.append(evaluate_trial(exp, t, data))
        except LaunchError as e:
            say(f"skipped: {e}")
    return out


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{alt}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _table(df: pd.DataFrame, floats: str = "{:.4f}") -> str:
    return df.to_html(border=0, classes="t", float_format=lambda v: floats.format(v), na_rep="-", escape=True)


STYLE = """body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1200px;color:#222}
h1{margin-bottom:4px}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
table.t{border-collapse:collapse;font-size:13px}table.t td,table.t th{padding:3px 8px;border-bottom:1px solid #eee;
text-align:left}img{max-width:100%;display:block;margin:8px 0}.cap{color:#555;font-size:13px;margin:0 0 18px}
.kv th{text-align:left;padding-right:16px;color:#555}"""


def _html(exp: Experiment, summary: dict[str, str], board: pd.DataFrame, pngs: dict[str, bytes],
          evaluated: list[TestEvaluation], importance: pd.DataFrame | None) -> str:
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>hpsearch report: {esc(exp.name)}</title>"
             f"<style>{STYLE}</style></head><body><h1>hpsearch report: {esc(exp.name)}</h1>",
             "<h2>Summary</h2><table class='kv'>"]
    parts += [f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in summary.items()]
    parts.append("</table>")
    account = read_time_account(exp.path)
    if account is not None:
        parts.append("<h2>Time account</h2><pre>" + esc("\n".join(render_time_account(account))) + "</pre>")
    parts.append("<h2>Leaderboard</h2>")
    if board.empty:
        parts.append("<p>(no trials yet)</p>")
    else:
        cols = summary_columns(board, exp.metric, False)
        parts.append(_table(board[cols].set_index("rank")))

    def fig(name: str) -> None:
        if name in pngs:
            parts.append(_img(pngs[name], name) + f"<p class='cap'>{esc(CAPTIONS[name])}</p>")

    parts.append("<h2>The search</h2>")
    for name in ("best_so_far", "curves", "rungs", "importance", "slices", "size", "pareto"):
        fig(name)
    if importance is not None and not importance.empty:
        parts.append(_table(importance.head(12), "{:.3f}"))
    parts.append("<h2>Test evaluation</h2>")
    if not evaluated:
        parts.append("<p>No trial has a readable checkpoint yet, so nothing was evaluated on the test set.</p>")
    for ev in evaluated:
        s = ev.metrics.summary()
        parts.append(f"<h3>Trial {esc(ev.trial_id)} (checkpoint of epoch {ev.epoch}, selected on validation)</h3>")
        overall = pd.DataFrame({"macro": ev.metrics.averaged("macro"), "weighted": ev.metrics.averaged("weighted")}).T
        parts.append(f"<p>test accuracy <b>{s['accuracy']:.4f}</b>, macro F1 <b>{s['macro_f1']:.4f}</b>, "
                     f"weighted F1 {s['weighted_f1']:.4f}, mean AUC {s['macro_auc']:.4f} "
                     f"on {len(ev.y_true)} test images</p>")
        parts.append(_table(overall))
        parts.append(_table(ev.metrics.per_class))
        if ev is evaluated[0]:
            fig("confusion")
            fig("roc")
    parts.append("</body></html>")
    return "\n".join(parts)
