"""Issue 20: several objectives with a Pareto front, a time budget, median pruning, grid search.

Toy sizes: a dense autoencoder on random rows. Nothing here asserts a time;
the budget tests check what stopped and in which order.
"""

import json
import math
import os
import pathlib
import time

import keras
import keras_tuner
import numpy as np
import pytest

import tuner
import zoo
from tuner import cli, objectives, pareto, stopping
from tuner.searcher import grid_size

BACKEND = keras.backend.backend()
DENSE = {"input_dim": 6, "jit_compile": BACKEND == "jax"}
SMALL = {"depth": 1, "units_0": (4, 16), "code_size": (2, 4)}


def _arrays(n=64, seed=0):
    x = np.random.default_rng(seed).random((n, 6)).astype("float32")
    return x, x


def _search(tmp_path, **kwargs):
    args = dict(max_trials=3, epochs=2, directory=tmp_path, overrides=DENSE,
                hyperparameters=SMALL, batch_size=16)
    args.update(kwargs)
    return tuner.search("dense_autoencoder", args.pop("train", _arrays()),
                        args.pop("validation", _arrays(32, 1)), **args)


def _curve(result, trial_id):
    return stopping.read_curve(os.path.join(result.project_dir, f"trial_{trial_id}"))


# --- several objectives and the Pareto front ----------------------------------------------------

def test_measured_objectives_front_constraints_and_card(tmp_path):
    result = _search(tmp_path, objectives=["val_loss", "latency_ms", "params"], max_trials=4,
                     constraints={"params": 200}, latency_runs=3)
    assert result.objectives == [["val_loss", "min"], ["latency_ms", "min"], ["params", "min"]]
    rows = result.trials
    assert len(rows) == 4 and all(row["status"] == "COMPLETED" for row in rows)
    for row in rows:
        assert row["values"]["latency_ms"] > 0
        # The parameter count is the trial's model's.
        assert row["values"]["params"] == _model_of(row).count_params()
    # The front is exactly the non-dominated rows.
    directions = ["min", "min", "min"]
    points = [[row["values"][name] for name, _ in result.objectives] for row in rows]
    expected = [rows[i]["trial_id"] for i in range(len(rows))
                if not any(pareto.dominates(points[j], points[i], directions)
                           for j in range(len(rows)))]
    assert result.pareto_front == expected
    assert [row["trial_id"] for row in rows if row["pareto"]] == expected
    # The best model: the lowest val_loss among trials with at most 200 parameters.
    feasible = [row for row in rows if row["values"]["params"] <= 200]
    if feasible:
        best = min(feasible, key=lambda row: row["values"]["val_loss"])
        assert result.best_trial_id == best["trial_id"]
        assert result.best_score == best["values"]["val_loss"]
        card = zoo.read_card(result.best_model_path)
        assert card["metadata"]["search"]["objectives"] == result.objectives
        assert card["metadata"]["search"]["pareto_front"] == expected
        assert card["metrics"]["params"] == best["values"]["params"]
    # The table marks the front and the CSV carries every objective.
    table = result.table().splitlines()
    assert table[0].split()[:6] == ["trial", "status", "val_loss", "latency_ms", "params",
                                    "front"]
    header = (pathlib.Path(result.project_dir) / "trials.csv").read_text().splitlines()[0]
    assert header.startswith("trial_id,status,val_loss,latency_ms,params,pareto,stopped_epoch")
    plot = result.pareto_plot(tmp_path / "front.png")
    assert plot.stat().st_size > 0
    with pytest.raises(FileExistsError):
        result.pareto_plot(tmp_path / "front.png")


def _model_of(row):
    hypermodel = tuner.ZooHyperModel("dense_autoencoder", hyperparameters=SMALL,
                                     overrides=DENSE)
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    hp.values.update(row["hyperparameters"])
    return hypermodel.build(hp)


