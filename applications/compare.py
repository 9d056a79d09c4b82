"""``zoo compare``: train candidate models on one task with the same budget, side by side.

    zoo compare lstm_classifier cnn1d_classifier transformer_classifier --task sentiment

Every candidate gets the same data (``tasks.load_task_data`` with the same
dataset, limit, seed and batch size; the layout follows the model, e.g.
flat vectors or images), the same number of epochs and, optionally, the
same wall-clock budget, after which training stops at the next batch. The
table shows the task's headline metric on the test split, parameters,
training time and the median inference latency of ``predict_on_batch``,
with the Keras backend in its title.

>>> from applications import compare
>>> rows = compare.compare(["gru_classifier", "cnn1d_classifier"], "sentiment",
...                        epochs=1, limit=64, verbose=0)
>>> [row["model"] for row in rows]
['gru_classifier', 'cnn1d_classifier']
>>> table = compare.format_table(rows, keras.backend.backend())   # the text zoo compare prints
"""

import contextlib
import json
import math
import numbers
import statistics
import time

import keras
import numpy as np

import zoo
from applications import tasks
from applications.tasks import distributing
from zoo import files, validation
from zoo.registry import resolve_params

LATENCY_CALLS = 20


def _training_clock(budget_seconds):
    """A callback counting finished epochs that stops training at the first batch
    end past ``budget_seconds`` (``None``: no budget)."""
    class TrainingClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.started = None
            self.epochs = 0
            self.stopped = False

        def on_train_begin(self, logs=None):
            self.started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if budget_seconds is not None and \
                    time.perf_counter() - self.started >= budget_seconds:
                self.stopped = True
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            # Also runs for the epoch a budget stop cut short.
            self.epochs = epoch + 1

    return TrainingClock()


def _check_arguments(models, epochs, budget_seconds, latency_batch):
    if isinstance(models, str) or not isinstance(models, (list, tuple)) or not models:
        raise ValueError("`models` must be a non-empty list of registry names. "
                         f"Received: models={models!r}")
    for name in models:
        if not isinstance(name, str):
            raise TypeError(f"Model names must be strings. Received: {name!r}")
    duplicates = sorted({name for name in models if list(models).count(name) > 1})
    if duplicates:
        raise ValueError(f"Each model may appear once. Received: duplicates {duplicates}")
    if epochs is not None:
        validation.positive_int("epochs", epochs)
    if budget_seconds is not None:
        validation.finite_positive_float("budget_seconds", budget_seconds)
    validation.positive_int("latency_batch", latency_batch)


def _latency_inputs(dataset, batch):
    """The first ``batch`` examples of the first batch of ``dataset`` as NumPy."""
    x = next(iter(dataset))[0]
    return keras.tree.map_structure(lambda value: np.asarray(value)[:batch], x)


def _median_latency_ms(model, x, calls=LATENCY_CALLS):
    model.predict_on_batch(x)  # compiles / traces
    model.predict_on_batch(x)
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        model.predict_on_batch(x)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000.0


def data_options(args):
    """The reader options (``--text-column`` ...) a command line gave, by name."""
    return {key: getattr(args, key, None) for key in tasks.DATA_OPTIONS
            if getattr(args, key, None) is not None}


