"""``search()``: a keras-tuner search over one registry entry.

One call runs (or resumes) the search, saves the best model with
``zoo.save`` (its card carries the hyperparameters and the objective value)
and returns a ``SearchResult`` with a table of every trial.

Distributed mode is keras-tuner's: set ``KERASTUNER_ORACLE_IP``,
``KERASTUNER_ORACLE_PORT`` and ``KERASTUNER_TUNER_ID`` (``chief`` for the
process that holds the oracle, any other id for a worker) and run the same
call in every process, over the same ``directory``.

The search's folder is claimed, locked while the search runs, identified
by its settings and data, and deleted only if the zoo made it: see
``tuner.project``.
"""

import contextlib
import csv
import dataclasses
import gc
import io
import itertools
import math
import os
import pathlib
import time
import zlib

import keras
import keras_tuner

import zoo
from tuner import ALGORITHMS, compat, errors, objectives as measured, pareto, project, \
    state, stopping
from tuner.errors import SearchFailedError
from tuner.hypermodel import ZooHyperModel
from zoo import files
from zoo.distribution import OneDeviceValidation
from zoo import validation as checks
from zoo.untrusted import printable, quoted

_Status = compat.TrialStatus


class TimeBudgetMixin:
    """Put before a keras-tuner ``Oracle``: no new trial once ``time_budget`` is spent."""

    time_budget = None  # a stopping.TimeBudget
    stopped_by_time = False

    def create_trial(self, tuner_id):
        # A new trial needs time to be built, and the search time to load and save
        # the best model at the end: both about the longest setup seen so far.
        if (self.time_budget is not None
                and self.time_budget.exhausted(reserve=2 * self.time_budget.setup_s)
                and tuner_id not in self.ongoing_trials):
            self.stopped_by_time = True
            return compat.stopped_trial(self, tuner_id)
        return super().create_trial(tuner_id)


class RandomOracle(state.CrashSafeOracleMixin, TimeBudgetMixin,
                   keras_tuner.oracles.RandomSearchOracle):
    """keras-tuner's random search oracle with crash-safe state files and a time budget."""


class BayesianOracle(state.CrashSafeOracleMixin, TimeBudgetMixin,
                     keras_tuner.oracles.BayesianOptimizationOracle):
    """keras-tuner's Bayesian optimisation oracle with crash-safe state files and a time budget."""


class HyperbandOracle(state.CrashSafeOracleMixin, TimeBudgetMixin,
                      keras_tuner.oracles.HyperbandOracle):
    """keras-tuner's Hyperband oracle with crash-safe state files and a time budget."""


class GridOracle(state.CrashSafeOracleMixin, TimeBudgetMixin, keras_tuner.Oracle):
    """Every combination of the space's choices and stepped ranges, in a fixed order.

    The next trial is the first combination not proposed before, so a
    resumed grid goes on where it stopped (keras-tuner's own grid oracle
    keeps its place in memory only).
    """

    def populate_space(self, trial_id):
        for values in grid_values(self.get_space()):
            if not compat.was_tried(self, values):
                return {"status": _Status.RUNNING, "values": values}
        return {"status": _Status.STOPPED, "values": None}


def grid_axis(item):
    """The values a grid takes for one hyperparameter (``hp.space`` item).

    Raises:
        ValueError: a range without a step (a continuous or log-sampled range).
    """
    kind = type(item).__name__
    if kind in ("Float", "Int") and item.step is None:
        raise ValueError(
            f"A grid takes choices and stepped ranges; {item.name!r} is a range ({kind}) "
            f"from {item.min_value:g} to {item.max_value:g} without a step. Fix it "
            f"(hyperparameters={{{item.name!r}: value}}, --hp {item.name}=VALUE), list its "
            f"values ([a, b], --hp {item.name}=A,B) or give a step "
            f"({{'min': .., 'max': .., 'step': ..}}). Received: algorithm='grid'")
    if kind == "Boolean":
        return [False, True]
    if kind == "Fixed":
        return [item.value]
    if kind == "Int":
        return sorted({int(value) for value in item.values})
    return list(item.values)


def grid_values(hp):
    """Every combination of ``hp``'s values, as dicts, in declaration order."""
    names = [item.name for item in hp.space]
    axes = [grid_axis(item) for item in hp.space]
    for combination in itertools.product(*axes):
        yield dict(zip(names, combination))


def grid_size(hp):
    """``(combinations, "name x count, ...")`` of ``hp``'s grid."""
    axes = [(item.name, len(grid_axis(item))) for item in hp.space]
    shown = ", ".join(f"{name}: {count}" for name, count in axes if count > 1)
    return math.prod(count for _, count in axes), shown or "nothing varies"


class RequireObjective(keras.callbacks.Callback):
    """Stop the whole search when the objective is not among the logged metrics.

    Without it every trial would fail the same way and the search would end
    with keras-tuner's "consecutive failures" error.
    """

    def __init__(self, name):
        super().__init__()
        self.name = name

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.name not in logs:
            raise keras_tuner.errors.FatalValueError(
                f"The objective {self.name!r} is not among the metrics the model logs "
                f"({', '.join(sorted(logs))}). Received: objective={self.name!r}"
            )