def test_a_constraint_no_trial_meets_is_an_error_after_recording_the_trials(tmp_path):
    with pytest.raises(tuner.SearchFailedError, match=r"meets the constraints.*Received: "
                                                      r"constraints=\{'params': 1\.0\}"):
        _search(tmp_path, objectives=["val_loss", "params"], constraints={"params": 1},
                max_trials=1)
    assert (tmp_path / "dense_autoencoder" / "trials.csv").read_text().count("\n") == 2


def test_one_objective_has_no_pareto_plot(tmp_path):
    result = _search(tmp_path, max_trials=1, epochs=1)
    assert result.objectives == [["val_loss", "min"]] and result.pareto_front == ["0"]
    with pytest.raises(ValueError, match=r"at least two objectives.*Received: objectives="):
        result.pareto_plot(tmp_path / "front.png")


def test_objective_parsing_and_directions():
    parsed = objectives.parse(["val_loss", ("my_score", "max"), "file_bytes"])
    assert [(o.name, o.direction) for o in parsed] == [
        ("val_loss", "min"), ("my_score", "max"), ("file_bytes", "min")]
    assert objectives.parse("val_accuracy")[0].direction == "max"
    assert objectives.satisfies({"a": 1.0, "b": 5.0}, {"a": 2.0, "b": 4.0},
                                objectives.parse([("a", "min"), ("b", "max")]))
    assert not objectives.satisfies({"a": 3.0, "b": 5.0}, {"a": 2.0},
                                    objectives.parse([("a", "min"), ("b", "max")]))
    assert objectives.parse_duration("1h30m") == 5400.0
    assert objectives.parse_duration(" 2m 30s ") == 150.0
    assert objectives.parse_duration(".5h") == 1800.0


# --- bad input: one line, before any trial runs -------------------------------------------------

@pytest.mark.parametrize("kwargs, error, match", [
    ({"objectives": ["val_loss", "val_widget_loss"]}, ValueError,
     r"'val_widget_loss' is not among the metrics the model logs.*"
     r"Received: objective='val_widget_loss'"),
    ({"objectives": ["val_loss", "val_accuracy"]}, ValueError,
     r"'val_accuracy' is not among the metrics.*Received: objective='val_accuracy'"),
    ({"objectives": ["val_loss", "widgets"]}, ValueError,
     r"go up or down.*Received: objective='widgets'"),
    ({"objectives": ["val_loss", ("latency_ms", "max")]}, ValueError,
     r"'latency_ms' goes down.*contradicts.*Received: latency_ms='max'"),
    ({"objective": "val_loss", "direction": "max"}, ValueError,
     r"'val_loss' goes down.*Received: val_loss='max'"),
    ({"objectives": ["latency_ms", "val_loss"]}, ValueError,
     r"first objective.*Received: objectives=\['latency_ms', 'val_loss'\]"),
    ({"objectives": ["val_loss", "val_loss"]}, ValueError, r"once.*Received: objectives="),
    ({"objectives": []}, ValueError, r"Received: objectives=\[\]"),
    ({"objective": "val_loss", "objectives": ["val_loss", "params"]}, ValueError,
     r"not both.*Received: objective='val_loss'"),
    ({"objectives": ["val_loss", "params"], "constraints": {"latency_ms": 2}}, ValueError,
     r"one of the objectives.*Received: constraints=\{'latency_ms': 2\}"),
    ({"objectives": ["val_loss", "params"], "constraints": {"params": "small"}}, ValueError,
     r"finite number.*Received: constraints="),
    ({"max_time": "soon"}, ValueError, r"positive duration.*Received: max_time='soon'"),
    ({"max_time": "10 minutes"}, ValueError, r"Received: max_time='10 minutes'"),
    ({"max_time": -5}, ValueError, r"Received: max_time=-5"),
    ({"max_time": True}, ValueError, r"Received: max_time=True"),
    ({"pruning": "median", "epochs": 1}, ValueError,
     r"at least 2 epochs.*Received: epochs=1"),
    ({"pruning": {"warmup": 2}, "epochs": 3}, ValueError,
     r"leaves no epoch to prune.*warmup <= 1.*Received: warmup=2"),
    ({"pruning": "mean"}, ValueError, r"Received: pruning='mean'"),
    ({"pruning": {"min_trials": 0}}, ValueError, r"Received: min_trials=0"),
    ({"pruning": "median", "algorithm": "hyperband"}, ValueError,
     r"Received: algorithm='hyperband'"),
    ({"pruning": "median", "executions_per_trial": 2}, ValueError,
     r"Received: executions_per_trial=2"),
    ({"algorithm": "grid", "max_trials": 5, "hyperparameters": {
        "depth": 1, "units_0": [4, 8, 16], "code_size": [2, 3], "activation": "relu",
        "learning_rate": 0.01}}, ValueError,
     r"The grid has 6 combinations \(units_0: 3, code_size: 2\), more than max_trials=5.*"
     r"Received: max_trials=5"),
    ({"algorithm": "grid", "max_trials": 50}, ValueError,
     r"without a step.*Received: algorithm='grid'"),
])
def test_bad_input_is_one_line_before_any_trial(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match) as caught:
        _search(tmp_path, **kwargs)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "dense_autoencoder").exists()


