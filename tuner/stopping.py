"""Ending trials and searches early: a wall-clock budget and median pruning.

- **Time budget** (``TimeBudget``): the seconds a search has spent are kept
  in ``zoo_time.json`` in its folder (written atomically at every epoch's
  end and every trial's end), so a resumed search counts the time it spent
  before. Once ``max_time`` is spent no new trial starts, and the running
  trial stops at the end of its current epoch; it is recorded as
  ``STOPPED`` (its metrics up to that epoch are kept).
- **Median pruning** (``MedianPruner``): after ``warmup`` epochs, a trial
  whose best objective value so far is worse than the median of the
  completed trials' best values at the same epoch is stopped and recorded
  as ``PRUNED`` with the epoch it stopped at. It needs ``min_trials``
  completed trials that reached that epoch; pruned trials never count in
  the median and are never the best model.

Each trial's curve (its objective per epoch) and how it ended are written
to ``trial_<id>/zoo_curve.json``; the median reads the completed ones from
there, so it works the same after a resume and across distributed workers
sharing the folder.

>>> pruner = MedianPruner(warmup=1, min_trials=2)
>>> others = [[0.9, 0.5, 0.4], [0.8, 0.6, 0.5], [0.7, 0.7, 0.6]]
>>> pruner.check(1, [1.0, 0.9], "min", others)   # median best at epoch 2 is 0.6
(True, 0.6)
>>> pruner.check(1, [1.0, 0.55], "min", others)
(False, 0.6)
"""

import contextlib
import copy
import glob
import json
import math
import os
import statistics
import time

import keras

from tuner import state

#: The file that keeps the seconds a search has spent.
TIME_FILE = "zoo_time.json"
#: Each trial's objective per epoch and how it ended.
CURVE_FILE = "zoo_curve.json"
#: How a trial ended early, as the table shows it.
PRUNED, STOPPED = "PRUNED", "STOPPED"


class TimeBudget:
    """The seconds a search has spent (this run and before), against an optional limit.

    ``start`` (``time.monotonic()``) is when this run began: the call to
    ``search``, so setting up counts too. ``setup_s``, the longest time a
    trial has taken from its start to its first epoch (building the model),
    is kept in hand: a trial that could not begin training within the
    budget does not start, and the last trial stops early enough to load
    and save the best model.
    """

    def __init__(self, project_dir, limit_s=None, record=True, start=None):
        self.path = os.path.join(os.fspath(project_dir), TIME_FILE)
        self.limit_s = limit_s
        self.record = record
        recorded = read_time(project_dir)
        self.before_s = recorded["spent_s"]
        self.start = time.monotonic() if start is None else start
        # The longest a trial took from its start to training (kept across resumes).
        self.setup_s = recorded["setup_s"]

    def spent(self):
        return self.before_s + time.monotonic() - self.start

    def note_setup(self, seconds):
        self.setup_s = max(self.setup_s, seconds)

    def exhausted(self, reserve=0.0):
        """Whether the budget is spent, keeping ``reserve`` seconds in hand."""
        return self.limit_s is not None and self.spent() + reserve >= self.limit_s

    def save(self):
        if self.record:
            with contextlib.suppress(OSError):
                state.write_json_atomic(self.path, {"spent_s": round(self.spent(), 3),
                                                    "setup_s": round(self.setup_s, 3)})


def read_time(project_dir):
    """``{"spent_s", "setup_s"}`` from ``project_dir``'s time file (0 when missing or bad)."""
    try:
        with open(os.path.join(os.fspath(project_dir), TIME_FILE)) as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        record = {}
    found = {}
    for key in ("spent_s", "setup_s"):
        value = record.get(key) if isinstance(record, dict) else None
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
            and math.isfinite(value) and value >= 0
        found[key] = float(value) if ok else 0.0
    return found


class MedianPruner:
    """Stop a trial worse than the median of the completed trials at the same epoch.

    Args:
        warmup: epochs every trial runs before it may be pruned (>= 0).
        min_trials: completed trials (that reached the epoch) needed for a median.
    """

    def __init__(self, warmup=1, min_trials=3):
        self.warmup = warmup
        self.min_trials = min_trials

    def check(self, epoch, values, direction, others):
        """``(prune, median)`` for a trial with ``values`` up to ``epoch`` (0-based)."""
        if epoch + 1 <= self.warmup:
            return False, None
        best = _best(values[:epoch + 1], direction)
        reached = [_best(curve[:epoch + 1], direction) for curve in others
                   if len(curve) > epoch]
        reached = [value for value in reached if value is not None]
        if best is None or len(reached) < self.min_trials:
            return False, None
        median = statistics.median(reached)
        worse = best > median if direction == "min" else best < median
        return worse, median


def _best(values, direction):
    finite = [value for value in values if value is not None and math.isfinite(value)]
    if not finite:
        return None
    return min(finite) if direction == "min" else max(finite)


