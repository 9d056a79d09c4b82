"""The tuner under a careless or hostile user (issue 15): an existing --out, --no-resume on
folders the zoo did not make, `--project-name ..`, resumed searches with other data or
settings, files that are not .npz archives, trial errors hidden behind JAX's note, tracebacks
on the command line, and two searches on one folder.

Toy sizes throughout: a 6-feature dense autoencoder, one trial of one epoch.
"""

import argparse
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import threading
import tracemalloc
import zipfile

import keras
import numpy as np
import pytest

import tuner
import zoo
from tuner import cli, errors, project
from tuner.searcher import SearchResult
from zoo import files

ROOT = pathlib.Path(__file__).resolve().parents[2]
BACKEND = keras.backend.backend()
JIT = BACKEND == "jax"
DENSE = {"input_dim": 6, "jit_compile": JIT}
SPACE = {"depth": 1, "units_0": 4, "code_size": 2, "learning_rate": 1e-3}


def _arrays(n=32, seed=0, features=6):
    x = np.random.default_rng(seed).random((n, features)).astype("float32")
    return x, x


def _search(directory, train=None, validation=None, **kwargs):
    train = _arrays() if train is None else train
    validation = _arrays(16, 1) if validation is None else validation
    options = dict(max_trials=1, epochs=1, batch_size=32, directory=directory, overrides=DENSE,
                   hyperparameters=SPACE)
    options.update(kwargs)
    return tuner.search("dense_autoencoder", train, validation, **options)


def _parse(argv):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(argv)


def _npz(path, n=32, features=6):
    x, _ = _arrays(n, features=features)
    np.savez(path, x_train=x, y_train=x, x_val=x[:16], y_val=x[:16])
    return path


def _cli_args(data, directory, *extra):
    return ["dense_autoencoder", "--data", str(data), "--max-trials", "1", "--epochs", "1",
            "--batch-size", "32", "--directory", str(directory), "--quiet",
            "--hp", "depth=1", "--hp", "units_0=4", "--hp", "code_size=2",
            "--hp", "learning_rate=0.001", "--set", "input_dim=6",
            "--set", f"jit_compile={json.dumps(JIT)}", *extra]


def _one_line(err):
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err, err
    return lines[0]


def _snapshot(folder):
    """Every file and folder under ``folder`` with its bytes and modification time."""
    found = {}
    for path in sorted(pathlib.Path(folder).rglob("*")):
        info = path.stat()
        found[str(path.relative_to(folder))] = (
            path.read_bytes() if path.is_file() else None, info.st_mtime_ns)
    return found


def _users_folder(root):
    folder = root / "mine"
    (folder / "notes").mkdir(parents=True)
    (folder / "thesis.tex").write_text("two years of work")
    (folder / "notes" / "a.txt").write_text("keep me")
    return folder


def _trial_ids(project_dir):
    return sorted(path.name for path in pathlib.Path(project_dir).glob("trial_*"))


# --- 1. --out is never replaced silently -------------------------------------------------------

def test_an_existing_out_is_refused_before_the_search_starts(tmp_path, capsys, monkeypatch):
    data, runs = _npz(tmp_path / "data.npz"), tmp_path / "runs"
    out = tmp_path / "best.keras"
    out.write_bytes(b"the user's own model")
    assert cli.run(_parse(_cli_args(data, runs, "--out", str(out)))) == 2
    line = _one_line(capsys.readouterr().err)
    assert "already exists" in line and "--overwrite" in line and "Received:" in line
    assert out.read_bytes() == b"the user's own model"
    assert not runs.exists()  # refused before the search started: nothing claimed or trained
    # The API refuses it the same way (and its .sha256 too).
    with pytest.raises(FileExistsError, match=r"already exists; pass overwrite=True.*"
                                              r"Received: best_model_path='.*best\.keras'"):
        _search(runs, best_model_path=out)
    sidecar_only = tmp_path / "other.keras"
    (tmp_path / "other.keras.sha256").write_text("0" * 64)
    with pytest.raises(FileExistsError, match=r"other\.keras\.sha256' already exists"):
        _search(runs, best_model_path=sidecar_only)
    with pytest.raises(ValueError, match=r"\.keras file\. Received: best_model_path='.*\.h5'"):
        _search(runs, best_model_path=tmp_path / "best.h5")
    assert not runs.exists()

    # A folder that cannot be written is refused before the search too. (The tests may
    # run as root, for whom every folder is writable: the check is asked as a user would.)
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    read_only.chmod(0o555)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: (
        False if pathlib.Path(path) == read_only else real_access(path, mode, **kw)))
    assert cli.run(_parse(_cli_args(data, runs, "--out", str(read_only / "m.keras")))) == 2
    assert "not writable" in _one_line(capsys.readouterr().err)
    assert not runs.exists()
    monkeypatch.undo()
    read_only.chmod(0o755)

    # --overwrite replaces it with the best model.
    assert cli.run(_parse(_cli_args(data, runs, "--out", str(out), "--overwrite"))) == 0
    assert zoo.read_card(out)["zoo_name"] == "dense_autoencoder"
    assert zoo.load(out).count_params() > 0
    capsys.readouterr()
    # (The default path, <project>/best_model.keras, is the search's own: a resumed search
    # replaces it; test_tuner_search.py::test_search_saves_the_best_model_with_its_card.)