class ZooTuner(compat.TunerHooks, keras_tuner.Tuner):
    """A keras-tuner ``Tuner`` for ``ZooHyperModel``s, for any of our oracles.

    Differences from ``keras_tuner.Tuner``: the initial space is declared
    without building a model (a default configuration that the builder
    refuses does not stop the search); its own state file is written
    atomically and once before the first trial; the Keras session is cleared
    after every trial so memory stays flat; Hyperband's epoch schedule is
    honoured; the chief of a distributed search stops serving as soon as the
    last worker has been told to stop.

    Args:
        oracle: a keras-tuner ``Oracle`` (ours are crash-safe).
        hypermodel: a ``ZooHyperModel``.
        **kwargs: passed to ``keras_tuner.Tuner``.
    """

    def __init__(self, oracle, hypermodel, **kwargs):
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)
        self.finished_here = {}  # trial_id -> Trial, the trials this process ran
        self.trial_errors = {}  # trial_id -> one line naming the error of a failed trial
        self.verbose = 0
        self.distribution = None  # a zoo.Distribution to build and train under
        self.measured = ()  # the objectives this tuner measures on each trained model
        self.example = None  # one example (x) for latency_ms
        self.latency_runs = 20
        self.budget = None  # a stopping.TimeBudget
        self.pruner = None  # a stopping.MedianPruner
        self.monitors = {}  # trial_id -> stopping.TrialMonitor of a running trial
        self.seed = None  # seeds every trial's training (see training_seed)
        self._building = None  # [trial_id, executions built] of the running trial

    def declare_space(self, hp):
        self.hypermodel.declare_hyperparameters(hp)

    def write_state(self, path, state_dict):
        state.write_json_atomic(path, state_dict)

    def on_search_begin(self):
        if self.is_worker():
            # Before a worker writes a file: the chief claims (or reopens) the
            # folder before it serves, so once it answers the folder must be a search.
            self.oracle.get_space()
            project.check_worker_directory(self.project_dir)
        self.save()

    def try_build(self, hp):
        # keras-tuner clears the session and then collects garbage a second
        # time (~0.3 s each with TensorFlow loaded); once is enough. It must
        # happen here, when the last trial's model is no longer referenced:
        # cleared at the end of a trial, JAX kept ~60 MB per trial.
        keras.backend.clear_session()  # runs gc.collect()
        if self.distribution is not None and self.distribution.backend == "jax":
            # clear_session forgets Keras' global distribution: the trial's model
            # must be built under it.
            keras.distribution.set_distribution(self.distribution.engine)
        if self.seed is not None and self._building is not None:
            # The same search trains the same: each execution of each trial has its
            # own seed (weights, shuffling, dropout), whatever ran before it.
            trial_id, execution = self._building
            keras.utils.set_random_seed(training_seed(self.seed, trial_id, execution))
            self._building[1] += 1
        if keras.backend.backend() == "jax":
            # JAX keeps the compiled code of every model it has trained: 16
            # trainings of a tiny autoencoder grew the process by 212 MB;
            # clearing its caches keeps it flat (see compat.clear_jax_caches).
            compat.clear_jax_caches()
        # TensorFlow: a model built under the strategy trains under it (keras-tuner's
        # own distribution_strategy does the same); JAX: the search runs under it.
        tf_strategy = self.distribution is not None and self.distribution.backend != "jax"
        with self.distribution if tf_strategy else contextlib.nullcontext():
            model = self.build_hypermodel(hp)
        if not isinstance(model, keras.Model):
            raise keras_tuner.errors.FatalTypeError(
                f"The hypermodel must return a keras.Model. Received: model={model!r}")
        return model

    def on_trial_end(self, trial):
        monitor = self.monitors.pop(trial.trial_id, None)
        if monitor is not None:
            monitor.finish(trial.status)
        if self.budget is not None:
            self.budget.save()
        error = self.trial_errors.pop(trial.trial_id, None)
        if error is not None and trial.status != _Status.COMPLETED:
            # The first line names the error; keras-tuner's traceback follows.
            trial.message = f"{error}\n\n{trial.message or ''}"
            if self.verbose:
                print(f"Trial failed (trial_id {trial.trial_id}): {error}")
        super().on_trial_end(trial)
        self.finished_here[trial.trial_id] = trial

    def load_model(self, trial):
        model = self.try_build(trial.hyperparameters)
        tf_strategy = self.distribution is not None and self.distribution.backend != "jax"
        with self.distribution if tf_strategy else contextlib.nullcontext():
            _load_checkpoint(model, self.checkpoint_path(trial.trial_id))
        return model

    def run_trial(self, trial, *fit_args, **fit_kwargs):
        # Hyperband passes its schedule through reserved hyperparameters.
        values = trial.hyperparameters.values
        if "tuner/epochs" in values:
            fit_kwargs["epochs"] = values["tuner/epochs"]
            fit_kwargs["initial_epoch"] = values["tuner/initial_epoch"]
        objective = self.oracle.objective
        monitor = stopping.TrialMonitor(self.get_trial_dir(trial.trial_id), objective,
                                        self.budget, self.pruner,
                                        getattr(self, "completed_curves", None))
        self.monitors[trial.trial_id] = monitor
        self._building = [trial.trial_id, 0]
        fit_kwargs["callbacks"] = list(fit_kwargs.get("callbacks") or []) + [
            RequireObjective(objective.name), monitor]
        try:
            histories = super().run_trial(trial, *fit_args, **fit_kwargs)
            if not self.measured:
                return histories
            # The objectives measured on the trained model join every execution's metrics.
            model = monitor.shared["model"]
            values = measured.measure(model, self.measured, self.example, self.latency_runs)
            return [{**compat.metrics_at_best_epoch(history, objective), **values}
                    for history in histories]
        except Exception as error:
            # keras-tuner keeps only the traceback text, whose last line may
            # be JAX's note on filtered frames: keep the error itself.
            self.trial_errors[trial.trial_id] = errors.describe(error)
            raise
        finally:
            monitor.shared["model"] = None
            self._building = None

    def build_hypermodel(self, hp):
        model = super().build_hypermodel(hp)
        if "tuner/trial_id" in hp.values:
            _load_checkpoint(model, self.checkpoint_path(hp.values["tuner/trial_id"]))
        return model

    def search(self, *fit_args, **fit_kwargs):
        self.verbose = fit_kwargs.get("verbose", 0)
        if compat.is_chief_oracle():
            if "verbose" in fit_kwargs:
                self.oracle.verbose = fit_kwargs["verbose"]
            self.save()
            serve_oracle(self.oracle)
            return
        super().search(*fit_args, **fit_kwargs)