# --- grid search ---------------------------------------------------------------------------------

class _InterruptThirdTrial(keras.callbacks.Callback):
    started = []

    def on_train_begin(self, logs=None):
        self.started.append(1)
        if len(self.started) == 3:
            raise KeyboardInterrupt


def test_grid_runs_every_combination_once_and_resumes_where_it_stopped(tmp_path):
    space = {"depth": 1, "units_0": [4, 8], "code_size": {"min": 2, "max": 4, "step": 2},
             "activation": "relu", "learning_rate": 0.01}
    with pytest.raises(KeyboardInterrupt):
        _search(tmp_path, algorithm="grid", hyperparameters=space, max_trials=4, epochs=1,
                callbacks=[_InterruptThirdTrial()])
    # Resumed: the interrupted combination runs again under its id, then the last one.
    result = _search(tmp_path, algorithm="grid", hyperparameters=space, max_trials=4, epochs=1)
    seen = [(row["hyperparameters"]["units_0"], row["hyperparameters"]["code_size"])
            for row in result.trials]
    assert seen == [(4, 2), (4, 4), (8, 2), (8, 4)]
    assert all(isinstance(value, int) for pair in seen for value in pair)
    assert [row["status"] for row in result.trials] == ["COMPLETED"] * 4
    # Everything tried: asked for more trials, the grid stops by itself.
    again = _search(tmp_path, algorithm="grid", hyperparameters=space, max_trials=6, epochs=1)
    assert again.trials == result.trials


def test_grid_size_counts_choices_steps_and_fixed_values():
    hp = keras_tuner.HyperParameters()
    hp.Choice("a", [1, 2, 3])
    hp.Int("b", 0, 10, step=5)
    hp.Float("c", 0.0, 0.2, step=0.1)
    hp.Boolean("d")
    hp.Fixed("e", "x")
    assert grid_size(hp) == (3 * 3 * 3 * 2, "a: 3, b: 3, c: 3, d: 2")


# --- the time budget -----------------------------------------------------------------------------

class _SlowEpochs(keras.callbacks.Callback):
    """Every epoch takes at least ``seconds``; epoch ends are logged to ``path``."""

    def __init__(self, path, seconds):
        super().__init__()
        self.path, self.seconds = str(path), seconds

    def on_epoch_end(self, epoch, logs=None):
        time.sleep(self.seconds)
        with open(self.path, "a") as handle:
            handle.write(f"{epoch}\n")