def compare(models, task, epochs=None, budget_seconds=None, limit=None, seed=0, dataset=None,
            batch_size=None, data_dir=None, download=True, overrides=None, latency_batch=1,
            verbose=0, data=None, data_options=None, distribute=None):
    """Train each of ``models`` on ``task`` with the same data and budget.

    Args:
        models: registry names, e.g. ``["lstm_classifier", "cnn1d_classifier"]``.
        task: an application task (see ``zoo tasks``), e.g. ``"sentiment"``.
        epochs: epochs for every candidate (default: the task's default).
        budget_seconds: optional wall-clock training budget per candidate;
            training stops at the first batch end past it.
        limit: most examples per split (``None``: the dataset's default).
        seed: seeds the data, the splits and the weights; the same for all.
        dataset, batch_size, data_dir, download, data, data_options: as for
            ``tasks.load_task_data`` (``data``: a user's file or folder).
        overrides: optional ``{model_name: {param: value}}`` for ``zoo.build``.
        latency_batch: examples per ``predict_on_batch`` call for the latency.
        verbose: passed to ``fit``.
        distribute: ``"data_parallel"`` trains every candidate across the local
            devices (``zoo.distribute``; see ``applications.tasks.distributing``).

    Returns:
        One dict per model, in the given order: ``model``, ``family``,
        ``task``, ``dataset``, ``backend``, ``metric``, ``value``,
        ``higher_is_better``, ``scores`` (every test score), ``params``,
        ``epochs`` (asked), ``epochs_run``, ``stopped_by_budget``,
        ``train_seconds``, ``latency_ms``, ``latency_batch``, ``best``.

    Raises:
        ValueError: an unknown task, model or dataset (with the close or
            compatible names), a model that does not fit the task, or a bad
            ``epochs``/``budget_seconds``/``limit``.
        TypeError: an override the model does not take (with the accepted ones).
        Names, tasks, datasets and override keys are checked before any
        training starts.
    """
    _check_arguments(models, epochs, budget_seconds, latency_batch)
    task_spec = tasks.get_task(task)
    for name in models:
        zoo.get_spec(name)  # unknown names: ValueError with the closest ones
        task_spec.check_model(name)
    data_options = task_spec.check_options(limit, batch_size, data_dir, data, data_options)
    task_spec.check_file_dataset(dataset, data)
    data_options = {key: data_options[key] for key in data_options["given"]}
    strategy = distributing.check(distribute, task_spec, batch_size, None)
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(models))
    if unknown:
        raise ValueError(f"`overrides` names models that are not compared: {unknown}. "
                         f"Received: overrides keys {sorted(overrides)}")
    for name, values in overrides.items():
        resolve_params(name, dict(values))  # unknown parameters: TypeError listing the accepted
    epochs = task_spec.default_epochs if epochs is None else epochs

    rows = []
    for name in models:
        keras.utils.set_random_seed(seed)
        loaded = tasks.load_task_data(task, model=name, dataset=dataset, limit=limit,
                                      seed=seed, data_dir=data_dir, batch_size=batch_size,
                                      download=download, data=data, **data_options)
        train, validation, callbacks = distributing.fit_arguments(
            strategy, loaded, batch_size or task_spec.default_batch_size,
            "graph" in task_spec.families)
        clock = _training_clock(budget_seconds)
        with strategy or contextlib.nullcontext():
            model = loaded.build(name, **overrides.get(name, {}))
            started = time.perf_counter()
            model.fit(train, validation_data=validation, epochs=epochs, shuffle=False,
                      callbacks=[*callbacks, clock], verbose=verbose)
            train_seconds = time.perf_counter() - started
        scores = loaded.evaluate(model)
        latency = _median_latency_ms(model, _latency_inputs(loaded.test, latency_batch))
        rows.append({
            "model": name,
            "family": zoo.get_spec(name).family,
            "task": task,
            "dataset": loaded.dataset,
            "backend": keras.backend.backend(),
            "metric": loaded.metric,
            "value": float(scores[loaded.metric]),
            "higher_is_better": bool(loaded.higher_is_better),
            "scores": {key: float(value) for key, value in scores.items()
                       if isinstance(value, numbers.Real)},
            "params": int(model.count_params()),
            "epochs": epochs,
            "budget_seconds": budget_seconds,
            "epochs_run": clock.epochs,
            "stopped_by_budget": clock.stopped,
            "train_seconds": round(train_seconds, 2),
            "latency_ms": round(latency, 3),
            "latency_batch": latency_batch,
        })
        del model
        keras.backend.clear_session()
    mark_best(rows)
    return rows


def mark_best(rows):
    finite = [row for row in rows if math.isfinite(row["value"])]
    if not finite:
        for row in rows:
            row["best"] = False
        return
    pick = max if finite[0]["higher_is_better"] else min
    best = pick(row["value"] for row in finite)
    for row in rows:
        row["best"] = math.isfinite(row["value"]) and row["value"] == best


def format_table(rows, backend):
    """A plain-text table of ``compare`` rows, the backend in its title."""
    if not rows:
        raise ValueError("`rows` is empty: compare at least one model.")
    first = rows[0]
    arrow = "higher is better" if first["higher_is_better"] else "lower is better"
    budget = any(row["stopped_by_budget"] for row in rows)
    limit = (f", at most {first['budget_seconds']:g} s of training each"
             if first.get("budget_seconds") else "")
    title = (f"zoo compare: task {first['task']} on {first['dataset']} "
             f"({first['epochs']} epochs{limit}) - backend: {backend}")
    header = ["model", "family", f"{first['metric']} ({arrow})", "params", "train s", "epochs",
              f"latency ms (batch {first['latency_batch']})"]
    body = []
    for row in rows:
        epochs = str(row["epochs_run"]) + ("*" if row["stopped_by_budget"] else "")
        body.append([row["model"] + (" <- best" if row.get("best") else ""), row["family"],
                     f"{row['value']:#.4g}", f"{row['params']:,}", f"{row['train_seconds']:.1f}",
                     epochs, f"{row['latency_ms']:.2f}"])
    widths = [max(len(line[i]) for line in [header] + body) for i in range(len(header))]

    def render(cells):
        return "  ".join(cell.ljust(width) if i < 2 else cell.rjust(width)
                         for i, (cell, width) in enumerate(zip(cells, widths))).rstrip()

    lines = [title, render(header), render(["-" * width for width in widths])]
    lines += [render(cells) for cells in body]
    if budget:
        lines.append("* stopped by the wall-clock budget")
    return "\n".join(lines)


# --- command line (the arguments are defined in applications/cli.py) -----------------------


def run(args):
    """Run ``zoo compare`` from parsed ``args``; prints the table, returns 0.

    ``--json PATH`` is checked before any training (it must not exist, be a
    directory or sit in a folder that cannot be written) and written whole,
    never replacing a file. Bad input raises ``ValueError``/``TypeError``/
    ``OSError`` (the ``zoo`` command prints it in one line and exits with
    status 2).
    """
    json_path = getattr(args, "json_path", None)
    if json_path:
        files.check_new_file(json_path, what="--json file")
    rows = compare(args.models, args.task, epochs=args.epochs,
                   budget_seconds=args.budget_seconds, limit=args.limit, seed=args.seed,
                   dataset=args.dataset, batch_size=args.batch_size, data_dir=args.data_dir,
                   download=args.download, verbose=0 if args.quiet else "auto",
                   data=getattr(args, "data", None), data_options=data_options(args),
                   distribute=getattr(args, "distribute", None))
    print(format_table(rows, keras.backend.backend()))
    if json_path:
        files.write_new_text(json_path, json.dumps(rows, indent=2) + "\n")
    return 0
