"""``search()``: a keras-tuner search over one registry entry.

One call runs (or resumes) the search, saves the best model with
``zoo.save`` (its card carries the hyperparameters and the objective value)
and returns a ``SearchResult`` with a table of every trial.

Distributed mode is keras-tuner's: set ``KERASTUNER_ORACLE_IP``,
``KERASTUNER_ORACLE_PORT`` and ``KERASTUNER_TUNER_ID`` (``chief`` for the
process that holds the oracle, any other id for a worker) and run the same
call in every process, over the same ``directory``.
"""

import csv
import dataclasses
import gc
import io
import json
import os
import time

import keras
import keras_tuner

import zoo
from zoo import validation as checks
from tuner import ALGORITHMS, compat, state
from tuner.hypermodel import ZooHyperModel

_Status = compat.TrialStatus
_SETTINGS_FILE = "zoo_search.json"


class RandomOracle(state.CrashSafeOracleMixin, keras_tuner.oracles.RandomSearchOracle):
    """keras-tuner's random search oracle with crash-safe state files."""


class BayesianOracle(state.CrashSafeOracleMixin,
                     keras_tuner.oracles.BayesianOptimizationOracle):
    """keras-tuner's Bayesian optimisation oracle with crash-safe state files."""


class HyperbandOracle(state.CrashSafeOracleMixin, keras_tuner.oracles.HyperbandOracle):
    """keras-tuner's Hyperband oracle with crash-safe state files."""


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

    def declare_space(self, hp):
        self.hypermodel.declare_hyperparameters(hp)

    def write_state(self, path, state_dict):
        state.write_json_atomic(path, state_dict)

    def on_search_begin(self):
        self.save()

    def try_build(self, hp):
        # keras-tuner clears the session and then collects garbage a second
        # time (~0.3 s each with TensorFlow loaded); once is enough. It must
        # happen here, when the last trial's model is no longer referenced:
        # cleared at the end of a trial, JAX kept ~60 MB per trial.
        keras.backend.clear_session()  # runs gc.collect()
        if keras.backend.backend() == "jax":
            # JAX keeps the compiled code of every model it has trained: 16
            # trainings of a tiny autoencoder grew the process by 212 MB;
            # clearing its caches keeps it flat (see compat.clear_jax_caches).
            compat.clear_jax_caches()
        model = self.build_hypermodel(hp)
        if not isinstance(model, keras.Model):
            raise keras_tuner.errors.FatalTypeError(
                f"The hypermodel must return a keras.Model. Received: model={model!r}")
        return model

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        self.finished_here[trial.trial_id] = trial

    def load_model(self, trial):
        model = self.try_build(trial.hyperparameters)
        _load_checkpoint(model, self.checkpoint_path(trial.trial_id))
        return model

    def run_trial(self, trial, *fit_args, **fit_kwargs):
        # Hyperband passes its schedule through reserved hyperparameters.
        values = trial.hyperparameters.values
        if "tuner/epochs" in values:
            fit_kwargs["epochs"] = values["tuner/epochs"]
            fit_kwargs["initial_epoch"] = values["tuner/initial_epoch"]
        fit_kwargs["callbacks"] = list(fit_kwargs.get("callbacks") or []) + [
            RequireObjective(self.oracle.objective.name)]
        return super().run_trial(trial, *fit_args, **fit_kwargs)

    def build_hypermodel(self, hp):
        model = super().build_hypermodel(hp)
        if "tuner/trial_id" in hp.values:
            _load_checkpoint(model, self.checkpoint_path(hp.values["tuner/trial_id"]))
        return model

    def search(self, *fit_args, **fit_kwargs):
        if compat.is_chief_oracle():
            if "verbose" in fit_kwargs:
                self.oracle.verbose = fit_kwargs["verbose"]
            self.save()
            serve_oracle(self.oracle)
            return
        super().search(*fit_args, **fit_kwargs)


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
        objective: the metric optimised, and ``direction`` ("min"/"max").
        best_hyperparameters: values of the best completed trial.
        best_params: the ``zoo.build`` arguments they stand for.
        best_score: the best trial's objective value.
        best_trial_id: its id.
        best_model_path: the ``.keras`` file written with ``zoo.save``.
        best_model_sha256: that file's SHA-256.
        trials: one dict per trial (``trial_id``, ``status``, ``score``,
            ``hyperparameters``, ``metrics``, ``message``), in id order.
        project_dir: the folder holding the search state.
        role: ``"single"``, ``"chief"`` or ``"worker"``. A worker knows only
            the trials it ran (``trials``); the best-* fields are ``None``.
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

    def table(self):
        """The trials as a fixed-width text table."""
        names = []
        for row in self.trials:
            names += [name for name in row["hyperparameters"] if name not in names]
        header = ["trial", "status", self.objective] + names
        lines = [header]
        for row in self.trials:
            score = "" if row["score"] is None else f"{row['score']:.5g}"
            values = [_short(row["hyperparameters"].get(name, "")) for name in names]
            lines.append([row["trial_id"], row["status"], score] + values)
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
        return "\n".join(
            "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip()
            for line in lines
        )

    def to_csv(self):
        """The trials as CSV text (hyperparameters in their own columns)."""
        names = []
        for row in self.trials:
            names += [name for name in row["hyperparameters"] if name not in names]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["trial_id", "status", self.objective] + names + ["message"])
        for row in self.trials:
            writer.writerow([row["trial_id"], row["status"], row["score"]]
                            + [row["hyperparameters"].get(name, "") for name in names]
                            + [row["message"] or ""])
        return buffer.getvalue()