def test_max_time_stops_the_running_trial_after_its_epoch_and_survives_resume(tmp_path):
    log = tmp_path / "epochs.log"
    kwargs = dict(max_trials=20, epochs=4, callbacks=[_SlowEpochs(log, 0.4)])
    result = _search(tmp_path, max_time=1.0, **kwargs)
    # Stopped by the budget (which keeps the longest trial setup in hand, so it may
    # stop before the second is over), and it took at least one slow epoch.
    assert result.stopped_by_time and result.time_spent_s >= 0.4
    statuses = [row["status"] for row in result.trials]
    # Only the last trial may have been cut short; no trial started after the budget.
    assert all(status == "COMPLETED" for status in statuses[:-1])
    assert len(statuses) < 20
    last = result.trials[-1]
    if last["status"] == "STOPPED":
        curve = _curve(result, last["trial_id"])
        assert curve["state"] == "stopped" and 1 <= last["stopped_epoch"] < 4
        assert len(curve["values"]) == last["stopped_epoch"]
        assert "max_time" in last["message"]
    recorded = json.loads((pathlib.Path(result.project_dir) / "zoo_time.json").read_text())
    assert recorded["spent_s"] == pytest.approx(result.time_spent_s, abs=0.05)
    epochs_run = log.read_text().count("\n")
    # Resumed with the same budget: it is spent already, so no trial starts.
    again = _search(tmp_path, max_time=1.0, **kwargs)
    assert log.read_text().count("\n") == epochs_run
    assert again.trials == result.trials and again.stopped_by_time
    assert again.time_spent_s >= recorded["spent_s"]
    # A larger budget goes on where the search stopped.
    more = _search(tmp_path, max_time=recorded["spent_s"] + 2 * recorded["setup_s"] + 2.0,
                   **kwargs)
    assert len(more.trials) > len(result.trials)
    assert [row["trial_id"] for row in more.trials][:len(result.trials)] == \
        [row["trial_id"] for row in result.trials]


# --- median pruning ------------------------------------------------------------------------------

def test_median_pruner_rule():
    pruner = stopping.MedianPruner(warmup=1, min_trials=2)
    others = [[0.9, 0.5, 0.4], [0.8, 0.6, 0.5], [0.7, 0.7]]
    assert pruner.check(0, [5.0], "min", others) == (False, None)  # warm-up
    assert pruner.check(1, [1.0, 0.61], "min", others) == (True, 0.6)
    assert pruner.check(1, [1.0, 0.6], "min", others) == (False, 0.6)
    # Best so far, not the last value; for "max" the other way round.
    assert pruner.check(2, [0.3, 0.9, 0.9], "min", others)[0] is False
    assert pruner.check(1, [0.1, 0.2], "max", [[0.5, 0.6], [0.4, 0.5]]) == (True, 0.55)
    # Only curves that reached the epoch count: one is not enough for min_trials=2.
    assert pruner.check(2, [9.0, 9.0, 9.0], "min", others) == (True, 0.45)
    assert pruner.check(2, [9.0, 9.0, 9.0], "min", others[:1] + others[2:]) == (False, None)
    assert pruner.check(1, [math.nan, math.nan], "min", others) == (False, None)


#: Each learning rate's (made-up) validation loss scale: the curve is scale / (epoch + 1).
SCALES = {0.01: 1.0, 1e-7: 10.0, 0.012: 1.1, 2e-7: 11.0, 0.014: 0.9, 3e-7: 12.0}


class _ScriptedLoss(keras.callbacks.Callback):
    """Replaces the logged val_loss with SCALES[learning rate] / (epoch + 1).

    The pruner reads the same logs after this callback, so the curves (and
    which trials must be pruned) no longer depend on the backend's numerics.
    """

    def on_epoch_end(self, epoch, logs=None):
        rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        nearest = min(SCALES, key=lambda known: abs(math.log(known) - math.log(rate)))
        logs["val_loss"] = SCALES[nearest] / (epoch + 1)