def training_seed(seed, trial_id, execution=0):
    """The seed of one execution of one trial of a search seeded with ``seed``.

    >>> seed = training_seed(0, "03")
    >>> seed == training_seed(0, "03"), seed == training_seed(0, "03", 1)
    (True, False)
    """
    return zlib.crc32(f"{seed}/{trial_id}/{execution}".encode()) & 0x7FFFFFFF


def _load_checkpoint(model, path):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        # keras-tuner's checkpoints hold the optimizer's variables too.
        optimizer.build(model.trainable_variables)
    model.load_weights(path)


def serve_oracle(oracle, poll_s=0.1):
    """Serve ``oracle`` over gRPC until every worker has been told to stop.

    keras-tuner's own ``start_server`` polls every 20 s once the search is
    over; this loop polls every ``poll_s`` seconds.
    """
    address = f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"
    server, servicer = compat.start_oracle_server(oracle, address)
    try:
        while not compat.chief_may_stop(oracle, servicer):
            time.sleep(poll_s)
    finally:
        server.stop(grace=2).wait()


@dataclasses.dataclass
class SearchResult:
    """What a search found.

    Attributes:
        model_name: the registry entry searched.
        objective: the first (or only) objective, and ``direction``
            ("min"/"max"); the search algorithm proposes trials by it.
        best_hyperparameters: values of the best trial.
        best_params: the ``zoo.build`` arguments they stand for.
        best_score: the best trial's first objective.
        best_trial_id: its id.
        best_model_path: the ``.keras`` file written with ``zoo.save``.
        best_model_sha256: that file's SHA-256.
        trials: one dict per trial (``trial_id``, ``status``, ``score``,
            ``hyperparameters``, ``metrics``, ``values`` (each objective's
            value), ``pareto`` (on the front), ``stopped_epoch`` (for a
            ``PRUNED`` or ``STOPPED`` trial), ``message``: a failed trial's
            error or why it stopped), in id order.
        project_dir: the folder holding the search state.
        role: ``"single"``, ``"chief"`` or ``"worker"``. A worker knows only
            the trials it ran (``trials``); the best-* fields are ``None``.
        objectives: ``[(name, direction), ...]``, every objective in order.
        pareto_front: the ids of the non-dominated trials (completed or
            stopped by the time budget, every objective measured).
        constraints: ``{name: bound}`` the best model had to meet.
        time_spent_s: seconds the search has spent, over every resume.
        stopped_by_time: ``max_time`` ended the search.
    """

    model_name: str
    objective: str
    direction: str
    best_hyperparameters: dict | None
    best_params: dict | None
    best_score: float | None
    best_trial_id: str | None
    best_model_path: str | None
    best_model_sha256: str | None
    trials: list
    project_dir: str
    role: str = "single"
    objectives: list = dataclasses.field(default_factory=list)
    pareto_front: list = dataclasses.field(default_factory=list)
    constraints: dict = dataclasses.field(default_factory=dict)
    time_spent_s: float | None = None
    stopped_by_time: bool = False

    def _extra_objectives(self):
        return [name for name, _ in self.objectives[1:]]

    def table(self):
        """The trials as a fixed-width text table (``*`` marks the Pareto front)."""
        names = []
        for row in self.trials:
            names += [name for name in row["hyperparameters"] if name not in names]
        extra = self._extra_objectives()
        several = len(self.objectives) > 1
        failed = any(row["message"] for row in self.trials)
        note = "error" if any(row["status"] == _Status.FAILED for row in self.trials) \
            else "note"
        header = (["trial", "status", self.objective] + extra + (["front"] if several else [])
                  + names + ([note] if failed else []))
        lines = [header]
        for row in self.trials:
            score = "" if row["score"] is None else f"{row['score']:.5g}"
            others = [_number(row.get("values", {}).get(name)) for name in extra]
            front = (["*" if row.get("pareto") else ""] if several else [])
            values = [printable(_short(row["hyperparameters"].get(name, "")), 60)
                      for name in names]
            error = [printable(row["message"] or "", 160)] if failed else []
            lines.append([row["trial_id"], row["status"], score] + others + front + values
                         + error)
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
        return "\n".join(
            "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip()
            for line in lines
        )

    def to_csv(self):
        """The trials as CSV text (hyperparameters and objectives in their own columns)."""
        names = []
        for row in self.trials:
            names += [name for name in row["hyperparameters"] if name not in names]
        extra = self._extra_objectives()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["trial_id", "status", self.objective] + extra
                        + ["pareto", "stopped_epoch"] + names + ["message"])
        for row in self.trials:
            writer.writerow([row["trial_id"], row["status"], row["score"]]
                            + [row.get("values", {}).get(name) for name in extra]
                            + [bool(row.get("pareto")), row.get("stopped_epoch")]
                            + [row["hyperparameters"].get(name, "") for name in names]
                            + [row["message"] or ""])
        return buffer.getvalue()

    def pareto_plot(self, path, overwrite=False, title=None):
        """Draw the trials and their Pareto front to ``path`` (.png, .svg or .pdf).

        Two objectives: a scatter with the front; more: parallel coordinates.
        An existing file is replaced only with ``overwrite=True``.

        Raises:
            ValueError: fewer than two objectives, or no trial to draw.
            ImportError: matplotlib is missing.
        """
        if len(self.objectives) < 2:
            raise ValueError("A Pareto plot needs at least two objectives; this search had "
                             f"{len(self.objectives)}. Received: objectives={self.objectives!r}")
        trials = [{"trial_id": row["trial_id"], "status": row["status"],
                   "values": row.get("values", {}), "pareto": bool(row.get("pareto"))}
                  for row in self.trials]
        default = f"{self.model_name}: {len(self.pareto_front)} of {len(self.trials)} " \
                  "trials on the Pareto front"
        return pareto.plot(path, trials, [tuple(item) for item in self.objectives],
                           title=title or default, overwrite=overwrite)


