"""The `zoo` command and the reversal application, as a user runs them."""

import json
import os
import subprocess
import sys

import keras
import pytest

from applications import cli, tasks


def test_list_and_describe(capsys):
    assert cli.main(["list", "*autoencoder*"]) == 0
    out = capsys.readouterr().out
    assert "dense_autoencoder_toy" in out and "lstm_seq2seq" not in out
    assert cli.main(["describe", "lstm_seq2seq"]) == 0
    assert "latent_dim = 256" in capsys.readouterr().out


def test_errors_exit_2_with_the_reason(capsys):
    assert cli.main(["describe", "lstm_seq2sq"]) == 2
    assert "Did you mean 'lstm_seq2seq'" in capsys.readouterr().err
    assert cli.main(["run", "nonsense"]) == 2
    assert "Available tasks: reversal" in capsys.readouterr().err
    assert cli.main(["run", "reversal", "--model", "dense_autoencoder"]) == 2
    assert "Compatible models: attention_seq2seq, gru_seq2seq, lstm_seq2seq" in \
        capsys.readouterr().err
    assert cli.main(["run", "reversal", "--epochs", "0"]) == 2
    assert "Received: epochs=0" in capsys.readouterr().err


def test_console_entry_point_runs_in_a_fresh_process():
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    result = subprocess.run([sys.executable, "-m", "applications", "list", "lstm_s*"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "lstm_seq2seq"


def test_reversal_run_writes_metrics_and_model_and_never_overwrites(tmp_path):
    out = tmp_path / "run"
    metrics = tasks.run_reversal(epochs=1, out=out, train_size=256, test_size=16, verbose=0)
    assert metrics["backend"] == keras.backend.backend()
    assert 0.0 <= metrics["heldout_exact_match"] <= 1.0
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["heldout_exact_match"] == metrics["heldout_exact_match"]
    assert keras.saving.load_model(out / "model.keras").zoo_name == "lstm_seq2seq"
    before = (out / "metrics.json").read_bytes()
    with pytest.raises(FileExistsError, match=rf"Received: out='{out}'$"):
        tasks.run_reversal(epochs=1, out=out, train_size=64, test_size=8, verbose=0)
    assert (out / "metrics.json").read_bytes() == before


def test_backend_flag_cannot_switch_a_running_keras():
    other = "jax" if keras.backend.backend() != "jax" else "torch"
    with pytest.raises(SystemExit, match="already running"):
        cli.main(["--backend", other, "list"])
