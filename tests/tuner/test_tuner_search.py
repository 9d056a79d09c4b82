"""The keras-tuner layer (issue 8): space edits, search, failures, memory,
crash-safe resume, distributed chief/worker mode and the command line.

Everything runs at toy size: a 6-feature dense autoencoder on 64 random rows
unless a test needs another family.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import keras
import keras_tuner
import numpy as np
import pytest

import tuner
import zoo
from tuner import cli, state
from tuner.searcher import RequireObjective

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BACKEND = keras.backend.backend()
# XLA on CPU costs more than it saves for these tiny models, except on JAX,
# where a model that is not jitted runs op by op.
JIT = BACKEND == "jax"
DENSE = {"input_dim": 6, "jit_compile": JIT}
SMALL_SPACE = {"depth": 1, "units_0": (4, 8), "code_size": (2, 4)}


def _arrays(n=64, seed=0):
    x = np.random.default_rng(seed).random((n, 6)).astype("float32")
    return x, x


def _rss_mb():
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def _trial_files(project_dir):
    trials = {}
    for name in sorted(os.listdir(project_dir)):
        path = os.path.join(project_dir, name, "trial.json")
        if name.startswith("trial_") and os.path.exists(path):
            with open(path) as handle:
                trial = json.load(handle)
            trials[trial["trial_id"]] = trial
    return trials


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(**extra):
    env = dict(os.environ, KERAS_BACKEND=BACKEND, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for key in ("KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID"):
        env.pop(key, None)
    env.update(extra)
    return env


# --- the hypermodel over the registry ----------------------------------------------------------

def test_every_registered_model_has_a_working_space():
    # Every entry: the space declares, its values are zoo.build parameters,
    # and toy sizes given as overrides win. The families no other test here
    # searches get one build each (the registry tests build every model).
    built = set()
    for name in zoo.list_models():
        spec = zoo.get_spec(name)
        hypermodel = tuner.ZooHyperModel(name, overrides=spec.toy)
        hp = keras_tuner.HyperParameters()
        hypermodel.declare_hyperparameters(hp)
        declared = hypermodel.declared_space()
        assert declared and set(declared) <= set(hp.values), name
        params = hypermodel.params(hp)
        zoo.registry.resolve_params(name, params)  # unknown keys raise
        assert {key: params[key] for key in spec.toy} == spec.toy, name
        if spec.family in ("decoder", "graph") and spec.family not in built:
            built.add(spec.family)
            model = hypermodel.build(hp)
            assert isinstance(model, zoo.ZooModel) and model.zoo_name == name
            assert all(model.zoo_config[key] == value for key, value in spec.toy.items())
            del model
    assert built == {"decoder", "graph"}


def test_edits_fix_narrow_choose_and_add():
    hypermodel = tuner.ZooHyperModel(
        "dense_autoencoder",
        hyperparameters={"code_size": (2, 4), "activation": "tanh", "depth": [1, 2],
                         "learning_rate": {"min": 1e-3, "max": 2e-3, "sampling": "log"},
                         "code_activation": ["relu", "linear"]},
        overrides=DENSE)
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    space = {item.name: item for item in hp.space}
    assert (space["code_size"].min_value, space["code_size"].max_value) == (2, 4)
    assert space["code_size"].sampling == "log"  # kept from the declared space
    assert type(space["activation"]).__name__ == "Fixed"
    assert space["depth"].values == [1, 2]
    assert space["learning_rate"].max_value == 2e-3
    assert hypermodel.added == ["code_activation"]
    hp.values.update({"code_size": 4, "depth": 2, "units_0": 16, "units_1": 20,
                      "code_activation": "linear"})
    params = hypermodel.params(hp)
    assert params["code_size"] == 4 and params["activation"] == "tanh"
    assert params["hidden_units"] == (16, 20) and params["code_activation"] == "linear"
    assert params["input_dim"] == 6


def test_declared_name_given_as_override_is_recorded_as_fixed():
    hypermodel = tuner.ZooHyperModel("dense_autoencoder", overrides={**DENSE, "code_size": 3})
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    fixed = {item.name: item for item in hp.space}["code_size"]
    assert type(fixed).__name__ == "Fixed" and hp.get("code_size") == 3


def test_spec_without_space_gets_learning_rate_only(monkeypatch):
    import dataclasses

    spec = dataclasses.replace(zoo.get_spec("dense_autoencoder"), search_space=None)
    monkeypatch.setattr(zoo, "get_spec", lambda name: spec)
    hypermodel = tuner.ZooHyperModel("dense_autoencoder", overrides=DENSE)
    assert not hypermodel.has_declared_space
    assert list(hypermodel.declared_space()) == ["learning_rate"]


@pytest.mark.parametrize("edits, error, match", [
    ({"code_siz": 3}, ValueError, r"no hyperparameter or parameter named 'code_siz'\. "
                                  r"Did you mean 'code_size'\?.*Received: code_siz=3"),
    ({"depth": []}, ValueError, r"non-empty list.*Received: depth=\[\]"),
    ({"activation": ["relu", 1]}, ValueError, r"one type.*Received: activation="),
    ({"code_size": (2, 4, 8)}, ValueError, r"tuple \(low, high\).*Received: code_size=\(2, 4, 8\)"),
    ({"code_size": (8, 2)}, ValueError, r"min <= max.*Received: code_size="),
    ({"learning_rate": {"min": 0.0, "max": 1.0, "sampling": "log"}}, ValueError,
     r"log range needs min > 0.*Received: learning_rate="),
    ({"learning_rate": {"low": 0.1}}, ValueError, r"'min', 'max'.*Received: learning_rate="),
    ({"learning_rate": {"min": 0.1, "max": 0.2, "sampling": "cubic"}}, ValueError,
     r"`sampling` must be.*Received: learning_rate="),
    ({"code_size": None}, TypeError, r"hyperparameter edit is.*Received: code_size=None"),
    ({"input_dim": (4, 8)}, ValueError, r"both searched .* and fixed .*Received: input_dim="),
])
def test_bad_edits_are_refused(edits, error, match):
    with pytest.raises(error, match=match):
        tuner.ZooHyperModel("dense_autoencoder", hyperparameters=edits, overrides=DENSE)


def test_unknown_model_and_override_are_refused():
    with pytest.raises(ValueError, match=r"Unknown model 'dense_autoencodr'.*Received: name="):
        tuner.ZooHyperModel("dense_autoencodr")
    with pytest.raises(TypeError, match=r"unknown parameter.*Received: widths=3"):
        tuner.ZooHyperModel("dense_autoencoder", overrides={"widths": 3})


def test_fail_on_non_finite_raises_a_failed_trial_error():
    callback = tuner.FailOnNonFinite()
    callback.on_train_batch_end(0, {"loss": 1.0})
    with pytest.raises(tuner.NonFiniteLossError, match=r"not finite.*Received: loss=nan"):
        callback.on_train_batch_end(3, {"loss": float("nan")})
    with pytest.raises(keras_tuner.errors.FailedTrialError, match=r"Received: val_loss=inf"):
        callback.on_epoch_end(0, {"loss": 1.0, "val_loss": float("inf")})


# --- search ------------------------------------------------------------------------------------

def test_search_saves_the_best_model_with_its_card(tmp_path):
    train, validation = _arrays(), _arrays(32, 1)
    result = tuner.search(
        "dense_autoencoder", train, validation, max_trials=3, epochs=1, batch_size=32,
        directory=tmp_path, hyperparameters={**SMALL_SPACE, "code_activation": ["relu", "tanh"]},
        overrides=DENSE, dataset="random rows", seed=3)
    assert [row["trial_id"] for row in result.trials] == ["0", "1", "2"]
    assert all(row["status"] == "COMPLETED" for row in result.trials)
    best_row = min(result.trials, key=lambda row: row["score"])
    assert result.best_trial_id == best_row["trial_id"]
    assert result.best_score == best_row["score"] == best_row["metrics"]["val_loss"]
    assert result.best_hyperparameters == best_row["hyperparameters"]
    for row in result.trials:  # edits hold in every trial
        values = row["hyperparameters"]
        assert values["depth"] == 1 and 4 <= values["units_0"] <= 8
        assert 2 <= values["code_size"] <= 4 and values["code_activation"] in ("relu", "tanh")
    card = zoo.read_card(result.best_model_path)
    assert card["hyperparameters"] == result.best_hyperparameters
    assert card["metrics"]["val_loss"] == pytest.approx(result.best_score)
    assert card["dataset"] == "random rows"
    assert card["zoo_config"]["code_activation"] == result.best_hyperparameters["code_activation"]
    assert result.best_params["hidden_units"] == [result.best_hyperparameters["units_0"]]
    model = zoo.load(result.best_model_path, sha256=result.best_model_sha256)
    # The saved weights are the best trial's: its validation loss comes back.
    assert model.evaluate(*validation, verbose=0) == pytest.approx(result.best_score, rel=1e-4)
    with open(os.path.join(result.project_dir, "trials.csv")) as handle:
        assert len(handle.read().strip().splitlines()) == 4
    table = result.table().splitlines()
    assert table[0].split()[:3] == ["trial", "status", "val_loss"] and len(table) == 4
    # Finished: asking again resumes, runs nothing and answers the same.
    again = tuner.search("dense_autoencoder", train, validation, max_trials=3, epochs=1,
                         batch_size=32, directory=tmp_path,
                         hyperparameters={**SMALL_SPACE, "code_activation": ["relu", "tanh"]},
                         overrides=DENSE, seed=3)
    assert again.trials == result.trials and again.best_trial_id == result.best_trial_id


def test_impossible_configuration_fails_and_the_search_goes_on(tmp_path):
    spec = zoo.get_spec("transformer_classifier")
    params = {**spec.defaults, **spec.toy}
    x, y = spec.example_data(params, 32, 0)
    edits = {"embedding_dim": [6, 8], "num_heads": 4, "ff_dim": 8, "num_layers": 1,
             "learning_rate": 1e-3, "dropout": 0.0}
    overrides = {key: value for key, value in spec.toy.items() if key not in edits}
    result = tuner.search(
        "transformer_classifier", (x, y), (x, y), max_trials=2, epochs=1, batch_size=32,
        directory=tmp_path, overrides={**overrides, "jit_compile": JIT}, hyperparameters=edits)
    status = {row["hyperparameters"]["embedding_dim"]: row for row in result.trials}
    assert status[6]["status"] == "FAILED"
    assert "num_heads" in status[6]["message"] and "Received" in status[6]["message"]
    assert status[8]["status"] == "COMPLETED"
    assert result.best_hyperparameters["embedding_dim"] == 8


def test_memory_stays_flat_and_diverging_trials_fail(tmp_path):
    train = _arrays()
    samples = []

    class Rss(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            samples.append(_rss_mb())

    # A sane and an absurd learning rate: after one Adam step of 1e30 the
    # linear output is ~1e30 and its squared error overflows float32.
    result = tuner.search(
        "dense_autoencoder", train, objective="loss", max_trials=20, epochs=1, batch_size=32,
        directory=tmp_path, overrides={**DENSE, "output_activation": "linear"},
        callbacks=[Rss()], seed=1,
        max_consecutive_failed_trials=20,
        # 32 combinations for 20 distinct trials, but few distinct weight
        # shapes: on JAX every new shape compiles its initialisers again.
        hyperparameters={"depth": 1, "units_0": [4, 6, 8, 10], "code_size": [2, 3],
                         "activation": ["relu", "tanh"], "learning_rate": [1e-3, 1e30]})
    assert len(result.trials) == 20
    for row in result.trials:
        if row["hyperparameters"]["learning_rate"] == 1e30:
            assert row["status"] == "FAILED" and "not finite" in row["message"], row
        else:
            assert row["status"] == "COMPLETED", row
    growth = samples[-1] - samples[0]
    print(f"\nRSS over 20 trials ({BACKEND}): {samples[0]:.0f} -> {samples[-1]:.0f} MB "
          f"(+{growth:.0f} MB)")
    assert growth < 300, samples


def test_hyperband_and_bayesian_finish(tmp_path):
    train, validation = _arrays(), _arrays(32, 1)
    # Bayesian: its first trials are random; one shows the oracle runs here.
    for algorithm, trials, epochs in (("hyperband", 4, 3), ("bayesian", 1, 1)):
        result = tuner.search(
            "dense_autoencoder", train, validation, algorithm=algorithm, max_trials=trials,
            epochs=epochs, batch_size=32, directory=tmp_path, project_name=algorithm,
            hyperparameters=SMALL_SPACE, overrides=DENSE)
        assert len(result.trials) == trials, algorithm
        assert all(row["status"] == "COMPLETED" for row in result.trials), algorithm
        assert os.path.exists(result.best_model_path)
        # Hyperband's reserved keys stay out of the table.
        assert not any(key.startswith("tuner/") for row in result.trials
                       for key in row["hyperparameters"])
    # Hyperband promoted the best 1-epoch trial: trial 3 goes on from its checkpoint.
    files = _trial_files(tmp_path / "hyperband")
    promoted = files["3"]["hyperparameters"]["values"]
    assert promoted["tuner/initial_epoch"] == 1 and promoted["tuner/epochs"] == 3
    parent = files[promoted["tuner/trial_id"]]
    assert parent["score"] == min(files[tid]["score"] for tid in ("0", "1", "2"))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"algorithm": "genetic"}, ValueError,
     r"`algorithm` must be one of.*Received: algorithm='genetic'"),
    ({"max_trials": 0}, ValueError,
     r"`max_trials` must be a positive integer.*Received: max_trials=0"),
    ({"epochs": 1.5}, ValueError, r"`epochs` must be a positive integer.*Received: epochs=1.5"),
    ({"validation": None}, ValueError, r"measured on validation data.*Received: validation=None"),
    ({"objective": "val_widget"}, ValueError, r"go up or down.*Received: objective='val_widget'"),
    ({"objective": 3}, TypeError, r"metric name.*Received: objective=3"),
    ({"objective": "loss", "direction": "up"}, ValueError, r"Received: direction='up'"),
    ({"train": (np.zeros((4, 6)),)}, ValueError,
     r"\(x, y\) tuple.*Received: train=tuple of length 1"),
])
def test_bad_search_arguments_are_refused(tmp_path, kwargs, error, match):
    args = {"train": _arrays(8), "validation": _arrays(8), **kwargs}
    with pytest.raises(error, match=match):
        tuner.search("dense_autoencoder", args.pop("train"), args.pop("validation"),
                     directory=tmp_path, overrides=DENSE, **args)


def test_an_objective_the_model_does_not_log_stops_the_search(tmp_path):
    with pytest.raises(ValueError, match=r"'val_accuracy' is not among the metrics.*"
                                         r"Received: objective='val_accuracy'"):
        tuner.search("dense_autoencoder", _arrays(16), _arrays(16), objective="val_accuracy",
                     max_trials=1, epochs=1, directory=tmp_path, overrides=DENSE,
                     hyperparameters=SMALL_SPACE)
    callback = RequireObjective("val_loss")
    callback.on_epoch_end(0, {"val_loss": 1.0})


def test_no_completed_trial_is_an_error(tmp_path):
    x = np.full((16, 6), np.nan, dtype="float32")
    with pytest.raises(RuntimeError, match=r"No trial .* completed.*Received: last_error="):
        tuner.search("dense_autoencoder", (x, x), (x, x), max_trials=1, epochs=1,
                     directory=tmp_path, overrides=DENSE, hyperparameters=SMALL_SPACE)


# --- resume and crash safety ------------------------------------------------------------------

_KILLED_SEARCH = textwrap.dedent("""
    import os, sys, time
    import keras, numpy as np
    import tuner

    directory, marker = sys.argv[1], sys.argv[2]
    started = []

    class StallSecondTrial(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            started.append(1)
            if len(started) == 2:
                open(marker, "w").close()
                time.sleep(600)   # killed here, in the middle of trial 1

    x = np.random.default_rng(0).random((64, 6)).astype("float32")
    tuner.search("dense_autoencoder", (x, x), (x, x), max_trials=3, epochs=2, batch_size=32,
                 directory=directory, overrides={"input_dim": 6, "jit_compile": %(jit)r},
                 hyperparameters=%(space)r, callbacks=[StallSecondTrial()], seed=5,
                 **%(extra)r)
""")


def test_resume_after_sigkill_in_the_middle_of_a_trial(tmp_path):
    directory, marker = tmp_path / "runs", tmp_path / "in_trial_1"
    script = tmp_path / "killed.py"
    # With the issue-20 options on: curves, the time file and measured objectives
    # are written atomically too.
    extra = {"objectives": ["val_loss", "params"], "max_time": "10m",
             "pruning": {"warmup": 0, "min_trials": 1}}
    script.write_text(_KILLED_SEARCH % {"jit": JIT, "space": SMALL_SPACE, "extra": extra})
    child = subprocess.Popen([sys.executable, str(script), str(directory), str(marker)],
                             env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while not marker.exists():
        assert child.poll() is None, child.stderr.read().decode()[-3000:]
        assert time.time() < deadline, "the child never reached trial 1"
        time.sleep(0.2)
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stderr.close()
    project = directory / "dense_autoencoder"
    before = _trial_files(project)
    assert {tid: t["status"] for tid, t in before.items()} == {"0": "COMPLETED", "1": "RUNNING"}
    spent = json.loads((project / "zoo_time.json").read_text())["spent_s"]
    assert spent > 0

    ran = []

    class Count(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            ran.append(1)

    x, _ = _arrays()
    result = tuner.search("dense_autoencoder", (x, x), (x, x), max_trials=3, epochs=2,
                          batch_size=32, directory=directory, overrides=DENSE,
                          hyperparameters=SMALL_SPACE, callbacks=[Count()], seed=5, **extra)
    assert result.time_spent_s > spent  # the time before the kill counts
    assert all(row["values"]["params"] > 0 for row in result.trials)
    assert all(row["status"] in ("COMPLETED", "PRUNED") for row in result.trials)
    after = _trial_files(project)
    assert sorted(after) == ["0", "1", "2"]  # no trial lost, no id twice
    assert all(t["status"] == "COMPLETED" for t in after.values())
    assert len(ran) == 2  # trial 1 again (same id, same values) and trial 2
    assert after["0"]["score"] == before["0"]["score"]  # a finished trial is not run again
    assert after["1"]["hyperparameters"]["values"] == before["1"]["hyperparameters"]["values"]
    assert [row["trial_id"] for row in result.trials] == ["0", "1", "2"]
    with open(project / "oracle.json") as handle:
        oracle_state = json.load(handle)
    assert sorted(oracle_state["end_order"]) == ["0", "1", "2"]  # each trial ended once


def test_resume_repairs_state_written_between_two_files(tmp_path):
    x, _ = _arrays(32)
    kwargs = dict(epochs=1, directory=tmp_path, overrides=DENSE, hyperparameters=SMALL_SPACE)
    tuner.search("dense_autoencoder", (x, x), (x, x), max_trials=1, **kwargs)
    with pytest.raises(ValueError, match=r"started with algorithm='random'.*"
                                         r"Received: algorithm='bayesian'"):
        tuner.search("dense_autoencoder", (x, x), (x, x), max_trials=1, algorithm="bayesian",
                     **kwargs)
    # A kill after trial 0's file said COMPLETED but before oracle.json did.
    oracle_path = tmp_path / "dense_autoencoder" / "oracle.json"
    oracle_state = json.loads(oracle_path.read_text())
    oracle_state.update(ongoing_trials={"tuner0": "0"}, end_order=[])
    oracle_path.write_text(json.dumps(oracle_state))
    score = _trial_files(tmp_path / "dense_autoencoder")["0"]["score"]
    result = tuner.search("dense_autoencoder", (x, x), (x, x), max_trials=2, **kwargs)
    assert [row["status"] for row in result.trials] == ["COMPLETED", "COMPLETED"]
    assert result.trials[0]["score"] == score  # not run again
    # resume=False starts over.
    result = tuner.search("dense_autoencoder", (x, x), (x, x), max_trials=1, resume=False,
                          **kwargs)
    assert len(result.trials) == 1
    assert not os.path.exists(tmp_path / "dense_autoencoder" / "trial_1")


def test_state_files_are_replaced_atomically(tmp_path, monkeypatch):
    path = tmp_path / "oracle.json"
    state.write_json_atomic(path, {"trials": 1})

    def killed(*args):
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        state.write_json_atomic(path, {"trials": 2})
    assert json.loads(path.read_text()) == {"trials": 1}  # the old state, whole
    assert os.listdir(tmp_path) == ["oracle.json"]  # no temporary left behind
    monkeypatch.undo()
    (tmp_path / ".oracle.json.x1.tmp").write_text('{"tri')  # left by a SIGKILL
    state.remove_stale_temporaries(tmp_path)
    assert os.listdir(tmp_path) == ["oracle.json"]


# --- distributed -------------------------------------------------------------------------------

_WORKER = textwrap.dedent("""
    import json, os, sys, time
    import keras, numpy as np
    import tuner

    directory, barrier = sys.argv[1], sys.argv[2]
    me = os.environ["KERASTUNER_TUNER_ID"]

    class BothWorkersStarted(keras.callbacks.Callback):
        # Each worker's first trial waits for the other worker, so both take part.
        def on_train_begin(self, logs=None):
            open(os.path.join(barrier, me), "w").close()
            deadline = time.time() + 120
            while len(os.listdir(barrier)) < 2 and time.time() < deadline:
                time.sleep(0.1)

    data = np.load(os.path.join(directory, "data.npz"))
    x, x_val = data["x_train"], data["x_val"]
    result = tuner.search("dense_autoencoder", (x, x), (x_val, x_val), max_trials=4, epochs=2,
                          batch_size=32, directory=directory, max_time="10m",
                          objectives=["val_loss", "params"], pruning={"warmup": 0},
                          overrides={"input_dim": 6, "jit_compile": %(jit)r},
                          hyperparameters=%(space)r, callbacks=[BothWorkersStarted()])
    print("RESULT " + json.dumps({"role": result.role, "trials": result.trials}))
""")


def test_distributed_chief_and_two_workers_finish_one_search(tmp_path):
    # The chief is the command line, `python -m tuner --backend ...` (which
    # must choose the backend before Keras is imported); the workers call
    # tuner.search() with the same settings.
    x, _ = _arrays()
    np.savez(tmp_path / "data.npz", x_train=x, y_train=x, x_val=x[:16], y_val=x[:16])
    script = tmp_path / "worker.py"
    script.write_text(_WORKER % {"jit": JIT, "space": SMALL_SPACE})
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    port = str(_free_port())
    chief_command = [
        sys.executable, "-m", "tuner", "--backend", BACKEND, "dense_autoencoder",
        "--data", str(tmp_path / "data.npz"), "--max-trials", "4", "--epochs", "2",
        "--objective", "val_loss,params", "--prune", "median", "--prune-warmup", "0",
        "--max-time", "10m",
        "--batch-size", "32", "--directory", str(tmp_path), "--quiet", "--hp", "depth=1",
        "--hp", "units_0=4:8", "--hp", "code_size=2:4", "--set", "input_dim=6",
        "--set", f"jit_compile={json.dumps(JIT)}"]
    commands = {"chief": chief_command,
                "tuner0": [sys.executable, str(script), str(tmp_path), str(barrier)],
                "tuner1": [sys.executable, str(script), str(tmp_path), str(barrier)]}
    processes = {}
    for tuner_id, command in commands.items():
        env = _env(KERASTUNER_ORACLE_IP="127.0.0.1", KERASTUNER_ORACLE_PORT=port,
                   KERASTUNER_TUNER_ID=tuner_id)
        if tuner_id == "chief":
            env["KERAS_BACKEND"] = "not-a-backend"  # --backend must win
        processes[tuner_id] = subprocess.Popen(command, env=env, cwd=ROOT, text=True,
                                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    outputs = {}
    try:
        for tuner_id, process in processes.items():
            out, err = process.communicate(timeout=300)
            assert process.returncode == 0, f"{tuner_id}:\n{err[-3000:]}"
            outputs[tuner_id] = out
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
    assert "best model:" in outputs["chief"], outputs["chief"]
    project = tmp_path / "dense_autoencoder"
    with open(project / "result.json") as handle:
        chief = json.load(handle)
    assert chief["role"] == "chief" and chief["best_trial_id"] is not None
    assert [row["trial_id"] for row in chief["trials"]] == ["0", "1", "2", "3"]
    # Several objectives, pruning and the time budget work across processes: the
    # workers measure and prune (reading the shared folder), the chief ranks.
    assert all(row["status"] in ("COMPLETED", "PRUNED") for row in chief["trials"])
    assert all(row["values"]["params"] > 0 for row in chief["trials"])
    assert chief["objectives"] == [["val_loss", "min"], ["params", "min"]]
    assert chief["pareto_front"] and chief["time_spent_s"] > 0
    assert json.loads((tmp_path / "dense_autoencoder" / "zoo_time.json").read_text())["spent_s"]
    ran = {}
    for tuner_id in ("tuner0", "tuner1"):
        line = next(line for line in outputs[tuner_id].splitlines() if line.startswith("RESULT "))
        result = json.loads(line[len("RESULT "):])
        assert result["role"] == "worker"
        ran[tuner_id] = [row["trial_id"] for row in result["trials"]]
    assert ran["tuner0"] and ran["tuner1"], ran  # both workers took part
    assert sorted(ran["tuner0"] + ran["tuner1"]) == ["0", "1", "2", "3"], ran  # each once
    assert sorted(_trial_files(project)) == ["0", "1", "2", "3"]
    assert zoo.read_card(project / "best_model.keras")["metrics"]["val_loss"] == pytest.approx(
        chief["best_score"])


# --- command line ------------------------------------------------------------------------------

def _parse(argv):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_runs_on_arrays_from_an_npz_file(tmp_path, capsys):
    x, _ = _arrays()
    np.savez(tmp_path / "data.npz", x_train=x, y_train=x, x_val=x[:16], y_val=x[:16])
    args = _parse(["dense_autoencoder", "--data", str(tmp_path / "data.npz"), "--max-trials", "1",
                   "--epochs", "1", "--directory", str(tmp_path / "runs"), "--batch-size", "32",
                   "--hp", "depth=1", "--hp", "units_0=4:8", "--hp", "activation=relu,tanh",
                   "--hp", "learning_rate=0.001", "--set", "input_dim=6",
                   "--set", f"jit_compile={json.dumps(JIT)}",
                   "--out", str(tmp_path / "best.keras")])
    assert cli.run(args) == 0
    out = capsys.readouterr().out
    assert "Search: Running Trial #1" in out and "val_loss" in out  # progress output
    assert "best trial" in out and str(tmp_path / "best.keras") in out
    card = zoo.read_card(tmp_path / "best.keras")
    assert card["hyperparameters"]["learning_rate"] == 0.001 and card["dataset"] == "data.npz"


def test_cli_show_space_and_errors(tmp_path, capsys):
    assert cli.run(_parse(["transformer_classifier", "--show-space", "--hp", "num_heads=1,2"])) == 0
    out = capsys.readouterr().out
    assert "embedding_dim" in out and "edited: [1, 2]" in out
    np.savez(tmp_path / "bad.npz", x=np.zeros(3))
    assert cli.run(_parse(["dense_autoencoder", "--data", str(tmp_path / "bad.npz")])) == 2
    assert "must hold x_train and y_train" in capsys.readouterr().err
    assert cli.run(_parse(["dense_autoencoder"])) == 2
    assert "Received: no data option" in capsys.readouterr().err
    assert cli.run(_parse(["dense_autoencoder", "--toy", "--hp", "code_size"])) == 2
    assert "Received: --hp=code_size" in capsys.readouterr().err


@pytest.mark.parametrize("text, expected", [
    ("units=64", ("units", 64)),
    ("units=16:128", ("units", (16, 128))),
    ("learning_rate=1e-4:1e-2", ("learning_rate", (1e-4, 1e-2))),
    ("activation=relu,gelu", ("activation", ["relu", "gelu"])),
    ("use_bias=true", ("use_bias", True)),
])
def test_cli_hp_syntax(text, expected):
    assert cli.parse_hp(text) == expected


def test_cli_bad_hp_and_set_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"NAME=VALUE.*Received: --hp=units"):
        cli.parse_hp("units")
    with pytest.raises(ValueError, match=r"LOW:HIGH.*Received: --hp=units=a:b"):
        cli.parse_hp("units=a:b")
    with pytest.raises(ValueError, match=r"Received: --set=hidden_units"):
        cli.parse_set("hidden_units")
    assert cli.parse_set("hidden_units=[64, 32]") == ("hidden_units", (64, 32))
    assert cli.parse_set("jit_compile=False") == ("jit_compile", False)  # Python literal
    assert cli.parse_set("activation=gelu") == ("activation", "gelu")
    np.savez(tmp_path / "d.npz", x_train__a=np.zeros((2, 3)), y_train=np.zeros(2))
    (x, y), validation = cli.load_arrays(tmp_path / "d.npz")
    assert list(x) == ["a"] and validation is None
    np.savez(tmp_path / "e.npz", x_train=np.zeros(2))
    with pytest.raises(ValueError, match=r"Received: keys=\['x_train'\]"):
        cli.load_arrays(tmp_path / "e.npz")
