"""The `zoo` command and the reversal application, as a user runs them."""

import os
import subprocess
import sys

import keras
import pytest

import zoo
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
    assert "Available tasks: anomaly, denoising, dim_reduction" in capsys.readouterr().err
    assert cli.main(["run", "reversal", "--model", "dense_autoencoder"]) == 2
    assert ("Compatible models: attention_seq2seq, gru_seq2seq, lstm_seq2seq, "
            "transformer_seq2seq") in capsys.readouterr().err
    assert cli.main(["run", "reversal", "--epochs", "0"]) == 2
    assert "Received: epochs=0" in capsys.readouterr().err


def test_console_entry_point_runs_in_a_fresh_process():
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    result = subprocess.run([sys.executable, "-m", "applications", "list", "lstm_s*"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "lstm_seq2seq"


def test_run_reversal_is_the_reversal_task(tmp_path):
    # The run itself is tested with every task in test_applications.py.
    with pytest.raises(ValueError, match="Received: epochs=0"):
        tasks.run_reversal(epochs=0, out=tmp_path / "run")
    with pytest.raises(ValueError, match="'reversal' has no dataset 'dates'"):
        tasks.run_reversal(dataset="dates", out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_backend_flag_cannot_switch_a_running_keras():
    other = "jax" if keras.backend.backend() != "jax" else "torch"
    with pytest.raises(SystemExit, match="already running"):
        cli.main(["--backend", other, "list"])


def test_inspect_prints_card_hash_and_verdict(tmp_path, capsys):
    import json

    import zoo

    path = tmp_path / "ae.keras"
    digest = zoo.save(zoo.build("dense_autoencoder_toy"), path, metadata={"dataset": "toy"})
    assert cli.main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"sha256:    {digest}  (match)" in out
    assert "verdict:   safe to load" in out and "dense_autoencoder_toy" in out
    assert cli.main(["inspect", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["card"]["dataset"] == "toy"
    assert cli.main(["inspect", str(path), "--sha256", "0" * 64]) == 3
    assert "verdict:   refused: SHA-256 mismatch" in capsys.readouterr().out
    assert cli.main(["inspect", str(tmp_path / "missing.keras")]) == 2
    assert "missing.keras" in capsys.readouterr().err


def _outputs(argvs, capsys):
    results = []
    for argv in argvs:
        status = cli.main(argv)
        captured = capsys.readouterr()
        results.append((status, captured.out, captured.err))
    return results


def test_zoo_list_and_describe_print_the_same_from_the_catalogue_and_the_registry(
        monkeypatch, capsys):
    argvs = [["list"], ["list", "*autoencoder*"], ["list", "--family", "graph"],
             ["list", "*", "--task", "reconstruction", "--family", "autoencoder"],
             ["list", "--family", "graphs"], ["list", "--task", "nope"],
             ["describe", "lstm_seq2seq"], ["describe", "gcn"], ["describe", "lstm_seq2sq"]]
    fast = _outputs(argvs, capsys)
    monkeypatch.setattr(cli, "_catalogue", lambda: (None, None))  # the registry answers
    slow = _outputs(argvs, capsys)
    assert fast == slow
    assert fast[0][0] == 0 and len(fast[0][1].splitlines()) == len(zoo.list_models())
    assert fast[4][0] == 2 and "Received: family='graphs'" in fast[4][2]
    assert fast[8][0] == 2 and "Did you mean 'lstm_seq2seq'" in fast[8][2]