def parse_pruning(pruning, epochs, algorithm, executions_per_trial):
    """A ``MedianPruner`` from ``None``, ``"median"`` or ``{"rule": "median", ...}``.

    Raises:
        ValueError: another rule, unknown keys, a warm-up that leaves no
            epoch to prune, one-epoch trials, Hyperband (it prunes by its own
            schedule), several executions per trial.
    """
    if pruning is None or pruning is False:
        return None
    options = {"rule": pruning} if isinstance(pruning, str) else pruning
    if not isinstance(options, dict):
        raise TypeError("`pruning` is None, 'median' or a dict {'rule': 'median', 'warmup': N, "
                        f"'min_trials': M}}. Received: pruning={pruning!r}")
    unknown = sorted(set(options) - {"rule", "warmup", "min_trials"})
    if unknown or options.get("rule", "median") != "median":
        raise ValueError("`pruning` is 'median' or a dict with 'rule' ('median'), 'warmup' and "
                         f"'min_trials'. Received: pruning={pruning!r}")
    warmup = options.get("warmup", 1)
    min_trials = options.get("min_trials", 3)
    for name, value, low in (("warmup", warmup, 0), ("min_trials", min_trials, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"The pruning {name} is an integer >= {low}. "
                             f"Received: {name}={value!r}")
    if algorithm == "hyperband":
        raise ValueError("Hyperband stops trials by its own schedule; prune with 'random', "
                         "'bayesian' or 'grid'. Received: algorithm='hyperband'")
    if executions_per_trial != 1:
        raise ValueError("Pruning compares one training curve per trial; use "
                         f"executions_per_trial=1. Received: executions_per_trial="
                         f"{executions_per_trial}")
    if epochs < 2:
        raise ValueError("Pruning stops trials between epochs, so trials need at least 2 "
                         f"epochs. Received: epochs={epochs}")
    if warmup > epochs - 2:
        raise ValueError(
            f"The pruning warm-up leaves no epoch to prune: a trial may stop after epoch "
            f"warmup + 1 and before its last ({epochs}), so warmup <= {epochs - 2}. "
            f"Received: warmup={warmup}")
    return MedianPruner(warmup, min_trials)


# ------------------------------------------------------------ curves on disk

def curve_path(trial_dir):
    return os.path.join(os.fspath(trial_dir), CURVE_FILE)


def read_curve(trial_dir):
    """A trial's curve record, or ``None`` when it has none (or it is unreadable)."""
    try:
        with open(curve_path(trial_dir)) as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def write_curve(trial_dir, record):
    state.write_json_atomic(curve_path(trial_dir), record)


class CompletedCurves:
    """The curves of every completed trial in a search's folder (read once each)."""

    def __init__(self, project_dir):
        self.project_dir = os.fspath(project_dir)
        self.curves = {}

    def get(self, exclude=None):
        for path in glob.glob(os.path.join(self.project_dir, "trial_*", CURVE_FILE)):
            trial_dir = os.path.dirname(path)
            if trial_dir in self.curves or os.path.basename(trial_dir) == exclude:
                continue
            record = read_curve(trial_dir)
            if record is not None and record.get("state") == "completed":
                self.curves[trial_dir] = [_number(value) for value in record.get("values", [])]
        return [curve for trial_dir, curve in self.curves.items()
                if os.path.basename(trial_dir) != exclude]


def _number(value):
    return float(value) if isinstance(value, (int, float)) else None


class TrialMonitor(keras.callbacks.Callback):
    """Records a trial's curve; stops it when the budget is spent or the pruner says so.

    One per trial (keras-tuner deep-copies callbacks per execution: copies
    share this one's state).
    """

    def __init__(self, trial_dir, objective, budget=None, pruner=None, curves=None):
        super().__init__()
        self.trial_dir = trial_dir
        self.objective = objective
        self.budget = budget
        self.pruner = pruner
        self.curves = curves
        self.record = {"objective": objective.name, "direction": objective.direction,
                       "values": [], "state": "running"}
        # Shared by the copies: the last trained model and its history.
        self.shared = {"model": None, "history": None, "created": time.monotonic()}
        write_curve(trial_dir, self.record)

    def __deepcopy__(self, memo):
        clone = copy.copy(self)
        memo[id(self)] = clone
        return clone

    @property
    def ended_early(self):
        return self.record["state"] in ("pruned", "stopped")

    def replay(self):
        """The history to return instead of training again, once the trial was stopped.

        A trial with several executions stops them all once one is stopped.
        """
        return self.shared["history"] if self.ended_early else None

    def on_train_begin(self, logs=None):
        self.record["values"] = []  # a later execution of the same trial starts over
        created = self.shared.pop("created", None)
        if self.budget is not None and created is not None:
            self.budget.note_setup(time.monotonic() - created)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        value = logs.get(self.objective.name)
        values = self.record["values"]
        values.append(None if value is None else float(value))
        last_epoch = epoch + 1 >= self.params.get("epochs", epoch + 1)
        if self.budget is not None and not last_epoch \
                and self.budget.exhausted(reserve=self.budget.setup_s):
            self._stop("stopped", epoch, f"max_time spent after epoch {epoch + 1}")
        elif self.pruner is not None and not last_epoch:
            prune, median = self.pruner.check(
                epoch, values, self.objective.direction,
                self.curves.get(exclude=os.path.basename(self.trial_dir)))
            if prune:
                self._stop("pruned", epoch,
                           f"pruned after epoch {epoch + 1}: best {self.objective.name} "
                           f"{_best(values, self.objective.direction):.5g} worse than the "
                           f"median {median:.5g}")
        write_curve(self.trial_dir, self.record)
        if self.budget is not None:
            self.budget.save()

    def _stop(self, how, epoch, reason):
        self.record.update(state=how, epoch=epoch + 1, reason=reason)
        self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.shared["model"] = self.model
        self.shared["history"] = getattr(self.model, "history", None)

    def finish(self, status):
        """At the trial's end: ``status`` is keras-tuner's (COMPLETED, FAILED, ...)."""
        self.shared.update(model=None, history=None)
        if not self.ended_early:
            self.record["state"] = "completed" if status == "COMPLETED" else status.lower()
        write_curve(self.trial_dir, self.record)
