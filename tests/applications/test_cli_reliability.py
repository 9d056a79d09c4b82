"""The `zoo` command as a careless or hostile user meets it (issue 15): every failure one
line and a non-zero status, outputs checked before any work and never replaced, data paths
named when they are wrong, untrusted text escaped, and a quiet, fast start-up."""

import json
import os
import pathlib
import subprocess
import sys

import keras
import pytest

import zoo
from applications import cli, compare
from applications.tasks import base

ROOT = pathlib.Path(__file__).resolve().parents[2]
# What must never reach a terminal raw: ESC, BEL, CR, a bidi override.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J"
RAW = ("\x1b", "\x07", "\r", "\u202e")


def _one_line(text):
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    assert not any(char in text for char in RAW), repr(text)
    return lines[0]


def _never(*args, **kwargs):
    raise AssertionError("work started although the command should have failed first")


# --- every failure is one line -----------------------------------------------------------------


@pytest.mark.parametrize("error, status, shown", [
    (OSError(28, "No space left on device"), 2, "zoo: error: [Errno 28] No space left on device"),
    (RuntimeError("search failed"), 1, "zoo: error: RuntimeError: search failed"),
    (KeyError("x_train"), 1, "zoo: error: KeyError: 'x_train'"),
    (ValueError("Exception encountered when calling Dense.call().\n\nIncompatible shapes"),
     2, "zoo: error: Exception encountered when calling Dense.call(). [1 more line(s); "
        "ZOO_TRACEBACK=1 shows them]"),
    (ValueError(f"bad name {HOSTILE}\u202eexe"), 2,
     r"zoo: error: bad name \x1b]0;pwned\x07\x1b[2J\u202eexe"),
    (ZeroDivisionError(), 1, "zoo: error: ZeroDivisionError"),
])
def test_any_exception_is_one_printable_line_and_a_non_zero_status(monkeypatch, capsys, error,
                                                                    status, shown):
    def fail(args):
        raise error

    monkeypatch.delenv(cli.TRACEBACK_ENV, raising=False)
    monkeypatch.setattr(cli, "_dispatch", fail)
    assert cli.main(["inspect", "x.keras"]) == status
    captured = capsys.readouterr()
    assert _one_line(captured.err) == shown
    assert captured.out == ""