def _number(value):
    return "" if value is None else f"{value:.5g}"


def _short(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


#: keras-tuner's oracles treat seed 0 as "no seed" (``seed or random.randint(...)``):
#: ``seed=0`` reaches them as this value, so it proposes the same trials every time.
ORACLE_SEED_FOR_0 = 2**31 - 1


def _oracle(algorithm, objective, max_trials, epochs, seed, max_consecutive_failed_trials):
    if seed == 0:
        seed = ORACLE_SEED_FOR_0
    common = dict(objective=objective, seed=seed,
                  max_consecutive_failed_trials=max_consecutive_failed_trials)
    if algorithm == "random":
        return RandomOracle(max_trials=max_trials, **common)
    if algorithm == "bayesian":
        return BayesianOracle(max_trials=max_trials, **common)
    if algorithm == "grid":
        return GridOracle(max_trials=max_trials, **common)
    # Hyperband brackets repeat until `max_trials` trials have run.
    oracle = HyperbandOracle(max_epochs=max(epochs, 2), factor=3, hyperband_iterations=None,
                             **common)
    oracle.max_trials = max_trials
    return oracle


def _fit_arguments(train, validation, batch_size):
    kwargs = {}
    if isinstance(train, tuple):
        if len(train) != 2:
            raise ValueError(
                "`train` must be an (x, y) tuple or a dataset. "
                f"Received: train=tuple of length {len(train)}"
            )
        args = tuple(train)
        if batch_size is not None:
            kwargs["batch_size"] = batch_size
    else:
        args = (train,)
        # Datasets shuffle in their own pipeline; Keras warns about shuffle=True.
        kwargs["shuffle"] = False
    if validation is not None:
        if isinstance(validation, list):
            validation = tuple(validation)
        kwargs["validation_data"] = validation
    return args, kwargs


def _distributed_arguments(strategy, args, kwargs, callbacks):
    """``fit`` arguments whose batches split across ``strategy``'s devices."""
    if len(args) == 2:
        batch_size = kwargs.setdefault("batch_size", 32)
        args = strategy.split_arrays(*args, batch_size)
    else:
        # A dataset of batches: one graph batch per element (leading axis 1) is
        # regrouped one per device; batches of examples keep their size.
        rows = strategy.first_batch_rows(args[0])
        args = (strategy.split_batches(args[0], strategy.check_batch_size(rows) if rows > 1
                                       else None, graph=rows == 1),)
    validation = kwargs.get("validation_data")
    if validation is not None and strategy.backend == "jax" and strategy.num_replicas > 1:
        del kwargs["validation_data"]
        callbacks = callbacks + [OneDeviceValidation(validation)]
    return args, kwargs, callbacks


def search_role():
    """``"single"``, or ``"chief"``/``"worker"`` in a distributed search (from the environment)."""
    if not compat.has_chief_oracle():
        return "single"
    return "chief" if compat.is_chief_oracle() else "worker"


def _settings(model_name, algorithm, objective, hyperparameters, overrides, epochs,
              batch_size, seed, executions_per_trial, data, plan=None):
    """The settings that identify a search (see ``tuner.project``).

    Several objectives and pruning are recorded only when used, so a search
    of an earlier release resumes with neither.
    """
    settings = {
        "model_name": model_name, "algorithm": algorithm, "objective": objective.name,
        "direction": objective.direction, "hyperparameters": hyperparameters or {},
        "overrides": overrides or {}, "epochs": epochs, "batch_size": batch_size,
        "seed": seed, "executions_per_trial": executions_per_trial, "data": data,
    }
    if plan is not None and len(plan.objectives) > 1:
        settings["objectives"] = [[o.name, o.direction] for o in plan.objectives]
    if plan is not None and plan.pruner is not None:
        settings["pruning"] = {"rule": "median", "warmup": plan.pruner.warmup,
                               "min_trials": plan.pruner.min_trials}
    return zoo.to_jsonable(settings)


def check_best_model_path(path, overwrite=False):
    """Fail before a search starts if the best model cannot be saved at ``path``.

    Raises:
        ValueError: ``path`` does not end in ``.keras``.
        FileExistsError: ``path`` (or its ``.sha256``) exists and
            ``overwrite`` is False.
        IsADirectoryError, NotADirectoryError, PermissionError: see
            ``zoo.files.check_new_file``.
    """
    path = pathlib.Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"The best model is saved as a .keras file. "
                         f"Received: best_model_path={quoted(path)}")
    for existing in (path, path.with_name(path.name + ".sha256")):
        if (existing.is_symlink() or existing.exists()) and not existing.is_dir() \
                and not overwrite:
            raise FileExistsError(
                f"{quoted(existing)} already exists; pass overwrite=True (zoo tune "
                "--overwrite) to replace it, or choose another path. "
                f"Received: best_model_path={quoted(path)}")
    files.check_new_file(path, overwrite=overwrite, what="best model path")
    return path