# --- 2. --no-resume deletes only what the zoo made; project_name is one folder name ------------

@pytest.mark.parametrize("name", ["..", ".", "", "a/b", "../mine", "a\\b", "a\0b", "/tmp"])
def test_project_name_must_be_one_plain_folder_name(tmp_path, name):
    runs = tmp_path / "runs"
    runs.mkdir()
    (tmp_path / "keep.txt").write_text("keep")
    before = _snapshot(tmp_path)
    for resume in (True, False):
        with pytest.raises(ValueError, match=r"one plain folder name.*"
                                             r"Received: project_name='"):
            _search(runs, project_name=name, resume=resume)
    assert _snapshot(tmp_path) == before  # the parent of --directory is untouched
    with pytest.raises(TypeError, match=r"Received: project_name=3"):
        _search(runs, project_name=3)


def test_zoo_tune_never_deletes_or_writes_into_a_users_folder(tmp_path, capsys):
    data = _npz(tmp_path / "data.npz")
    mine = _users_folder(tmp_path)
    before = _snapshot(tmp_path)
    # --no-resume used to delete it; resuming used to train into it.
    for extra, expected in ((["--no-resume"], "Refusing to delete"),
                            ([], "is not a zoo tune search"),
                            (["--project-name", ".."], "one plain folder name")):
        argv = _cli_args(data, tmp_path, "--project-name", "mine", *extra)
        assert cli.run(_parse(argv)) == 2, extra
        line = _one_line(capsys.readouterr().err)
        assert expected in line and "Received:" in line, line
        assert _snapshot(tmp_path) == before, extra
    # ... and through --directory too (`--directory mine/.. --project-name mine`).
    argv = _cli_args(data, mine / "..", "--project-name", "mine", "--no-resume")
    assert cli.run(_parse(argv)) == 2
    assert "Refusing to delete" in _one_line(capsys.readouterr().err)
    assert _snapshot(tmp_path) == before
    # A folder another zoo command owns is not a search either.
    run_dir = files.claim_directory(tmp_path / "a_run", "zoo run")
    (run_dir / "metrics.json").write_text("{}")
    for resume, match in ((True, r"belongs to 'zoo run', not to a zoo tune search"),
                          (False, r"Refusing to delete .*a_run")):
        with pytest.raises(ValueError, match=match):
            _search(tmp_path, project_name="a_run", resume=resume)
    assert (run_dir / "metrics.json").exists()
    # A distributed worker refuses to write into a folder that is not a search.
    with pytest.raises(ValueError, match=r"is not a zoo tune search.*Received: project_dir="):
        project.check_worker_directory(mine)


# --- 3. a search's identity: data, epochs, batch size, seed, ... ------------------------------

