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
    from .config import ExperimentConfig

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
    from .config import load_config
    from .launch import prepare, run_experiment

    cfg = load_config(args.experiment, args.set, flags=run_flags(args))
    prep = prepare(cfg, Path(args.experiment).parent)
    print(f"hpsearch: {cfg.budget.num_samples} trials of space {prep.space.name!r} on {cfg.dataset.name} "
          f"({prep.sizes[0]} train / {prep.sizes[1]} validation images); results in {prep.path}")
    return _fit_and_report(lambda cb: run_experiment(prep, args.verbose, cb), prep.path, cfg, args)


def run_flags(args: argparse.Namespace) -> dict[str, str]:
    """Flags of `hpsearch run` that set config fields: paths and addresses, taken as strings (never YAML)."""
    flags = {"address": args.address, "dataset.data_dir": args.data_dir}
    return {key: value for key, value in flags.items() if value is not None}


def cmd_resume(args: argparse.Namespace) -> int:
    from analysis.location import as_path

    from .launch import check_resumable, resume_experiment
    from .run_record import NothingToResume, time_used

    cfg = check_resumable(args.results_dir)  # a damaged state file fails here, before Ray is imported
    path = str(as_path(args.results_dir))
    print(f"hpsearch: resuming {path}")
    cfg.budget.num_samples = args.num_samples or cfg.budget.num_samples
    try:
        return _fit_and_report(lambda cb: resume_experiment(path, args.verbose, cb, args.address, args.num_samples,
                                                                 state_checked=True),
                               path, cfg, args, time_used(path))
    except NothingToResume as e:
        print(f"hpsearch: {e}")
        return 0


def _fit_and_report(fit: Callable, path: str, cfg: ExperimentConfig, args: argparse.Namespace, used_s: float = 0.0) -> int:
    from analysis import leaderboard, load_experiment, to_terminal
    from analysis.load import PENDING, UNFINISHED

    from .progress import LiveProgress, quiet_console

    callbacks: list = []
    if not args.verbose:
        quiet_console()
        callbacks.append(LiveProgress(cfg.search.metric, cfg.mode, cfg.budget.num_samples, cfg.budget.max_epochs,
                                      cfg.budget.time_budget_s, every_s=args.progress_every,
                                      epoch_limit_s=cfg.budget.epoch_time_limit(), used_before_s=used_s))
    if args.mlflow:
        from .tracking import mlflow_callback

        callbacks.append(mlflow_callback(args.mlflow, cfg.name))
    try:
        fit(callbacks)
    except KeyboardInterrupt:
        print(f"\ninterrupted. Resume with:\n  hpsearch resume {path}", file=sys.stderr)
        return 130
    exp = load_experiment(path)
    board = leaderboard(exp, top=args.top)
    print(f"\nleaderboard ({exp.metric}, {exp.mode}; top {args.top}):")
    print(to_terminal(board, exp.metric))
    print(f"\nresults: {path}")
    open_trials = exp.trials[exp.trials["ended"].isin([UNFINISHED, PENDING])] if not exp.trials.empty else []
    if len(open_trials) or len(exp.trials) < cfg.budget.num_samples and not cfg.budget.time_budget_s:
        print(f"the search did not finish. Resume with:\n  hpsearch resume {path}", file=sys.stderr)
        return 1
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from analysis.location import as_path

    from .progress import render_history, render_line, render_lines, render_state
    from .status import from_disk

    snap = from_disk(args.results_dir)
    if not args.oneline:
        print(f"{as_path(args.results_dir)}: {render_state(snap)}")
        print("\n".join(render_history(snap.runs)))
    print(render_line(snap) if args.oneline else "\n".join(render_lines(snap)))
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from analysis import leaderboard, load_experiment, to_csv, to_markdown, to_terminal

    exps = [load_experiment(p) for p in args.results_dirs]
    board = leaderboard(exps, by=args.by, top=args.top, family=args.family, ended=args.ended)
    print(to_terminal(board, exps[0].metric))
    if args.csv:
        to_csv(board, args.csv)
        print(f"wrote {args.csv}")
    if args.markdown:
        Path(args.markdown).write_text(to_markdown(board, exps[0].metric))
        print(f"wrote {args.markdown}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.report import build_report

    rep = build_report(args.results_dir, args.out, top=args.top, evaluate_top=args.evaluate, by=args.by)
    print(f"report: {rep.html}")
    print(f"figures: {', '.join(str(p) for p in rep.figures.values())}")
    print(f"leaderboard: {rep.leaderboard_csv} {rep.leaderboard_md}")
    return 0


def cmd_final(args: argparse.Namespace) -> int:
    from analysis.final import final_model

    if args.folds:
        from analysis.crossval import cross_validate

        table = cross_validate(args.results_dir, args.folds, args.cv_top, args.by)
        print(f"\n{args.folds}-fold cross-validation on train+validation:")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    fm = final_model(args.results_dir, args.out, args.trial, args.by)
    s = fm.evaluation.metrics.summary()
    print(f"\ntrial {fm.trial_id} retrained for {fm.epochs} epochs on train+validation; on the test set:")
    print("  " + "  ".join(f"{k} {v:.4f}" for k, v in s.items()))
    print(f"bundle: {fm.bundle}\npredict with: hpsearch predict {fm.bundle} IMAGE...")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from analysis.predict import predict_files

    for p in predict_files(args.bundle, args.images):
        print(f"{p.path}\t{p.name}\t{p.probability:.4f}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from spaces import resolve_space

    from .config import load_config
    from .space_check import check_space
    from .weights_check import missing_weights

    cfg = load_config(args.experiment, args.set)
    space = resolve_space(cfg.space, Path(args.experiment).parent)
    check_space(space)
    for problem in missing_weights(space, cfg.pretrained_weights):
        print(f"warning: {problem}", file=sys.stderr)
    print(f"{args.experiment}: valid ({cfg.budget.num_samples} trials, space {space.name!r}, "
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
    fn.add_argument("--by", choices=["best", "last"], default="best", help="rank by best epoch or last epoch")
    fn.add_argument("--folds", type=int, metavar="K", help="first cross-validate the top configs with K stratified folds")
    fn.add_argument("--cv-top", type=int, default=3, metavar="N", help="configs to cross-validate (with --folds)")
    fn.set_defaults(fn=cmd_final)


def _add_predict(sub: _Sub) -> None:
    pr = sub.add_parser("predict", help="classify image files with a bundle made by `hpsearch final`")
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
_COMMANDS = [_add_run, _add_resume, _add_status, _add_leaderboard, _add_report, _add_final, _add_predict,
             _add_validate, _add_spaces, _add_data]


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