@pytest.mark.parametrize("algorithm", ["random", "bayesian", "grid"])
def test_pruning_stops_trials_worse_than_the_median(tmp_path, algorithm):
    space = {"depth": 1, "units_0": 8, "code_size": 3, "activation": "relu",
             "learning_rate": list(SCALES)}
    result = _search(tmp_path, algorithm=algorithm, hyperparameters=space, epochs=4,
                     max_trials=6, seed=3, callbacks=[_ScriptedLoss()],
                     pruning={"warmup": 1, "min_trials": 2})
    assert len(result.trials) == 6
    # The rule, by hand: after the warm-up epoch, a trial whose scale is above the
    # median scale of the trials completed before it (at least two) is pruned.
    completed, expected = [], []
    for row in result.trials:
        rate = row["hyperparameters"]["learning_rate"]
        if len(completed) >= 2 and SCALES[rate] > np.median(completed):
            expected.append(("PRUNED", 2))
        else:
            expected.append(("COMPLETED", None))
            completed.append(SCALES[rate])
    assert [(row["status"], row["stopped_epoch"]) for row in result.trials] == expected
    assert ("PRUNED", 2) in expected
    for row in result.trials:
        curve = _curve(result, row["trial_id"])
        assert len(curve["values"]) == (2 if row["status"] == "PRUNED" else 4)
        if row["status"] == "PRUNED":
            assert curve["state"] == "pruned" and "worse than the median" in row["message"]
            assert not row["pareto"] and result.best_trial_id != row["trial_id"]
    best = min((row for row in result.trials if row["status"] == "COMPLETED"),
               key=lambda row: SCALES[row["hyperparameters"]["learning_rate"]])
    assert result.best_trial_id == best["trial_id"]
    assert "PRUNED" in result.table()


def test_pruning_is_part_of_the_search_identity(tmp_path):
    _search(tmp_path, pruning="median", epochs=3, max_trials=1)
    with pytest.raises(ValueError, match=r"started with pruning=.*Received: pruning=None"):
        _search(tmp_path, epochs=3, max_trials=1)


# --- the command line ----------------------------------------------------------------------------

def test_cli_objectives_budget_pruning_and_plot(tmp_path, capsys):
    x = _arrays(64)[0]
    data = tmp_path / "a.npz"
    np.savez(data, x_train=x[:48], y_train=x[:48], x_val=x[48:], y_val=x[48:])
    import argparse

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    common = ["dense_autoencoder", "--data", str(data), "--set", "input_dim=6",
              "--hp", "depth=1", "--hp", "units_0=4:8", "--directory", str(tmp_path / "runs"),
              "--quiet", "--epochs", "3", "--max-trials", "3"]
    args = parser.parse_args(common + ["--objective", "val_loss,params",
                                       "--constraint", "params=10000", "--prune", "median",
                                       "--prune-warmup", "0", "--max-time", "10m",
                                       "--plot", str(tmp_path / "front.png")])
    assert cli.run(args) == 0
    out = capsys.readouterr().out
    assert "Pareto front (*): trials" in out and "(within params=10000)" in out
    assert (tmp_path / "front.png").stat().st_size > 0
    for bad, message in [
        (["--objective", "val_loss,params", "--direction", "max"],
         "--direction applies to one objective"),
        (["--objective", "val_loss", "--plot", str(tmp_path / "p.png")],
         "--plot draws the Pareto front"),
        (["--constraint", "params"], "--constraint takes NAME=NUMBER"),
        (["--max-time", "later"], "Received: max_time='later'"),
        (["--objective", "val_loss,"], "--objective takes NAME"),
    ]:
        args = parser.parse_args(common + ["--project-name", "bad"] + bad)
        assert cli.run(args) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


# --- seeded training ----------------------------------------------------------------------------

def test_the_same_seed_trains_the_same_and_another_seed_does_not(tmp_path):
    runs = [_search(tmp_path / name, seed=seed, max_trials=2, epochs=2,
                    hyperparameters=SMALL)
            for name, seed in (("a", 0), ("b", 0), ("c", 5))]
    losses = [[row["metrics"]["val_loss"] for row in run.trials] for run in runs]
    assert losses[0] == losses[1]
    assert runs[0].trials[0]["hyperparameters"] != runs[2].trials[0]["hyperparameters"] \
        or losses[0] != losses[2]
    # keras-tuner takes seed 0 for "no seed": the zoo passes it another fixed value.
    oracle = tuner.searcher._oracle("random", keras_tuner.Objective("val_loss", "min"), 1, 1, 0,
                                    3)
    assert oracle.seed == tuner.searcher.ORACLE_SEED_FOR_0
    # Two trials of one search do not share a seed.
    assert tuner.searcher.training_seed(4, "0") != tuner.searcher.training_seed(4, "1")
