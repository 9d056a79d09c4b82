"""Runs sharing a run directory (issue 15): the directory is claimed before any work, so
of two runs given the same ``--out`` exactly one proceeds and the other fails at once,
leaving nothing there; a run that fails early gives the directory back."""

import json
import threading
import warnings

import keras
import pytest

from applications import cli, tasks
from applications.tasks import base
from zoo import files

JIT = False if keras.backend.backend() == "tensorflow" else "auto"
TINY_RUN = ["--epochs", "1", "--limit", "16", "--batch-size", "16", "--quiet",
            "--set", "hidden_units=(4,)", "--set", "code_size=2", "--set", f"jit_compile={JIT!r}"]


def test_two_runs_given_the_same_out_exactly_one_proceeds(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    # Both runs pass the emptiness check before either claims (the race of issue 15:
    # "two `zoo run --out SAME` started a second apart both pass the check").
    both_checked = threading.Barrier(2, timeout=60)
    real_check = base.check_run_dir

    def check_then_wait(*args, **kwargs):
        checked = real_check(*args, **kwargs)
        both_checked.wait()
        return checked

    monkeypatch.setattr(base, "check_run_dir", check_then_wait)
    statuses = {}

    def run(name):
        statuses[name] = cli.main(["run", "denoising", "--out", str(out), *TINY_RUN])

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    with warnings.catch_warnings():  # each main() swaps the warning printer; restore it all
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    assert sorted(statuses.values()) == [0, 2], statuses
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("zoo")]
    assert len(errors) == 1
    assert "claimed by another zoo process" in errors[0] and str(out) in errors[0]
    # Only the winner's files, one marker, one metrics.json.
    assert sorted(path.name for path in out.iterdir()) == [
        files.MARKER, "denoising.png", "metrics.json", "model.keras", "model.keras.sha256",
        "training_curves.png"]
    marker = files.owner(out)
    assert marker["kind"] == tasks.RUN_KIND and marker["task"] == "denoising"
    assert json.loads((out / "metrics.json").read_text())["task"] == "denoising"


def test_many_claims_of_one_directory_have_one_winner(tmp_path):
    for round_ in range(10):
        out = tmp_path / f"run{round_}"
        start = threading.Barrier(8, timeout=30)
        results = []

        def claim():
            start.wait()
            try:
                results.append(tasks.prepare_run_dir(out, "denoising", "dense_autoencoder"))
            except FileExistsError as error:
                results.append(error)

        threads = [threading.Thread(target=claim) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [result for result in results if not isinstance(result, Exception)]
        assert len(winners) == 1 and len(results) == 8
        assert [path.name for path in out.iterdir()] == [files.MARKER]


def test_a_default_run_directory_taken_meanwhile_gets_a_suffix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(base, "_default_run_dir",
                        lambda task, model: tmp_path / "runs" / f"{task}_{model}_20261201-0300")
    first = tasks.prepare_run_dir(None, "denoising", "dense_autoencoder")
    second = tasks.prepare_run_dir(None, "denoising", "dense_autoencoder")
    assert first.name == "denoising_dense_autoencoder_20261201-0300"
    assert second.name == "denoising_dense_autoencoder_20261201-0300-2"
    assert files.owner(first)["token"] != files.owner(second)["token"]


def test_a_given_out_is_never_shared_even_when_empty_and_claimed(tmp_path):
    out = tasks.prepare_run_dir(tmp_path / "run", "denoising", "dense_autoencoder")
    with pytest.raises(FileExistsError, match="already claimed by another zoo process"):
        tasks.prepare_run_dir(out, "denoising", "dense_autoencoder")
    with pytest.raises(FileExistsError, match="is not empty"):
        (out / "mine.txt").write_text("x")
        tasks.check_run_dir(out, "denoising", "dense_autoencoder")


def test_a_run_that_fails_before_writing_gives_the_directory_back(tmp_path, monkeypatch):
    def no_data(*args, **kwargs):
        raise RuntimeError("the data went away")

    monkeypatch.setattr(base.Task, "load", no_data)
    made = tmp_path / "made"
    with pytest.raises(RuntimeError, match="the data went away"):
        tasks.run_task("denoising", out=made, verbose=0)
    assert not made.exists()  # the run made it: removed
    given = tmp_path / "given"
    given.mkdir()
    with pytest.raises(RuntimeError, match="the data went away"):
        tasks.run_task("denoising", out=given, verbose=0)
    assert given.is_dir() and list(given.iterdir()) == []  # the user's: kept, as it was
    # A directory the run wrote into is kept (with its marker).
    (given / "partial.png").write_bytes(b"x")
    files.write_new_text(given / files.MARKER, "{}")
    assert not tasks.release_run_dir(given, created=True)
    assert sorted(path.name for path in given.iterdir()) == [files.MARKER, "partial.png"]