def test_resuming_with_other_data_or_settings_is_refused(tmp_path):
    train, validation = _arrays(), _arrays(16, 1)
    result = _search(tmp_path, train, validation, seed=3)
    project_dir = pathlib.Path(result.project_dir)
    assert files.owner(project_dir)["kind"] == "zoo tune search"
    saved = pathlib.Path(result.best_model_path).read_bytes()
    other_x = train[0].copy()
    other_x[0, 0] += 1.0  # one value differs
    changes = {
        "data": dict(train=(other_x, other_x)),
        "epochs": dict(epochs=2),
        "batch_size": dict(batch_size=16),
        "seed": dict(seed=4),
        "objective": dict(objective="loss"),
        "algorithm": dict(algorithm="bayesian"),
        "hyperparameters": dict(hyperparameters={**SPACE, "code_size": 3}),
        "overrides": dict(overrides={**DENSE, "output_activation": "linear"}),
        "executions_per_trial": dict(executions_per_trial=2),
        # Recorded only when used: absent from the first search's settings, still compared.
        "objectives": dict(objectives=["val_loss", "params"]),
    }
    for key, change in changes.items():
        kwargs = {"seed": 3, "train": train, "validation": validation, **change}
        with pytest.raises(ValueError, match=rf"was started with {key}=.*--no-resume.*"
                                             rf"--project-name.*Received: {key}="):
            _search(tmp_path, **kwargs)
    # Validation data is part of the identity too (and says what changed).
    with pytest.raises(ValueError, match=r"started with data='sha256:.*validation\.x "
                                         r"float32\[16, 6\].*Received: data='sha256:.*"
                                         r"validation\.x float32\[8, 6\]"):
        _search(tmp_path, train, _arrays(8, 1), seed=3)
    # Nothing ran, and the best model (and its card) is the first search's.
    assert _trial_ids(project_dir) == ["trial_0"]
    assert pathlib.Path(result.best_model_path).read_bytes() == saved
    # The same values resume (a Fortran-ordered copy and a new max_trials are the same search).
    same = (np.asfortranarray(train[0]), train[1].copy())
    again = _search(tmp_path, same, validation, seed=3, max_trials=1)
    assert again.trials == result.trials
    settings = json.loads((project_dir / project.SETTINGS_FILE).read_text())
    assert settings["epochs"] == 1 and settings["seed"] == 3 and settings["batch_size"] == 32
    assert settings["data"].startswith("sha256:")