def _consecutive_failures(oracle):
    count = 0
    for trial_id in reversed(oracle.end_order):
        if oracle.trials[trial_id].status != _Status.FAILED:
            break
        count += 1
    return count


def _trial_rows(trials, project_dir, objectives=()):
    rows = []
    for trial_id in sorted(trials):
        trial = trials[trial_id]
        metrics = {}
        for name in trial.metrics.metrics:
            value = trial.metrics.get_best_value(name)
            if value is not None:
                metrics[name] = float(value)
        message = errors.trial_error(trial.message) if trial.status != _Status.COMPLETED \
            else None
        status, stopped_epoch = trial.status, None
        curve = stopping.read_curve(os.path.join(project_dir, f"trial_{trial.trial_id}"))
        if status == _Status.COMPLETED and curve is not None \
                and curve.get("state") in ("pruned", "stopped"):
            status = stopping.PRUNED if curve["state"] == "pruned" else stopping.STOPPED
            stopped_epoch = curve.get("epoch")
            message = printable(curve.get("reason", ""), 200)
        rows.append({
            "trial_id": trial.trial_id,
            "status": status,
            "score": None if trial.score is None else float(trial.score),
            "hyperparameters": {key: value for key, value in trial.hyperparameters.values.items()
                                if not key.startswith("tuner/")},
            "metrics": metrics,
            "values": {objective.name: metrics.get(objective.name) for objective in objectives},
            "stopped_epoch": stopped_epoch,
            "pareto": False,
            "message": message,
        })
    return rows


def _eligible(row):
    """Completed (or stopped by the time budget) with every objective measured."""
    return row["status"] in (_Status.COMPLETED, stopping.STOPPED) and all(
        value is not None and math.isfinite(value) for value in row["values"].values())


def _mark_front(rows, objectives):
    """Mark the non-dominated eligible rows; returns their trial ids."""
    candidates = [row for row in rows if _eligible(row)]
    directions = [objective.direction for objective in objectives]
    points = [[row["values"][objective.name] for objective in objectives]
              for row in candidates]
    front = [candidates[index] for index in pareto.front(points, directions)]
    for row in front:
        row["pareto"] = True
    return [row["trial_id"] for row in front]


def _choose_best(rows, objectives, constraints):
    """The best first objective among eligible rows that meet the constraints."""
    primary = objectives[0]
    feasible = [row for row in rows if _eligible(row)
                and measured.satisfies(row["values"], constraints, objectives)]
    if not feasible:
        return None
    sign = 1.0 if primary.direction == "min" else -1.0
    return min(feasible, key=lambda row: (sign * row["values"][primary.name], row["trial_id"]))


def save_model(model, path, metadata, overwrite=False):
    """``zoo.save`` with a card; returns the SHA-256."""
    return zoo.save(model, path, metadata=metadata, overwrite=overwrite)