def _short(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _objective(objective, direction):
    if isinstance(objective, keras_tuner.Objective):
        return objective
    if not isinstance(objective, str) or not objective:
        raise TypeError(f"`objective` must be a metric name. Received: objective={objective!r}")
    if direction is not None:
        checks.choice("direction", direction, ("min", "max"))
        return keras_tuner.Objective(objective, direction)
    name = objective.removeprefix("val_")
    if any(word in name for word in ("loss", "error", "crossentropy", "perplexity")):
        return keras_tuner.Objective(objective, "min")
    if any(word in name for word in ("acc", "auc", "precision", "recall", "f1", "match")):
        return keras_tuner.Objective(objective, "max")
    raise ValueError(
        f"Cannot tell whether {objective!r} should go up or down; pass direction='min' or "
        f"'max'. Received: objective={objective!r}"
    )


def _oracle(algorithm, objective, max_trials, epochs, seed, max_consecutive_failed_trials):
    common = dict(objective=objective, seed=seed,
                  max_consecutive_failed_trials=max_consecutive_failed_trials)
    if algorithm == "random":
        return RandomOracle(max_trials=max_trials, **common)
    if algorithm == "bayesian":
        return BayesianOracle(max_trials=max_trials, **common)
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


def _role():
    if not compat.has_chief_oracle():
        return "single"
    return "chief" if compat.is_chief_oracle() else "worker"


def _check_settings(project_dir, settings, resume):
    """Refuse to resume a project that was started with other settings."""
    path = os.path.join(project_dir, _SETTINGS_FILE)
    if resume and os.path.exists(path):
        with open(path) as handle:
            previous = json.load(handle)
        changed = sorted(key for key in settings if previous.get(key) != settings[key])
        if changed:
            key = changed[0]
            raise ValueError(
                f"The search in {project_dir} was started with {key}={previous.get(key)!r}; "
                "resume it with the same settings, or pass resume=False (starts over) or "
                f"another project_name. Received: {key}={settings[key]!r}"
            )


def _trial_rows(trials):
    rows = []
    for trial_id in sorted(trials):
        trial = trials[trial_id]
        metrics = {}
        for name in trial.metrics.metrics:
            value = trial.metrics.get_best_value(name)
            if value is not None:
                metrics[name] = float(value)
        message = None
        if trial.message:
            message = trial.message.strip().splitlines()[-1]
        rows.append({
            "trial_id": trial.trial_id,
            "status": trial.status,
            "score": None if trial.score is None else float(trial.score),
            "hyperparameters": {key: value for key, value in trial.hyperparameters.values.items()
                                if not key.startswith("tuner/")},
            "metrics": metrics,
            "message": message,
        })
    return rows


def save_model(model, path, metadata):
    """``zoo.save`` with a card; returns the SHA-256."""
    return zoo.save(model, path, metadata=metadata, overwrite=True)


def search(model_name, train, validation=None, *, objective="val_loss", direction=None,
           algorithm="random", max_trials=10, epochs=5, directory="tuner_runs",
           project_name=None, resume=True, hyperparameters=None, overrides=None,
           batch_size=None, seed=0, max_consecutive_failed_trials=3, executions_per_trial=1,
           best_model_path=None, dataset=None, callbacks=None, verbose=0, **fit_kwargs):
    """Search the hyperparameters of the registry entry ``model_name``.

    Args:
        model_name: a registry name (see ``zoo.list_models()``).
        train: ``(x, y)`` arrays (``x``/``y`` may be dicts keyed by input or
            output name) or a dataset yielding ``(x, y)`` batches.
        validation: the same for validation; needed for ``val_*`` objectives.
        objective: the metric to optimise, as Keras logs it (``"val_loss"``,
            ``"val_accuracy"``, ...) or a ``keras_tuner.Objective``.
        direction: ``"min"``/``"max"``; inferred from the name when ``None``.
        algorithm: ``"random"``, ``"bayesian"`` or ``"hyperband"``.
        max_trials: how many trials in all (including failed ones and those
            run before a resume).
        epochs: epochs per trial (Hyperband: the most epochs of any trial).
        directory, project_name: the search lives in
            ``directory/project_name`` (default project name: the model name).
        resume: continue the search found there (``False`` deletes it and
            starts over). A resumed search must use the same settings.
        hyperparameters: edits of the declared space (see ``ZooHyperModel``):
            a value fixes a name, ``(low, high)`` narrows it, a list makes it a
            choice; a ``zoo.build`` parameter the space lacks is added.
        overrides: ``zoo.build`` arguments that are not searched (input sizes,
            vocabularies, number of classes, ...).
        batch_size: for array data.
        seed: seeds the oracle, so the same call proposes the same trials.
        max_consecutive_failed_trials: stop after this many failures in a row.
        executions_per_trial: trainings per trial (the objective is averaged).
        best_model_path: where to save the best model (default:
            ``<project>/best_model.keras``).
        dataset: a short description of the data, kept on the model card.
        callbacks: extra Keras callbacks for every trial (must deep-copy).
        verbose: 0 is silent; 1 prints keras-tuner's trial tables and Keras'
            progress bars.
        **fit_kwargs: passed on to ``model.fit``.

    Returns:
        A ``SearchResult``. On a distributed worker it lists only the trials
        that worker ran.

    Raises:
        ValueError: unknown model, algorithm or hyperparameter, a bad range,
            ``max_trials``/``epochs`` < 1, a ``val_*`` objective without
            validation data, or a resumed project started with other settings.
        TypeError: an unknown ``zoo.build`` parameter in ``overrides``.
        RuntimeError: no trial completed, or too many failures in a row.

    >>> x = np.random.default_rng(1).random((40, 6)).astype("float32")
    >>> result = search("dense_autoencoder", (x[:32], x[:32]), (x[32:], x[32:]), max_trials=1,
    ...                 epochs=1, hyperparameters={"code_size": (2, 4)},
    ...                 overrides={"input_dim": 6}, directory="runs", project_name="ae")
    >>> 2 <= result.best_hyperparameters["code_size"] <= 4
    True
    """
    checks.choice("algorithm", algorithm, ALGORITHMS)
    checks.positive_int("max_trials", max_trials)
    checks.positive_int("epochs", epochs)
    objective = _objective(objective, direction)
    if objective.name.startswith("val_") and validation is None:
        raise ValueError(
            f"The objective {objective.name!r} is measured on validation data; pass "
            "`validation` or choose a training metric. Received: validation=None"
        )
    args, kwargs = _fit_arguments(train, validation, batch_size)
    hypermodel = ZooHyperModel(model_name, hyperparameters=hyperparameters, overrides=overrides)
    model_name = hypermodel.model_name
    role = _role()
    project_name = project_name or model_name
    project_dir = os.path.join(os.fspath(directory), project_name)
    settings = zoo.to_jsonable({
        "model_name": model_name, "algorithm": algorithm, "objective": objective.name,
        "hyperparameters": hyperparameters or {}, "overrides": overrides or {},
    })
    if role != "worker":
        _check_settings(project_dir, settings, resume)
    oracle = _oracle(algorithm, objective, max_trials, epochs, seed, max_consecutive_failed_trials)
    tuner = ZooTuner(oracle, hypermodel, directory=os.fspath(directory), project_name=project_name,
                     overwrite=not resume and role != "worker",
                     executions_per_trial=executions_per_trial)
    if role != "worker":
        state.write_json_atomic(os.path.join(project_dir, _SETTINGS_FILE), settings)
        # A resumed search may be asked for more trials than it first was.
        oracle.max_trials = max_trials
    # Every trial starts with a full garbage collection (see ZooTuner._try_build).
    # With TensorFlow loaded that walks ~10^6 long-lived objects (~0.3 s);
    # freezing what exists now limits it to what the search creates.
    # Unfreezing afterwards hands those objects back to the collector.
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    try:
        # keras-tuner prints the traceback of every failed trial in debug mode
        # (its default); the trial table keeps the message either way.
        with compat.debug_traces(bool(verbose)):
            tuner.search(*args, epochs=epochs, callbacks=list(callbacks or []), verbose=verbose,
                         **{**kwargs, **fit_kwargs})
    finally:
        if freeze:
            gc.unfreeze()

    if role == "worker":
        # A worker's copies of its trials carry their status, not their metrics.
        return SearchResult(model_name, objective.name, objective.direction, None, None, None,
                            None, None, None, _trial_rows(tuner.finished_here), project_dir,
                            role)
    rows = _trial_rows(tuner.oracle.trials)
    completed = [t for t in tuner.oracle.get_best_trials(len(tuner.oracle.trials))
                 if t.status == _Status.COMPLETED]
    result = SearchResult(model_name, objective.name, objective.direction, None, None, None,
                          None, None, None, rows, project_dir, role)
    state.write_text_atomic(os.path.join(project_dir, "trials.csv"), result.to_csv())
    if not completed:
        last = rows[-1]["message"] if rows else None
        raise RuntimeError(
            f"No trial of the search in {project_dir} completed; the trials are listed in "
            f"trials.csv. Received: last_error={last!r}"
        )
    best = completed[0]
    model = tuner.load_model(best)
    best_values = {key: value for key, value in best.hyperparameters.values.items()
                   if not key.startswith("tuner/")}
    best_row = next(row for row in rows if row["trial_id"] == best.trial_id)
    result.best_hyperparameters = best_values
    result.best_params = zoo.to_jsonable(hypermodel.params(best.hyperparameters.copy()))
    result.best_score = float(best.score)
    result.best_trial_id = best.trial_id
    result.best_model_path = os.fspath(best_model_path or os.path.join(project_dir,
                                                                       "best_model.keras"))
    metadata = {
        "hyperparameters": best_values,
        "metrics": {objective.name: result.best_score, **best_row["metrics"]},
        "dataset": dataset,
        "search": {"model_name": model_name, "algorithm": algorithm,
                   "objective": objective.name, "direction": objective.direction,
                   "trial_id": best.trial_id, "max_trials": max_trials, "epochs": epochs,
                   "trials_completed": len(completed), "project_dir": project_dir},
    }
    result.best_model_sha256 = save_model(model, result.best_model_path, metadata)
    del model
    keras.backend.clear_session()
    state.write_json_atomic(os.path.join(project_dir, "result.json"),
                            zoo.to_jsonable(dataclasses.asdict(result)))
    return result