def test_fingerprint_covers_dtype_shape_bytes_and_names_without_copying():
    x = np.arange(24, dtype="float32").reshape(8, 3)
    base = project.fingerprint((x, x), (x[:2], x[:2]))
    assert base == project.fingerprint((x.copy(), x.copy()), (x[:2].copy(), x[:2].copy()))
    changed = x.copy()
    changed[7, 2] = -1
    assert project.fingerprint((changed, x), (x[:2], x[:2])) != base
    assert project.fingerprint((x.view("int32"), x), (x[:2], x[:2])) != base  # same bytes
    assert project.fingerprint((x.reshape(4, 6), x), (x[:2], x[:2])) != base  # same bytes
    assert project.fingerprint((x[:2], x[:2]), (x, x)) != base  # train and validation swapped
    assert project.fingerprint((x, x)) != base  # no validation
    # Dict inputs: key order does not matter, key names do.
    a, b = np.zeros((4, 2), "int32"), np.ones((4, 1), "float32")
    assert project.fingerprint(({"a": a, "b": b}, b)) == project.fingerprint(({"b": b, "a": a}, b))
    assert project.fingerprint(({"a": a, "b": b}, b)) != project.fingerprint(({"a": b, "b": a}, b))
    # A dataset is not read: its type and the caller's description identify it.
    batches = (batch for batch in [(x, x)])
    text = project.fingerprint(batches, None, description="task reversal: digits, limit 64")
    assert "contents not fingerprinted" in text and "limit 64" in text
    # Hashed in place: a 64 MB array costs no copy; a strided view only a few rows at a time.
    big = np.ones((4096, 4096), "float32")
    big[-1, -1] = 2
    for array, copy_bytes in ((big, big.nbytes), (big[:, ::2], big.nbytes // 2)):
        tracemalloc.start()
        try:
            project.fingerprint((array, array[:1]))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < min(copy_bytes // 4, 2 * project._CHUNK), (array.shape, peak)
    assert project.fingerprint((big[:, ::2], big[:1])) == project.fingerprint(
        (np.ascontiguousarray(big[:, ::2]), big[:1].copy()))


def test_a_search_of_the_previous_release_is_resumed_but_never_deleted(tmp_path):
    train, validation = _arrays(), _arrays(16, 1)
    result = _search(tmp_path, train, validation)
    project_dir = pathlib.Path(result.project_dir)
    # What the previous release left: keras-tuner's files and a settings file without
    # format, data, epochs, batch size or seed, and no marker.
    (project_dir / files.MARKER).unlink()
    (project_dir / project.LOCK_FILE).unlink()
    settings_path = project_dir / project.SETTINGS_FILE
    settings = json.loads(settings_path.read_text())
    old_keys = ("model_name", "algorithm", "objective", "hyperparameters", "overrides")
    settings_path.write_text(json.dumps({key: settings[key] for key in old_keys}))
    assert project.is_legacy_search(project_dir)

    def state():  # all but the lock a refused call may take for a moment
        return {name: value for name, value in _snapshot(project_dir).items()
                if name != project.LOCK_FILE}

    before = state()
    with pytest.raises(ValueError, match=r"made by an earlier release .*does not delete it.*"
                                         r"Received: project_dir="):
        _search(tmp_path, train, validation, resume=False)
    with pytest.raises(ValueError, match=r"started with algorithm='random'.*"
                                         r"Received: algorithm='hyperband'"):
        _search(tmp_path, train, validation, algorithm="hyperband")
    assert state() == before
    with pytest.warns(UserWarning, match=r"earlier release.*not record direction, epochs, "
                                         r"batch_size, seed, executions_per_trial, data.*"
                                         r"recorded from now on"):
        again = _search(tmp_path, train, validation)
    assert again.trials == result.trials  # resumed: nothing ran again
    assert json.loads(settings_path.read_text())["data"] == settings["data"]
    # From now on the data is checked.
    with pytest.raises(ValueError, match=r"started with data="):
        _search(tmp_path, _arrays(seed=5), validation)


# --- 4. --data that is not an .npz archive -----------------------------------------------------

def _junk(tmp_path):
    cases = {}
    (tmp_path / "junk.npz").write_bytes(b"these are not arrays\n" * 10)
    cases["junk.npz"] = "not an .npz archive"
    (tmp_path / "empty.npz").write_bytes(b"")
    cases["empty.npz"] = "not an .npz archive"
    (tmp_path / "cut.npz").write_bytes(_npz(tmp_path / "whole.npz").read_bytes()[:300])
    cases["cut.npz"] = "not a readable .npz"
    np.save(tmp_path / "single.npy", np.zeros(3))
    os.replace(tmp_path / "single.npy", tmp_path / "single.npz")
    cases["single.npz"] = "a single .npy array"
    np.savez(tmp_path / "objects.npz", x_train=np.array([{"a": 1}, None], dtype=object),
             y_train=np.zeros(2))
    cases["objects.npz"] = "'x_train' holds Python objects"
    with zipfile.ZipFile(tmp_path / "member.npz", "w") as archive:
        archive.writestr("x_train.txt", "1 2 3")
    cases["member.npz"] = "is not a .npy array"
    (tmp_path / "folder.npz").mkdir()
    cases["folder.npz"] = "is a directory"
    cases["missing.npz"] = "does not exist"
    os.mkfifo(tmp_path / "fifo.npz")
    cases["fifo.npz"] = "not a regular file"
    return cases


def test_data_that_is_not_an_npz_archive_is_one_clear_line(tmp_path, capsys):
    for name, expected in _junk(tmp_path).items():
        path = tmp_path / name
        done = []
        # A FIFO used to block np.load forever: run in a thread, with a deadline.
        thread = threading.Thread(target=lambda: done.append(cli.run(_parse(
            ["dense_autoencoder", "--data", str(path), "--directory", str(tmp_path / "r")]))),
            daemon=True)
        thread.start()
        thread.join(60)
        assert done == [2], name
        line = _one_line(capsys.readouterr().err)
        assert expected in line, (name, line)
        assert f"--data '{path}'" in line and line.endswith(f"Received: --data='{path}'"), line
        assert "pickle" not in line, line
    with pytest.raises(ValueError, match=r"not a readable \.npz file of arrays \(not an \.npz "
                                         r"archive\)\. Received: --data='.*junk\.npz'"):
        cli.load_arrays(tmp_path / "junk.npz")
    with pytest.raises(FileNotFoundError, match=r"does not exist\. Received: --data="):
        cli.load_arrays(tmp_path / "missing.npz")
    # Key names are untrusted text.
    np.savez(tmp_path / "keys.npz", **{"x\x1b[2J": np.zeros(2)})
    with pytest.raises(ValueError, match=r"Received: keys=\['x\\x1b\[2J'\]"):
        cli.load_arrays(tmp_path / "keys.npz")
    assert not (tmp_path / "r").exists()


# --- 5. a failed trial names its real error ----------------------------------------------------

_JAX_TRACEBACK = """Traceback (most recent call last):
  File "/x/keras_tuner/src/engine/base_tuner.py", line 274, in _try_run_and_update_trial
    self._run_and_update_trial(trial, *fit_args, **fit_kwargs)
  File "/x/keras/src/layers/input_spec.py", line 256, in assert_input_compatibility
    raise ValueError(
ValueError: Input 0 with name 'features' of layer 'dense_autoencoder' is incompatible with \
the layer: expected shape=(None, 6), found shape=(32, 5)
--------------------
For simplicity, JAX has removed its internal frames from the traceback of the following \
exception. Set JAX_TRACEBACK_FILTERING=off to include these.
"""


def test_error_lines_skip_jax_notes_and_terminal_codes():
    # A trial message as keras-tuner wrote it (a search of the previous release).
    assert errors.trial_error(_JAX_TRACEBACK) == (
        "ValueError: Input 0 with name 'features' of layer 'dense_autoencoder' is incompatible "
        "with the layer: expected shape=(None, 6), found shape=(32, 5)")
    # Keras' layer errors: the cause is on the line after "Exception encountered".
    error = ValueError("Exception encountered when calling Dense.call().\n\n\x1b[1mDimensions "
                       "must be equal, but are 5 and 6\x1b[0m\n\nArguments received by ...")
    assert errors.describe(error) == ("ValueError: Exception encountered when calling "
                                      "Dense.call(): Dimensions must be equal, but are 5 and 6")
    assert errors.describe(KeyError()) == "KeyError"
    # Only the first line is shown (a carriage return cannot overwrite it), escaped.
    assert errors.one_line(ValueError("a\x07b\rforged\nsecond line")) == "a\\x07b"
    table = SearchResult("m", "val_loss", "min", None, None, None, None, None, None, [
        {"trial_id": "0", "status": "FAILED", "score": None, "hyperparameters": {"u": 4},
         "metrics": {}, "message": "ValueError: found shape=(32, 5)"},
        {"trial_id": "1", "status": "COMPLETED", "score": 0.5, "hyperparameters": {"u": 8},
         "metrics": {}, "message": None}], "p").table()
    assert table.splitlines()[0].split()[-1] == "error"
    assert "ValueError: found shape=(32, 5)" in table.splitlines()[1]


def test_a_shape_mismatch_is_reported_by_its_real_error(tmp_path, capsys):
    data = _npz(tmp_path / "five.npz", features=5)  # the model takes 6 features
    expected = r"ValueError: .*expected shape=\(None, 6\), found shape=\(\w+, 5\)"
    # One trial: "no trial completed".
    status = cli.run(_parse(_cli_args(data, tmp_path, "--project-name", "one")))
    assert status == 1
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("zoo tune: search failed: No trial of the search"), line
    assert "JAX" not in line
    assert __import__("re").search(rf"Received: last_error='{expected}'", line), line
    # Too many failures in a row: keras-tuner's own error carried the whole traceback.
    with pytest.raises(errors.SearchFailedError, match=r"stopped after 2 failed trials in a "
                                                       rf"row.*Received: last_error='{expected}"):
        _search(tmp_path, _arrays(features=5), _arrays(16, features=5), project_name="two",
                max_trials=3, max_consecutive_failed_trials=2,
                hyperparameters={**SPACE, "units_0": [4, 5, 7]})
    rows = list(__import__("csv").DictReader(
        (tmp_path / "two" / "trials.csv").read_text().splitlines()))
    assert [row["status"] for row in rows] == ["FAILED", "FAILED"]
    assert all(__import__("re").match(expected, row["message"]) for row in rows), rows


# --- 6. every command-line failure is one line ------------------------------------------------

@pytest.mark.parametrize("raised, status, expected", [
    (KeyboardInterrupt(), 130, "zoo tune: interrupted (the same command resumes the search)"),
    (errors.SearchFailedError("No trial completed.\nTraceback"), 1,
     "zoo tune: search failed: No trial completed."),
    (RuntimeError("\x1b[31mboom\x1b[0m\nsecond line"), 1, "zoo tune: error: RuntimeError: boom"),
    (OSError(28, "No space left on device"), 2, "zoo tune: error: [Errno 28] No space left on "
                                                "device"),
    (ZeroDivisionError("division by zero"), 1, "zoo tune: error: ZeroDivisionError: division "
                                               "by zero"),
    (ValueError("bad \x1b]0;title\x07value"), 2, "zoo tune: error: bad value"),
    (ValueError("raw \x08\x07 control"), 2, "zoo tune: error: raw \\x08\\x07 control"),
])
def test_every_cli_failure_is_one_line(tmp_path, capsys, monkeypatch, raised, status, expected):
    def failing(*args, **kwargs):
        raise raised

    monkeypatch.setattr("tuner.searcher.search", failing)
    monkeypatch.delenv(errors.TRACEBACK_VARIABLE, raising=False)
    args = _parse(["dense_autoencoder", "--toy", "--directory", str(tmp_path)])
    assert cli.run(args) == status
    assert _one_line(capsys.readouterr().err) == expected
    monkeypatch.setenv(errors.TRACEBACK_VARIABLE, "1")
    with pytest.raises(type(raised)):
        cli.run(args)


def test_python_m_tuner_with_a_backend_keras_cannot_start_is_one_line():
    env = dict(os.environ, KERAS_BACKEND="no-such-backend", PYTHONPATH=str(ROOT))
    env.pop(errors.TRACEBACK_VARIABLE, None)
    done = subprocess.run([sys.executable, "-m", "tuner", "dense_autoencoder", "--toy"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    line = [line for line in done.stderr.splitlines() if line.startswith("python -m tuner")]
    assert len(line) == 1 and "Received: backend='no-such-backend'" in line[0], done.stderr
    assert "Traceback" not in done.stderr


# --- 7. two searches on one folder ------------------------------------------------------------

def test_two_searches_started_at_the_same_moment_get_one_folder(tmp_path, monkeypatch):
    real_claim = files.claim_directory
    both_there = threading.Barrier(2, timeout=60)

    def claim_together(*args, **kwargs):
        both_there.wait()  # both reach the claim at the same moment
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(files, "claim_directory", claim_together)
    outcomes = {}

    def run(name, seed):
        try:
            outcomes[name] = _search(tmp_path, _arrays(seed=seed), project_name="shared")
        except Exception as error:  # noqa: BLE001 - the test sorts them out below
            outcomes[name] = error

    threads = [threading.Thread(target=run, args=(name, seed))
               for name, seed in (("a", 1), ("b", 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(240)
    won = [name for name, outcome in outcomes.items() if isinstance(outcome, SearchResult)]
    lost = [outcome for outcome in outcomes.values() if isinstance(outcome, Exception)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert isinstance(lost[0], FileExistsError), repr(lost[0])
    assert "another zoo tune search at the same moment" in str(lost[0]), lost[0]
    # The winner's search is whole, and only the winner's.
    project_dir = tmp_path / "shared"
    winner = outcomes[won[0]]
    assert _trial_ids(project_dir) == ["trial_0"]
    assert [row["status"] for row in winner.trials] == ["COMPLETED"]
    settings = json.loads((project_dir / project.SETTINGS_FILE).read_text())
    seed = {"a": 1, "b": 2}[won[0]]
    assert settings["data"] == project.fingerprint(_arrays(seed=seed), _arrays(16, 1))
    assert zoo.load(winner.best_model_path, sha256=winner.best_model_sha256)


def test_a_running_search_is_neither_resumed_nor_deleted_by_another(tmp_path):
    attempts = {}

    class Intruders(keras.callbacks.Callback):
        # While the search runs, two more start on its folder: one resumes, one starts over.
        def on_train_begin(self, logs=None):
            for resume in (True, False):
                try:
                    _search(tmp_path, resume=resume)
                except Exception as error:  # noqa: BLE001
                    attempts[resume] = error

    result = _search(tmp_path, callbacks=[Intruders()])
    assert set(attempts) == {True, False}
    for error in attempts.values():
        assert isinstance(error, FileExistsError), repr(error)
        assert "is being run by another process (process " in str(error)
        assert "Received: project_dir=" in str(error)
    assert [row["status"] for row in result.trials] == ["COMPLETED"]
    assert _trial_ids(result.project_dir) == ["trial_0"]
    # Once it has returned, the folder is free again (the lock went with the process).
    project.lock_project(result.project_dir).release()


def test_the_data_fingerprint_is_a_plain_sha256():
    # The data fingerprint is a plain SHA-256 over names, dtypes, shapes and bytes: a user
    # can tell which data a search was run on from its zoo_search.json.
    x = np.arange(6, dtype="float32").reshape(2, 3)
    digest = project.fingerprint((x, x)).split()[0]
    hasher = hashlib.sha256()
    for name in ("train.x", "train.y"):
        hasher.update(f"\0{name}\0".encode())
        hasher.update(f"{x.dtype.str}{x.shape}\0".encode())
        hasher.update(x.tobytes())
    hasher.update(b"\0validation\0None")
    assert digest == f"sha256:{hasher.hexdigest()}"