def test_long_messages_are_bounded(monkeypatch, capsys):
    monkeypatch.setattr(cli, "_dispatch", lambda args: (_ for _ in ()).throw(
        ValueError("y" * 50_000)))
    assert cli.main(["inspect", "x.keras"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert len(line) < cli.MESSAGE_LIMIT + 100 and line.endswith("(49000 more characters)")


def test_interrupt_is_one_line_and_status_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.delenv(cli.TRACEBACK_ENV, raising=False)
    monkeypatch.setattr(cli, "_dispatch", interrupted)
    assert cli.main(["inspect", "x.keras"]) == 130
    assert capsys.readouterr().err == "zoo: interrupted\n"


def test_zoo_traceback_re_raises_for_debugging(monkeypatch, capsys):
    monkeypatch.setattr(cli, "_dispatch", lambda args: {}["no such key"])
    monkeypatch.setenv(cli.TRACEBACK_ENV, "1")
    with pytest.raises(KeyError, match="no such key"):
        cli.main(["inspect", "x.keras"])
    monkeypatch.setenv(cli.TRACEBACK_ENV, "0")
    assert cli.main(["inspect", "x.keras"]) == 1
    assert "ZOO_TRACEBACK=1" in cli._parser(None).format_help()


def test_usage_errors_are_one_line(capsys):
    for argv in (["run"], ["--backend", "\u202eflow", "list"],
                 ["run", "reversal", "--epochs", "\x1b[2Jten"]):
        with pytest.raises(SystemExit) as stopped:
            cli.main(argv)
        assert stopped.value.code == 2
        line = _one_line(capsys.readouterr().err)
        assert line.startswith("zoo") and ": error: " in line and "--help" in line


# --- outputs are checked before any work and never replaced -----------------------------------


def _read_only(monkeypatch, folder):
    """``folder`` refuses writes (chmod, and os.access too: chmod does not stop root)."""
    folder.chmod(0o555)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if os.fspath(path) == str(folder)
                        else real_access(path, mode))


def test_run_into_a_read_only_folder_fails_before_any_data_is_loaded(tmp_path, monkeypatch,
                                                                      capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    _read_only(monkeypatch, folder)
    monkeypatch.setattr(base.Task, "load", _never)
    try:
        for out in (folder / "run", folder):  # a new run directory in it, or it
            assert cli.main(["run", "denoising", "--out", str(out)]) == 2
            line = _one_line(capsys.readouterr().err)
            assert "is not writable" in line and f"Received: out='{out}'" in line
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_run_out_that_is_a_file_or_not_empty_fails_before_any_data_is_loaded(tmp_path,
                                                                              monkeypatch,
                                                                              capsys):
    monkeypatch.setattr(base.Task, "load", _never)
    taken = tmp_path / "taken"
    taken.write_text("mine")
    assert cli.main(["run", "denoising", "--out", str(taken)]) == 2
    assert "exists and is not a directory" in _one_line(capsys.readouterr().err)
    assert cli.main(["run", "denoising", "--out", str(taken / "run")]) == 2
    assert "is a file" in _one_line(capsys.readouterr().err)
    assert taken.read_text() == "mine"


def test_compare_json_is_checked_before_training_and_never_replaced(tmp_path, monkeypatch,
                                                                    capsys):
    monkeypatch.setattr(compare, "compare", _never)
    argv = ["compare", "dense_autoencoder", "--task", "reconstruction", "--json"]
    existing = tmp_path / "rows.json"
    existing.write_text("[]")
    assert cli.main(argv + [str(existing)]) == 2
    assert "already exists" in _one_line(capsys.readouterr().err)
    assert existing.read_text() == "[]"
    assert cli.main(argv + [str(tmp_path)]) == 2  # a directory
    assert "is a directory" in _one_line(capsys.readouterr().err)
    folder = tmp_path / "ro"
    folder.mkdir()
    _read_only(monkeypatch, folder)
    try:
        assert cli.main(argv + [str(folder / "rows.json")]) == 2
        assert "is not writable" in _one_line(capsys.readouterr().err)
    finally:
        folder.chmod(0o755)


def test_compare_json_that_appears_during_training_is_not_replaced(tmp_path, monkeypatch,
                                                                  capsys):
    path = tmp_path / "rows.json"

    def train(models, task, **kwargs):  # someone writes the file meanwhile
        path.write_text("theirs")
        row = {"model": models[0], "family": "autoencoder", "task": task, "dataset": "d",
               "metric": "mse", "value": 0.5, "higher_is_better": False, "params": 10,
               "train_seconds": 1.0, "epochs": 1, "epochs_run": 1, "stopped_by_budget": False,
               "latency_ms": 0.5, "latency_batch": 1, "best": True}
        return [row]

    monkeypatch.setattr(compare, "compare", train)
    assert cli.main(["compare", "dense_autoencoder", "--task", "reconstruction",
                     "--json", str(path)]) == 2
    assert "nothing was replaced" in _one_line(capsys.readouterr().err)
    assert path.read_text() == "theirs"


# --- data paths --------------------------------------------------------------------------------


def test_tune_data_that_is_missing_a_directory_a_fifo_or_junk_is_named_in_one_line(
        tmp_path, capsys):
    junk = tmp_path / f"junk{HOSTILE}.npz"
    junk.write_bytes(b"\x80\x04not an archive")
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    cases = [(tmp_path / "missing.npz", "does not exist"), (tmp_path, "is a directory"),
             (fifo, "is not a regular file"),  # would block forever if read
             (junk, "is not an .npz archive")]
    for path, reason in cases:
        assert cli.main(["tune", "dense_autoencoder", "--data", str(path)]) == 2
        line = _one_line(capsys.readouterr().err)
        assert reason in line and "Received: --data=" in line
        assert "pickle" not in line
    assert r"junk\x1b]0;pwned\x07\x1b[2J.npz" in line


def test_data_dir_that_is_a_file_fails_before_the_run_directory_is_made(tmp_path, monkeypatch,
                                                                        capsys):
    monkeypatch.setattr(base.Task, "load", _never)
    data_dir = tmp_path / "tfds"
    data_dir.write_text("not a folder")
    out = tmp_path / "run"
    assert cli.main(["run", "denoising", "--data-dir", str(data_dir), "--out", str(out)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert f"is a file, not a directory. Received: data_dir='{data_dir}'" in line
    assert not out.exists()
    with pytest.raises(NotADirectoryError, match="is a file, not a directory"):
        base.check_data_dir(data_dir)
    with pytest.raises(NotADirectoryError, match="is a file, not a directory"):
        compare.compare(["dense_autoencoder"], "reconstruction", data_dir=str(data_dir))


# --- untrusted text ----------------------------------------------------------------------------


def test_inspect_never_prints_a_cards_escape_sequences_raw(tmp_path, capsys):
    path = tmp_path / f"card{HOSTILE}.keras"  # the file name is untrusted too
    zoo.save(zoo.build("dense_autoencoder_toy"), path,
             metadata={"dataset": HOSTILE, "note": HOSTILE})
    assert cli.main(["inspect", str(path)]) == 0
    text = capsys.readouterr().out
    assert not any(char in text for char in RAW), repr(text)
    assert "pwned" in text  # shown, visibly escaped
    assert cli.main(["inspect", str(path), "--json"]) == 0
    text = capsys.readouterr().out
    assert not any(char in text for char in RAW) and text.isascii()
    report = json.loads(text)
    assert report["path"] == str(path) and report["card"]["dataset"] == HOSTILE  # not altered


def test_terminal_safe_escapes_controls_once():
    assert cli.terminal_safe("a\x1b[2Jb\nc\\x1b") == "a\\x1b[2Jb\\nc\\x1b"
    assert cli.terminal_safe("a\nb\u2028", keep="\n") == "a\nb\\u2028"


# --- start-up ----------------------------------------------------------------------------------


def test_native_stderr_is_silenced_only_inside_the_block(monkeypatch, capfd):
    monkeypatch.delenv(cli.TRACEBACK_ENV, raising=False)
    with cli.native_stderr_silenced():
        os.write(2, b"I0000 cudart_stub.cc:31] Could not find cuda drivers\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"
    monkeypatch.setenv(cli.TRACEBACK_ENV, "1")  # debugging: keep everything
    with cli.native_stderr_silenced():
        os.write(2, b"kept\n")
    assert capfd.readouterr().err == "kept\n"


def _zoo(*argv, backend, timeout=300):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("TF_CPP", "PYTEST", "ZOO_TRACEBACK"))}
    env["KERAS_BACKEND"] = backend
    return subprocess.run([sys.executable, "-m", "applications", *argv], capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=ROOT)


def test_list_and_describe_answer_without_starting_keras():
    probe = ("import sys; from applications.cli import main; "
             "assert main(['list', '*vae*']) == 0; assert main(['describe', 'vae']) == 0; "
             "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') "
             "if m in sys.modules))")
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env=env, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines()[-1] == "[]"
    assert "beta_vae" in result.stdout and "vae  (autoencoder / reconstruction)" in result.stdout


def test_a_command_that_starts_tensorflow_prints_only_its_own_line():
    # `run` imports Keras and TensorFlow (the data pipelines) on every backend; TensorFlow's
    # C++ start-up lines (absl, oneDNN, cuInit/cudart) used to come twice, whatever
    # TF_CPP_MIN_LOG_LEVEL said. On the TensorFlow backend the process imports only it.
    result = _zoo("run", "no_such_task", backend="tensorflow")
    assert result.returncode == 2
    assert result.stdout == ""
    assert _one_line(result.stderr).startswith("zoo: error: Unknown task 'no_such_task'.")