def search(model_name, train, validation=None, *, objective=None, direction=None,
           objectives=None, constraints=None, algorithm="random", max_trials=10, epochs=5,
           max_time=None, pruning=None, directory="tuner_runs",
           project_name=None, resume=True, hyperparameters=None, overrides=None,
           batch_size=None, seed=0, max_consecutive_failed_trials=3, executions_per_trial=1,
           best_model_path=None, overwrite=False, dataset=None, callbacks=None, verbose=0,
           distribute=None, latency_runs=20, **fit_kwargs):
    """Search the hyperparameters of the registry entry ``model_name``.

    Args:
        model_name: a registry name (see ``zoo.list_models()``).
        train: ``(x, y)`` arrays (``x``/``y`` may be dicts keyed by input or
            output name) or a dataset yielding ``(x, y)`` batches.
        validation: the same for validation; needed for ``val_*`` objectives.
        objective: the metric to optimise, as Keras logs it (default
            ``"val_loss"``; ``"val_accuracy"``, ...) or a ``keras_tuner.Objective``.
        direction: ``"min"``/``"max"``; inferred from the name when ``None``
            (a direction that contradicts the name is refused).
        objectives: several objectives instead of ``objective``: names,
            ``(name, direction)`` pairs or ``keras_tuner.Objective``s. Besides
            logged metrics, the tuner measures ``latency_ms`` (median batch-1
            ``predict_on_batch`` time), ``params`` and ``file_bytes`` on every
            trial's model. The first objective is a logged metric: the
            algorithm proposes trials by it and it picks each trial's best
            epoch. The result marks the Pareto front (``pareto_front``,
            ``pareto_plot``).
        constraints: ``{objective: bound}`` (an upper bound for a minimised
            objective, a lower one for a maximised objective). The best model
            is the trial with the best first objective among those meeting
            every constraint (without constraints: the best first objective).
        algorithm: ``"random"``, ``"bayesian"``, ``"hyperband"`` or ``"grid"``
            (every combination of the choices and stepped ranges, in order;
            a grid larger than ``max_trials`` or a range without a step is
            refused).
        max_trials: how many trials in all (including failed ones and those
            run before a resume).
        epochs: epochs per trial (Hyperband: the most epochs of any trial).
        max_time: a wall-clock budget for the whole search (seconds, or
            ``"90s"``, ``"30m"``, ``"1h30m"``): no trial starts after it, and
            the running trial stops at the end of its epoch (``STOPPED``). Time
            spent before a resume counts (``zoo_time.json``).
        pruning: ``"median"`` or ``{"rule": "median", "warmup": 1,
            "min_trials": 3}``: after ``warmup`` epochs, a trial whose best
            objective so far is worse than the median of ``min_trials`` or
            more completed trials at the same epoch stops (``PRUNED``, with the
            epoch). Random, Bayesian and grid searches; off by default.
        directory, project_name: the search lives in
            ``directory/project_name`` (default project name: the model name;
            one plain folder name, not a path). A new search claims that
            folder (it must not exist, or be empty); a folder that is not a
            search is never written to or deleted.
        resume: continue the search found there (``False`` deletes it, if
            the zoo made it, and starts over). A resumed search must use the
            same settings and data: model, algorithm, objective, direction,
            space edits, overrides, epochs, batch size, seed,
            ``executions_per_trial`` and the data's fingerprint (see
            ``tuner.project``).
        hyperparameters: edits of the declared space (see ``ZooHyperModel``):
            a value fixes a name, ``(low, high)`` narrows it, a list makes it a
            choice; a ``zoo.build`` parameter the space lacks is added.
        overrides: ``zoo.build`` arguments that are not searched (input sizes,
            vocabularies, number of classes, ...).
        batch_size: for array data.
        seed: seeds the oracle, so the same call proposes the same trials,
            and every trial's training (initial weights, shuffling, dropout;
            each execution and trial its own seed, ``training_seed``), so the
            same call on the same backend trains the same. It sets Keras'
            global seeds (``keras.utils.set_random_seed``) before each trial.
        max_consecutive_failed_trials: stop after this many failures in a row.
        executions_per_trial: trainings per trial (the objective is averaged).
        best_model_path: where to save the best model (default:
            ``<project>/best_model.keras``, which the search owns and
            replaces). Checked before the search starts.
        overwrite: replace an existing ``best_model_path`` (default: an
            existing file is refused before the search starts).
        dataset: a short description of the data, kept on the model card.
        callbacks: extra Keras callbacks for every trial (must deep-copy).
        verbose: 0 is silent; 1 prints keras-tuner's trial tables, Keras'
            progress bars and one line per failed trial (its full traceback
            too with ``ZOO_TRACEBACK=1``).
        latency_runs: timed calls per ``latency_ms`` measurement.
        distribute: ``"data_parallel"`` trains every trial across the local
            devices (``zoo.distribute``). Array data is cut to whole batches
            (``batch_size``, default 32, must split across the devices), a
            dataset's batches likewise; on JAX the validation data is scored
            on one device at each epoch's end (``OneDeviceValidation``).
        **fit_kwargs: passed on to ``model.fit``.

    Returns:
        A ``SearchResult``. On a distributed worker it lists only the trials
        that worker ran.

    Raises:
        ValueError: unknown model, algorithm or hyperparameter, a bad range,
            ``max_trials``/``epochs`` < 1, an objective the model does not log,
            a contradicting direction, a ``max_time`` that does not parse,
            pruning with one epoch or with Hyperband, a grid larger than
            ``max_trials``, a ``val_*`` objective without
            validation data, a ``project_name`` that is not one folder name,
            a folder that is not a search (``resume=False`` included), or a
            resumed project started with other settings or data.
        TypeError: an unknown ``zoo.build`` parameter in ``overrides``.
        FileExistsError: ``best_model_path`` exists (without
            ``overwrite``), or another process claimed or runs the search.
        SearchFailedError: (a ``RuntimeError``) no trial completed, or too
            many failures in a row; the message names the last error.

    >>> x = np.random.default_rng(1).random((40, 6)).astype("float32")
    >>> result = search("dense_autoencoder", (x[:32], x[:32]), (x[32:], x[32:]), max_trials=1,
    ...                 epochs=1, hyperparameters={"code_size": (2, 4)},
    ...                 overrides={"input_dim": 6}, directory="runs", project_name="ae")
    >>> 2 <= result.best_hyperparameters["code_size"] <= 4
    True
    """
    started = time.monotonic()
    checks.choice("algorithm", algorithm, ALGORITHMS)
    checks.positive_int("max_trials", max_trials)
    checks.positive_int("epochs", epochs)
    checks.positive_int("latency_runs", latency_runs)
    plan = _plan(objective, direction, objectives, constraints, max_time, pruning, epochs,
                 algorithm, executions_per_trial, latency_runs)
    objective = plan.objectives[0]
    measured.check_logged(plan.objectives, None, validation is not None)
    strategy = None if distribute is None else zoo.distribute(distribute)
    args, kwargs = _fit_arguments(train, validation, batch_size)
    callbacks = list(callbacks or [])
    if strategy is not None:
        args, kwargs, callbacks = _distributed_arguments(strategy, args, kwargs, callbacks)
    hypermodel = ZooHyperModel(model_name, hyperparameters=hyperparameters, overrides=overrides)
    model_name = hypermodel.model_name
    if algorithm == "grid":
        _check_grid(hypermodel, max_trials)
    role = search_role()
    project_name = project.check_project_name(model_name if project_name is None
                                              else project_name)
    project_dir = os.path.join(os.fspath(directory), project_name)
    plan.example = measured.example_batch(args)
    plan.started = started
    lock = None
    if role != "worker":
        if best_model_path is not None:
            best_model_path = check_best_model_path(best_model_path, overwrite)
        measured.check_logged(plan.objectives, _logged_metrics(hypermodel, plan),
                              validation is not None)
        settings = _settings(model_name, algorithm, objective, hyperparameters, overrides,
                             epochs, batch_size, seed, executions_per_trial,
                             project.fingerprint(train, validation, dataset), plan)
        lock = project.open_project(project_dir, settings, resume)
    try:
        return _search(hypermodel, args, kwargs, objective, algorithm, max_trials, epochs,
                       directory, project_name, project_dir, role, seed,
                       max_consecutive_failed_trials, executions_per_trial, best_model_path,
                       overwrite, dataset, callbacks, verbose, fit_kwargs, strategy, plan)
    finally:
        if lock is not None:
            lock.release()


