"""`hpsearch` command line: parse, build config, call one library function. No logic here."""
from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:  # the CLI imports the library lazily: `hpsearch --help` stays fast
    from .api import Search

EXIT_USAGE = 2
EXIT_INTERNAL = 1


def _user_errors() -> tuple[type[BaseException], ...]:
    from analysis.errors import ExperimentError  # search.launch.LaunchError is this class
    from spaces import SpaceError
    from trainables.data import DataError

    from .config import ConfigError

    # OSError: unreadable or missing files and folders the user named
    return (ConfigError, SpaceError, DataError, ExperimentError, OSError)


def cmd_run(args: argparse.Namespace) -> int:
    from . import api

    return _watched(lambda: api.run(args.experiment, overrides=args.set, flags=run_flags(args), **_watch(args)), args)


def run_flags(args: argparse.Namespace) -> dict[str, str]:
    """Flags of `hpsearch run` that set config fields: paths and addresses, taken as strings (never YAML)."""
    flags = {"address": args.address, "dataset.data_dir": args.data_dir}
    return {key: value for key, value in flags.items() if value is not None}


def _watch(args: argparse.Namespace) -> dict:
    """How `run` and `resume` show progress: the terminal view, or Ray's own output with --verbose."""
    return {"progress": "off" if args.verbose else "terminal", "verbose": args.verbose, "mlflow": args.mlflow,
            "progress_every": args.progress_every}


def cmd_resume(args: argparse.Namespace) -> int:
    from . import api
    from .run_record import NothingToResume

    try:
        return _watched(lambda: api.resume(args.results_dir, num_samples=args.num_samples, address=args.address,
                                           **_watch(args)), args)
    except NothingToResume as e:
        print(f"hpsearch: {e}")
        return 0


def _watched(fit: Callable[[], Search], args: argparse.Namespace) -> int:
    """Run the search, then print its leaderboard and say how to resume it if it did not finish."""
    from analysis import to_terminal

    from . import api

    try:
        search = fit()
    except api.Interrupted as e:
        print(f"\ninterrupted. Resume with:\n  hpsearch resume {e.path}", file=sys.stderr)
        return 130
    board = api.leaderboard(search, top=args.top)
    print(f"\nleaderboard ({board.attrs['metric']}, {board.attrs['mode']}; top {args.top}):")
    print(to_terminal(board, board.attrs["metric"]))
    _print_time_account(search.path)
    print(f"\nresults: {search.path}")
    if not search.finished:
        print(f"the search did not finish. Resume with:\n  hpsearch resume {search.path}", file=sys.stderr)
        return 1
    return 0


def _print_time_account(path: str | Path) -> None:
    """A time-budgeted run's plan and where its time went (nothing for other experiments)."""
    from analysis.time_account import read_time_account, render_time_account

    account = read_time_account(path)
    if account is not None:
        print("\n".join(render_time_account(account)))


