"""Resume that loses nothing: damaged state files, damaged checkpoints, moved folders, ASHA after resume."""
from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import pytest
import yaml

from analysis import load_experiment
from search.cli import main
from search.experiment_dir import read_results
from tests.search_tests.test_kill_resume import cli, kill_search, recorded, terminated


def experiment_yaml(tmp: Path, fashion_dir: Path, name: str, samples: int, epochs: int, grace: int,
                    images: int = 2000) -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "storage": str(tmp / "results"), "space": "lenet5",
        "dataset": {"name": "fashion_mnist", "data_dir": str(fashion_dir), "train_subset": images, "val_fraction": 0.2},
        "budget": {"num_samples": samples, "max_epochs": epochs, "grace_period": grace, "reduction_factor": 2},
        "search": {"seed": 3}, "resources": {"cpus_per_trial": 1, "max_concurrent": 1},
    }))
    return path


def run_and_kill(exp_yaml: Path, exp: Path, when) -> None:
    proc = cli("run", str(exp_yaml))
    deadline = time.time() + 300
    while not when(exp):
        assert proc.poll() is None, proc.stdout.read()
        assert time.time() < deadline
        time.sleep(0.2)
    kill_search(proc, exp)


def resume(exp: Path) -> str:
    proc = cli("resume", str(exp))
    out, _ = proc.communicate(timeout=400)
    assert proc.returncode == 0, out
    return out


def running_with_checkpoint(exp: Path) -> list[Path]:
    """Folders with a checkpoint of the trials Ray's record shows running (a resume continues these)."""
    status = recorded(exp)
    return [d for d in exp.glob("trial_*") if status.get(d.name.removeprefix("trial_")) in ("RUNNING", "PENDING")
            and list(d.glob("checkpoint_*"))]


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory, fashion_dir) -> Path:
    """4 sequential trials of 3 epochs; SIGKILLed once the second trial has checkpointed an epoch.

    8,000 images: an epoch takes about a second, so Ray's record (saved every second) catches a trial running
    with a checkpoint; at 2,000 the whole search could end between two records.
    """
    tmp = tmp_path_factory.mktemp("interrupted")
    exp = tmp / "results" / "inter"
    run_and_kill(experiment_yaml(tmp, fashion_dir, "inter", 4, 3, 3, images=8000), exp,
                 lambda e: len(terminated(e)) >= 1 and running_with_checkpoint(e))
    return exp


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
@pytest.mark.parametrize("pattern", ["experiment_state-*.json", "searcher-state-*.pkl"])
def test_damaged_state_file_fails_fast_naming_it_and_changes_nothing(interrupted, tmp_path, capsys, pattern):
    exp = tmp_path / "copy"
    shutil.copytree(interrupted, exp)
    victim = sorted(exp.glob(pattern))[-1]
    victim.write_bytes(victim.read_bytes()[: len(victim.read_bytes()) // 2])
    before = snapshot(exp)
    t0 = time.perf_counter()
    code = main(["resume", str(exp)])
    elapsed = time.perf_counter() - t0
    err = capsys.readouterr().err
    assert code == 2 and elapsed < 5, (code, elapsed)
    assert str(victim) in err and "Nothing was changed" in err
    assert snapshot(exp) == before


@pytest.mark.slow
def test_moved_folder_with_a_damaged_checkpoint_resumes_in_its_new_place(interrupted, tmp_path):
    exp = tmp_path / "moved" / "elsewhere"
    shutil.copytree(interrupted, tmp_path / "staging")
    shutil.move(str(tmp_path / "staging"), str(exp))  # a moved folder: the original path no longer exists
    running = running_with_checkpoint(exp)
    assert running
    victim_trial = running[0]
    for checkpoint in victim_trial.glob("checkpoint_*/state.pt"):  # whichever one Ray restores from
        checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    epochs_before = [r["epoch"] for r in read_results(victim_trial / "result.json")]
    original = snapshot(interrupted)  # the folder the search was launched in (its state names it)
    resume(exp)
    assert not (tmp_path / "staging").exists()
    assert snapshot(interrupted) == original, "a resumed copy wrote into the original folder"
    table = load_experiment(exp).trials
    assert len(table) == 4 and set(table["ended"]) == {"completed"}, table[["trial_id", "ended", "epochs", "status"]]
    # (a folder of a trial the killed driver started but Ray never recorded is left out, kept on disk)
    for d in (exp / f"trial_{t}" for t in table["trial_id"]):
        epochs = [r["epoch"] for r in read_results(d / "result.json")]
        assert epochs[-1] == 3, (d, epochs)
    # the damaged checkpoint could not be used: that trial restarted from scratch (with a warning)
    after = [r["epoch"] for r in read_results(victim_trial / "result.json")]
    assert after[: len(epochs_before)] == epochs_before and after[len(epochs_before)] == 1, after


@pytest.mark.slow
def test_asha_after_resume_spends_about_the_epochs_of_an_uninterrupted_search(tmp_path, fashion_dir):
    """Same seed, sequential trials: killed at 50% and resumed vs never interrupted (ASHA rungs replayed)."""
    def epochs_spent(exp: Path) -> int:
        return sum(len(read_results(p)) for p in exp.glob("trial_*/result.json"))

    whole_yaml = experiment_yaml(tmp_path, fashion_dir, "whole", 8, 4, 1)
    proc = cli("run", str(whole_yaml))
    out, _ = proc.communicate(timeout=400)
    assert proc.returncode == 0, out
    whole = epochs_spent(tmp_path / "results" / "whole")

    cut = tmp_path / "results" / "cut"
    run_and_kill(experiment_yaml(tmp_path, fashion_dir, "cut", 8, 4, 1), cut, lambda e: len(terminated(e)) >= 4)
    resume(cut)
    resumed = epochs_spent(cut)
    assert len(load_experiment(cut).trials) == 8
    print(f"epochs: uninterrupted {whole}, killed at 50% and resumed {resumed}")
    assert abs(resumed - whole) <= 0.15 * whole, (whole, resumed)