@dataclasses.dataclass
class _Plan:
    """The objectives of a search and how it may end early."""

    objectives: list
    constraints: dict
    max_time_s: float | None
    pruner: object
    latency_runs: int
    example: object = None  # (x, y) of one training example
    started: float | None = None  # time.monotonic() when search() was called

    @property
    def measured(self):
        return tuple(o.name for o in self.objectives if o.name in measured.MEASURED)


def _plan(objective, direction, objectives, constraints, max_time, pruning, epochs, algorithm,
          executions_per_trial, latency_runs):
    if objectives is not None and objective is not None:
        raise ValueError("Give `objective` (one) or `objectives` (a list), not both. "
                         f"Received: objective={objective!r}, objectives={objectives!r}")
    if objectives is None:
        parsed = [measured.one("val_loss" if objective is None else objective, direction)]
    else:
        if direction is not None:
            raise ValueError("With `objectives`, give each direction in a (name, direction) "
                             f"pair. Received: direction={direction!r}")
        parsed = measured.parse(objectives)
    if parsed[0].name in measured.MEASURED:
        raise ValueError(
            f"The first objective guides the search and picks the best epoch, so it is a "
            f"metric the model logs (val_loss, ...); put {parsed[0].name!r} after it. "
            f"Received: objectives={[o.name for o in parsed]!r}")
    return _Plan(parsed, measured.check_constraints(constraints, parsed),
                 None if max_time is None else measured.parse_duration(max_time),
                 stopping.parse_pruning(pruning, epochs, algorithm, executions_per_trial),
                 latency_runs)


def _check_grid(hypermodel, max_trials):
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    size, shown = grid_size(hp)
    if size > max_trials:
        raise ValueError(
            f"The grid has {size} combinations ({shown}), more than max_trials={max_trials}; "
            "raise max_trials or narrow the space (fix values or list fewer with "
            f"hyperparameters= / --hp). Received: max_trials={max_trials}")


def _logged_metrics(hypermodel, plan):
    """The metric names (without ``val_``) a model of the space logs, or ``None``.

    Only asked when an objective is neither a loss nor measured: it builds
    the space's default model and evaluates it on one example.
    """
    names = [o.name for o in plan.objectives]
    if all(name in measured.ALWAYS_LOGGED or name in measured.MEASURED for name in names):
        return None
    if plan.example is None:
        return None
    try:
        model = hypermodel.build(keras_tuner.HyperParameters())
        logs = model.evaluate(*plan.example, verbose=0, return_dict=True)
        return set(logs)
    except Exception:  # noqa: BLE001 - a default the builder refuses: trials will tell
        return None
    finally:
        keras.backend.clear_session()