def cmd_status(args: argparse.Namespace) -> int:
    from analysis.location import as_path

    from .progress_text import render_history, render_line, render_lines, render_state  # no Ray: starts fast
    from .status import from_disk

    snap = from_disk(args.results_dir)
    if not args.oneline:
        print(f"{as_path(args.results_dir)}: {render_state(snap)}")
        print("\n".join(render_history(snap.runs)))
    print(render_line(snap) if args.oneline else "\n".join(render_lines(snap)))
    if not args.oneline:
        _print_time_account(args.results_dir)
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from analysis import to_csv, to_markdown, to_terminal

    from . import api

    board = api.leaderboard(args.results_dirs, by=args.by, top=args.top, family=args.family, ended=args.ended)
    print(to_terminal(board, board.attrs["metric"]))
    for path in args.results_dirs:
        _print_time_account(path)
    if args.csv:
        to_csv(board, args.csv)
        print(f"wrote {args.csv}")
    if args.markdown:
        Path(args.markdown).write_text(to_markdown(board, board.attrs["metric"]))
        print(f"wrote {args.markdown}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from . import api

    rep = api.report(args.results_dir, args.out, top=args.top, evaluate=args.evaluate, by=args.by)
    print(f"report: {rep.html}")
    print(f"figures: {', '.join(str(p) for p in rep.figures.values())}")
    print(f"leaderboard: {rep.leaderboard_csv} {rep.leaderboard_md}")
    return 0


def cmd_final(args: argparse.Namespace) -> int:
    from . import api

    if args.ensemble is not None:
        return _final_ensemble(args)
    if args.folds:
        table = api.cross_validate(args.results_dir, args.folds, top=args.cv_top, by=args.by)
        print(f"\n{args.folds}-fold cross-validation on train+validation:")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    fm = api.final(args.results_dir, out=args.out, trial=args.trial, by=args.by, pick=args.pick)
    s = fm.evaluation.metrics.summary()
    print(f"\ntrial {fm.trial_id} retrained for {fm.epochs} epochs on train+validation; on the test set:")
    print("  " + "  ".join(f"{k} {v:.4f}" for k, v in s.items()))
    print(f"bundle: {fm.bundle}\npredict with: hpsearch predict {fm.bundle} IMAGE...")
    return 0


def _final_ensemble(args: argparse.Namespace) -> int:
    from analysis.ensemble import COMPARISON, comparison_table, final_ensemble
    from analysis.errors import ExperimentError

    if args.trial or args.folds:
        raise ExperimentError("--ensemble: not with --trial or --folds (an ensemble is of the top K trials; "
                          "cross-validate with a separate `hpsearch final --folds`)")
    fe = final_ensemble(args.results_dir, args.ensemble, args.out, args.by)
    shown = ("accuracy", "macro_precision", "macro_recall", "macro_f1", "macro_auc")
    print(f"\ntop {len(fe.members)} trials ({', '.join(m.trial_id for m in fe.members)}) retrained on "
          f"train+validation; on the test set:")
    for name, m in (("single best", fe.single_best), (f"ensemble of {len(fe.members)}", fe.ensemble)):
        print(f"  {name:<14} " + "  ".join(f"{k} {m.summary()[k]:.4f}" for k in shown))
    print(comparison_table(fe).to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"bundle: {fe.bundle} (comparison: {fe.bundle / COMPARISON})")
    print(f"predict with: hpsearch predict {fe.bundle} IMAGE...")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from analysis.export import export_bundle

    path = export_bundle(args.bundle, args.format, args.out)
    print(f"wrote {path}\npredict with: hpsearch predict {path} IMAGE...")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from . import api

    for p in api.predict(args.bundle, args.images):
        print(f"{p.path}\t{p.name}\t{p.probability:.4f}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .config import load_config
    from .launch import checked_space
    from .weights_check import missing_weights

    cfg = load_config(args.experiment, args.set)
    space = checked_space(cfg, Path(args.experiment).parent)
    for problem in missing_weights(space, cfg.pretrained_weights):
        print(f"warning: {problem}", file=sys.stderr)
    budget = (f"a {cfg.budget.time_budget_s:g} s time budget" if cfg.budget.mode == "time"
              else f"{cfg.budget.num_samples} trials")
    print(f"{args.experiment}: valid ({budget}, space {space.name!r}, "
          f"{len(space.params)} parameters, dataset {cfg.dataset.name})")
    return 0


def cmd_spaces(args: argparse.Namespace) -> int:
    from spaces import get_preset, list_presets, render_space, resolve_space

    from .space_check import check_space

    if args.action == "list":
        for name in list_presets():
            space = get_preset(name)
            print(f"{name:<10} {len(space.params):>3} params  {space.description}")
        return 0
    space = resolve_space(args.name)
    check_space(space)
    print(render_space(space))
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from trainables.data import DATASETS, describe_dataset, load_dataset
    from trainables.data.describe import describe

    from .config import apply_overrides

    if args.action == "list":
        for name in DATASETS.names():
            print(f"{name:<14} {describe_dataset(name)}")
        return 0
    options = apply_overrides({}, args.option or [], "--option")
    data = load_dataset(args.name, args.data_dir, options)
    print("\n".join(describe(data, args.val_fraction, args.test_fraction, args.seed)))
    return 0


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: seconds > 0 expected")
    return value


def _watch_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--verbose", action="store_true", help="Ray Tune's own progress tables and worker logs")
    p.add_argument("--progress-every", type=_positive, default=30.0, metavar="SECONDS",
                   help="seconds between progress lines when the output is not a terminal")
    p.add_argument("--mlflow", metavar="URI", help="also log each trial as an MLflow run (sqlite:///mlflow.db or "
                   "http://host:5000); needs pip install 'hpsearch[mlflow]'")


_Sub: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # what add_subparsers returns


def _add_run(sub: _Sub) -> None:
    r = sub.add_parser("run", help="launch a search from an experiment YAML file")
    r.add_argument("experiment")
    r.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config field, e.g. budget.num_samples=12")
    r.add_argument("--address", help="join a Ray cluster: auto, HOST:PORT or ray://HOST:10001")
    r.add_argument("--data-dir", help="folder holding the dataset files")
    r.add_argument("--top", type=int, default=10, help="leaderboard rows printed at the end")
    _watch_args(r)
    r.set_defaults(fn=cmd_run)


def _add_resume(sub: _Sub) -> None:
    s = sub.add_parser("resume", help="continue an interrupted search")
    s.add_argument("results_dir")
    s.add_argument("--address", help="join a Ray cluster: auto, HOST:PORT or ray://HOST:10001")
    s.add_argument("--num-samples", type=int, help="raise the trial budget of a finished or interrupted search")
    s.add_argument("--top", type=int, default=10)
    _watch_args(s)
    s.set_defaults(fn=cmd_resume)


def _add_status(sub: _Sub) -> None:
    st = sub.add_parser("status", help="progress of a search (running anywhere, or finished), read from its folder")
    st.add_argument("results_dir")
    st.add_argument("--oneline", action="store_true", help="one plain line, as in a log")
    st.set_defaults(fn=cmd_status)


def _add_leaderboard(sub: _Sub) -> None:
    lb = sub.add_parser("leaderboard", help="rank the trials of one or more experiments")
    lb.add_argument("results_dirs", nargs="+")
    lb.add_argument("--top", type=int, default=None, help="show only the best N")
    lb.add_argument("--by", choices=["best", "last"], default="best", help="rank by best epoch or last epoch")
    lb.add_argument("--family", help="only trials of this model family")
    lb.add_argument("--ended", help="only trials that ended this way, e.g. completed, 'stopped by ASHA', errored")
    lb.add_argument("--csv", help="also write the full leaderboard as CSV")
    lb.add_argument("--markdown", help="also write it as a Markdown table")
    lb.set_defaults(fn=cmd_leaderboard)


def _add_report(sub: _Sub) -> None:
    rp = sub.add_parser("report", help="HTML report with figures, leaderboard and test evaluation of the best trial")
    rp.add_argument("results_dir")
    rp.add_argument("--out", help="output folder (default: RESULTS_DIR/report)")
    rp.add_argument("--top", type=int, default=10, help="leaderboard rows in the report")
    rp.add_argument("--evaluate", type=int, default=1, metavar="N", help="evaluate the best N trials on the test set")
    rp.add_argument("--by", choices=["best", "last"], default="best", help="rank by best epoch or last epoch")
    rp.set_defaults(fn=cmd_report)


def _add_final(sub: _Sub) -> None:
    fn = sub.add_parser("final", help="retrain the best config on train+validation, test it, export a model bundle")
    fn.add_argument("results_dir")
    fn.add_argument("--out", help="bundle folder (default: RESULTS_DIR/final)")
    fn.add_argument("--trial", help="retrain this trial id instead of the best")
    fn.add_argument("--pick", metavar="RULE", help="retrain the trial a rule chooses: best, smallest-within:P or "
                    "fastest-within:P (fewest parameters / lowest inference_ms within P points of the best)")
    fn.add_argument("--by", choices=["best", "last"], default="best", help="rank by best epoch or last epoch")
    fn.add_argument("--folds", type=int, metavar="K", help="first cross-validate the top configs with K stratified folds")
    fn.add_argument("--cv-top", type=int, default=3, metavar="N", help="configs to cross-validate (with --folds)")
    fn.add_argument("--ensemble", type=int, metavar="K", help="retrain the top K configs and average their probabilities;"
                    " compared with the single best on the test set (default --out: RESULTS_DIR/ensemble)")
    fn.set_defaults(fn=cmd_final)


def _add_export(sub: _Sub) -> None:
    ex = sub.add_parser("export", help="write a bundle as one ONNX or TorchScript file that takes raw uint8 images")
    ex.add_argument("bundle", help="a bundle folder, or an experiment folder (its final/ bundle)")
    ex.add_argument("--format", choices=["onnx", "torchscript"], default="onnx")
    ex.add_argument("--out", help="output file (default: BUNDLE/model.onnx or BUNDLE/model.pt)")
    ex.set_defaults(fn=cmd_export)


def _add_predict(sub: _Sub) -> None:
    pr = sub.add_parser("predict", help="classify image files with a bundle made by `hpsearch final`, "
                        "or a file made by `hpsearch export` (.onnx, .pt)")
    pr.add_argument("bundle")
    pr.add_argument("images", nargs="+")
    pr.set_defaults(fn=cmd_predict)


def _add_validate(sub: _Sub) -> None:
    v = sub.add_parser("validate", help="check an experiment file and its space without launching anything")
    v.add_argument("experiment")
    v.add_argument("--set", action="append", metavar="KEY=VALUE")
    v.set_defaults(fn=cmd_validate)


def _add_spaces(sub: _Sub) -> None:
    sp = sub.add_parser("spaces", help="list preset spaces, or show one resolved")
    sp_sub = sp.add_subparsers(dest="action", required=True)
    sp_sub.add_parser("list")
    show = sp_sub.add_parser("show")
    show.add_argument("name", help="preset name or path to a space file")
    sp.set_defaults(fn=cmd_spaces)


def _add_data(sub: _Sub) -> None:
    d = sub.add_parser("data", help="list datasets, or show where one is found and its size")
    d_sub = d.add_subparsers(dest="action", required=True)
    d_sub.add_parser("list")
    dshow = d_sub.add_parser("show")
    dshow.add_argument("name")
    dshow.add_argument("--data-dir", help="folder (or file) holding the dataset")
    dshow.add_argument("--option", action="append", metavar="KEY=VALUE", help="a dataset option, e.g. grayscale=true")
    dshow.add_argument("--val-fraction", type=float, default=0.1)
    dshow.add_argument("--test-fraction", type=float, default=0.2, help="used only if the dataset has no test set")
    dshow.add_argument("--seed", type=int, default=0)
    d.set_defaults(fn=cmd_data)


# every command's arguments, in the order `hpsearch --help` lists them
_COMMANDS = [_add_run, _add_resume, _add_status, _add_leaderboard, _add_report, _add_final, _add_export,
             _add_predict, _add_validate, _add_spaces, _add_data]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hpsearch", description="Distributed hyperparameter search for image classifiers.")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    sub = p.add_subparsers(dest="command", required=True)
    for add in _COMMANDS:
        add(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    try:
        return args.fn(args)
    except _user_errors() as e:
        if args.debug:
            traceback.print_exc()
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - a bug or a failure inside Ray: one line unless --debug
        if args.debug:
            traceback.print_exc()
            return EXIT_INTERNAL
        print(f"error: {type(e).__name__}: {_first_line(e)}\n(run with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else "(no message)"


if __name__ == "__main__":
    sys.exit(main())