def _search(hypermodel, args, kwargs, objective, algorithm, max_trials, epochs, directory,
            project_name, project_dir, role, seed, max_consecutive_failed_trials,
            executions_per_trial, best_model_path, overwrite, dataset, callbacks, verbose,
            fit_kwargs, strategy, plan):
    model_name = hypermodel.model_name
    oracle = _oracle(algorithm, objective, max_trials, epochs, seed, max_consecutive_failed_trials)
    # The folder is ours (claimed, or checked and locked) or the chief's: never
    # let keras-tuner delete it (resume=False went through project.open_project).
    tuner = ZooTuner(oracle, hypermodel, directory=os.fspath(directory), project_name=project_name,
                     overwrite=False, executions_per_trial=executions_per_trial)
    tuner.distribution = strategy
    tuner.seed = seed
    budget = stopping.TimeBudget(project_dir, plan.max_time_s, record=role != "worker",
                                 start=plan.started)
    tuner.budget, tuner.pruner = budget, plan.pruner
    tuner.completed_curves = stopping.CompletedCurves(project_dir)
    tuner.measured, tuner.latency_runs = plan.measured, plan.latency_runs
    tuner.example = None if plan.example is None else plan.example[0]
    if role != "worker":
        # A resumed search may be asked for more trials than it first was.
        oracle.max_trials = max_trials
        oracle.time_budget = budget

    def make_result(rows, role=role):
        return SearchResult(model_name, objective.name, objective.direction, None, None, None,
                            None, None, None, rows, project_dir, role,
                            objectives=[[o.name, o.direction] for o in plan.objectives],
                            constraints=dict(plan.constraints),
                            time_spent_s=round(budget.spent(), 3),
                            stopped_by_time=bool(getattr(oracle, "stopped_by_time", False)))

    # Every trial starts with a full garbage collection (see ZooTuner._try_build).
    # With TensorFlow loaded that walks ~10^6 long-lived objects (~0.3 s);
    # freezing what exists now limits it to what the search creates.
    # Unfreezing afterwards hands those objects back to the collector.
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    try:
        # keras-tuner prints the traceback of every failed trial in debug mode
        # (its default); the trial table keeps the error either way.
        # JAX: fit splits batches only under the global distribution (TensorFlow:
        # each trial's model is built under the strategy, see ZooTuner.try_build,
        # whose clear_session would drop a strategy scope entered here).
        jax_strategy = strategy if strategy is not None and strategy.backend == "jax" else None
        with compat.debug_traces(bool(verbose) and errors.wants_traceback()), \
                jax_strategy or contextlib.nullcontext():
            tuner.search(*args, epochs=epochs, callbacks=list(callbacks or []), verbose=verbose,
                         **{**kwargs, **fit_kwargs})
    except RuntimeError as error:
        # keras-tuner's "consecutive failures" error carries a whole traceback.
        failures = 0 if role == "worker" else _consecutive_failures(tuner.oracle)
        if failures < max_consecutive_failed_trials:
            raise
        rows = _trial_rows(tuner.oracle.trials, project_dir, plan.objectives)
        _write_trials_csv(make_result(rows))
        last = next((row["message"] for row in reversed(rows) if row["message"]), None)
        raise SearchFailedError(
            f"The search in {quoted(project_dir)} stopped after {failures} failed trials in a "
            f"row (max_consecutive_failed_trials={max_consecutive_failed_trials}); the trials "
            f"are listed in trials.csv. Received: last_error={_quoted_error(last)}") from error
    finally:
        budget.save()
        if freeze:
            gc.unfreeze()

    if role == "worker":
        # A worker's copies of its trials carry their status, not their metrics.
        return make_result(_trial_rows(tuner.finished_here, project_dir, plan.objectives))
    rows = _trial_rows(tuner.oracle.trials, project_dir, plan.objectives)
    result = make_result(rows)
    result.pareto_front = _mark_front(rows, plan.objectives)
    best_row = _choose_best(rows, plan.objectives, plan.constraints)
    _write_trials_csv(result)
    if best_row is None:
        last = next((row["message"] for row in reversed(rows)
                     if row["message"] and row["status"] == _Status.FAILED), None)
        if any(_eligible(row) for row in rows):
            raise SearchFailedError(
                f"No trial of the search in {quoted(project_dir)} meets the constraints "
                f"{plan.constraints}; the trials are listed in trials.csv. "
                f"Received: constraints={plan.constraints}")
        spent = " (max_time was spent first)" if result.stopped_by_time else ""
        raise SearchFailedError(
            f"No trial of the search in {quoted(project_dir)} completed{spent}; the trials are "
            f"listed in trials.csv. Received: last_error={_quoted_error(last)}"
        )
    best = tuner.oracle.trials[best_row["trial_id"]]
    model = tuner.load_model(best)
    best_values = dict(best_row["hyperparameters"])
    result.best_hyperparameters = best_values
    result.best_params = zoo.to_jsonable(hypermodel.params(best.hyperparameters.copy()))
    result.best_score = float(best_row["values"][objective.name])
    result.best_trial_id = best.trial_id
    if best_model_path is None:
        # The default path is inside the search's own folder: the zoo owns it.
        best_model_path, overwrite = os.path.join(project_dir, "best_model.keras"), True
    result.best_model_path = os.fspath(best_model_path)
    metadata = {
        "hyperparameters": best_values,
        "metrics": {objective.name: result.best_score, **best_row["metrics"]},
        "dataset": dataset,
        "search": {"model_name": model_name, "algorithm": algorithm,
                   "objective": objective.name, "direction": objective.direction,
                   "trial_id": best.trial_id, "max_trials": max_trials, "epochs": epochs,
                   "trials_completed": sum(_eligible(row) for row in rows),
                   "project_dir": project_dir},
    }
    if len(plan.objectives) > 1:
        metadata["search"].update(
            objectives=result.objectives, constraints=result.constraints,
            pareto_front=result.pareto_front, on_pareto_front=best_row["pareto"])
    result.best_model_sha256 = save_model(model, result.best_model_path, metadata, overwrite)
    del model
    keras.backend.clear_session()
    state.write_json_atomic(os.path.join(project_dir, "result.json"),
                            zoo.to_jsonable(dataclasses.asdict(result)))
    return result


def _write_trials_csv(result):
    state.write_text_atomic(os.path.join(result.project_dir, "trials.csv"), result.to_csv())


def _quoted_error(message):
    return "None" if message is None else quoted(message)
