"""What a search optimises: one or several objectives, and the ones the tuner measures.

An objective is a metric Keras logs (``"val_loss"``, ``"val_accuracy"``,
...) or one the tuner measures itself on every trial's trained model:

- ``latency_ms``: the median time of one batch-1 inference
  (``model.predict_on_batch`` on one example of the training data, after
  two warm-up calls), in milliseconds;
- ``params``: the parameter count (``model.count_params()``);
- ``file_bytes``: the size of the model saved with ``zoo.save``.

All three are minimised. ``parse`` takes a name, a ``(name, direction)``
pair, a ``keras_tuner.Objective`` or a list of them; a direction is
inferred from the name (losses and errors go down, accuracies go up) and
a declared one that contradicts a known direction is refused.

>>> [(o.name, o.direction) for o in parse(["val_loss", "latency_ms", ("params", "min")])]
[('val_loss', 'min'), ('latency_ms', 'min'), ('params', 'min')]
>>> parse([("val_accuracy", "min")])
Traceback (most recent call last):
...
ValueError: 'val_accuracy' goes up (it is maximised); direction 'min' contradicts it. ...
"""

import math
import os
import re
import statistics
import tempfile
import time

import keras_tuner
import numpy as np

#: The objectives the tuner measures itself, and their directions.
MEASURED = {"latency_ms": "min", "params": "min", "file_bytes": "min"}
#: Metric names every compiled model logs.
ALWAYS_LOGGED = ("loss", "val_loss")
_DIRECTIONS = ("min", "max")
_DOWN = ("loss", "error", "crossentropy", "perplexity", "mse", "mae", "mase")
_UP = ("acc", "auc", "precision", "recall", "f1", "match", "bleu")


def infer_direction(name):
    """``"min"``/``"max"`` when the name says which way is better, else ``None``."""
    if name in MEASURED:
        return MEASURED[name]
    base = name.removeprefix("val_")
    if any(word in base for word in _DOWN):
        return "min"
    if any(word in base for word in _UP):
        return "max"
    return None


def one(item, direction=None):
    """One ``keras_tuner.Objective`` from a name, a ``(name, direction)`` pair or an Objective."""
    if isinstance(item, keras_tuner.Objective):
        name, direction = item.name, item.direction
    elif isinstance(item, (tuple, list)) and len(item) == 2:
        name, direction = item
    else:
        name = item
    if not isinstance(name, str) or not name:
        raise TypeError(f"`objective` must be a metric name. Received: objective={name!r}")
    known = infer_direction(name)
    if direction is not None:
        if direction not in _DIRECTIONS:
            raise ValueError(f"`direction` must be one of 'min', 'max'. "
                             f"Received: direction={direction!r}")
        if known is not None and direction != known:
            what = "goes up (it is maximised)" if known == "max" else \
                "goes down (it is minimised)"
            raise ValueError(
                f"{name!r} {what}; direction {direction!r} contradicts it. Leave the "
                f"direction out or give {known!r}. Received: {name}={direction!r}")
        return keras_tuner.Objective(name, direction)
    if known is None:
        raise ValueError(
            f"Cannot tell whether {name!r} should go up or down; pass direction='min' or "
            f"'max' (a (name, direction) pair in a list). Received: objective={name!r}")
    return keras_tuner.Objective(name, known)


def parse(objectives, direction=None):
    """A list of ``keras_tuner.Objective`` from a name, a pair, an Objective or a list.

    ``direction`` applies to a single objective given by name.

    Raises:
        TypeError: an objective that is not a name.
        ValueError: an unknown direction, one that contradicts the name,
            a name whose direction cannot be inferred, an empty list, or a
            name given twice.
    """
    if isinstance(objectives, (str, keras_tuner.Objective)) or (
            isinstance(objectives, tuple) and len(objectives) == 2
            and isinstance(objectives[1], str) and objectives[1] in _DIRECTIONS):
        return [one(objectives, direction)]
    if not isinstance(objectives, (list, tuple)):
        raise TypeError(f"`objectives` must be a metric name or a list of them. "
                        f"Received: objectives={objectives!r}")
    if not objectives:
        raise ValueError("`objectives` must name at least one metric. Received: objectives=[]")
    if direction is not None:
        raise ValueError("`direction` applies to one objective; give (name, direction) pairs "
                         f"in a list instead. Received: direction={direction!r}")
    parsed = [one(item) for item in objectives]
    names = [objective.name for objective in parsed]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"Each objective is named once. Received: objectives={names!r}")
    return parsed


def check_constraints(constraints, objectives):
    """``{name: bound}`` for objectives in the list; returns it as floats.

    A bound is an upper limit for a minimised objective, a lower one for a
    maximised objective.
    """
    if constraints is None:
        return {}
    if not isinstance(constraints, dict):
        raise TypeError("`constraints` must be a dict {objective: bound}. "
                        f"Received: constraints={constraints!r}")
    names = [objective.name for objective in objectives]
    checked = {}
    for name, bound in constraints.items():
        if name not in names:
            raise ValueError(f"A constraint applies to one of the objectives ({', '.join(names)})."
                             f" Received: constraints={{{name!r}: {bound!r}}}")
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) \
                or not math.isfinite(bound):
            raise ValueError(f"A constraint's bound is a finite number. "
                             f"Received: constraints={{{name!r}: {bound!r}}}")
        checked[name] = float(bound)
    return checked


def satisfies(values, constraints, objectives):
    """Whether ``values`` (name -> float) meet every constraint."""
    directions = {objective.name: objective.direction for objective in objectives}
    for name, bound in constraints.items():
        value = values.get(name)
        if value is None or not math.isfinite(value):
            return False
        if (value > bound) if directions[name] == "min" else (value < bound):
            return False
    return True


def check_logged(objectives, logged, has_validation):
    """Refuse objectives the model does not log (``logged``: names without ``val_``)."""
    for objective in objectives:
        name = objective.name
        if name in MEASURED:
            continue
        if name.startswith("val_") and not has_validation:
            raise ValueError(
                f"The objective {name!r} is measured on validation data; pass `validation` or "
                f"choose a training metric. Received: validation=None")
        if logged is not None and name.removeprefix("val_") not in logged:
            shown = sorted(logged) + sorted(f"val_{key}" for key in logged) \
                if has_validation else sorted(logged)
            raise ValueError(
                f"The objective {name!r} is not among the metrics the model logs "
                f"({', '.join(shown)}) or the measured ones ({', '.join(MEASURED)}). "
                f"Received: objective={name!r}")


# ------------------------------------------------------------ measuring a trained model

def first_rows(value, rows=1):
    """The first ``rows`` examples of arrays / dicts / tuples of arrays."""
    if isinstance(value, dict):
        return {key: first_rows(item, rows) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(first_rows(item, rows) for item in value)
    return np.asarray(value)[:rows]


def example_batch(fit_args):
    """``(x, y)`` of one example from ``fit``'s positional arguments, or ``None``.

    Arrays give their first row; a dataset (``tf.data``, ``PyDataset``) its
    first batch's first row, except batches whose leading axis is 1 (one
    graph per batch), which are kept whole.
    """
    if len(fit_args) == 2:
        return first_rows(fit_args[0]), first_rows(fit_args[1])
    data = fit_args[0]
    try:
        if hasattr(data, "__getitem__") and hasattr(data, "num_batches"):
            batch = data[0]
        else:
            batch = next(iter(data))
    except Exception:  # noqa: BLE001 - an exotic pipeline: nothing to measure on
        return None
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        return None
    x, y = batch[0], batch[1]
    convert = _to_numpy
    x, y = convert(x), convert(y)
    return first_rows(x), first_rows(y)


def _to_numpy(value):
    if isinstance(value, dict):
        return {key: _to_numpy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_numpy(item) for item in value)
    if hasattr(value, "numpy"):
        return value.numpy()
    return np.asarray(value)


def latency_ms(model, x, runs=20):
    """Median milliseconds of ``model.predict_on_batch(x)`` over ``runs`` calls (after 2)."""
    for _ in range(2):
        model.predict_on_batch(x)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        model.predict_on_batch(x)
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def file_bytes(model):
    """The size of ``model`` saved with ``zoo.save``, in bytes."""
    import zoo

    with tempfile.TemporaryDirectory(prefix="zoo-tune-size-") as folder:
        path = os.path.join(folder, "model.keras")
        zoo.save(model, path)
        return os.path.getsize(path)


def measure(model, names, example, runs=20):
    """``{name: value}`` for the measured objectives among ``names``."""
    values = {}
    if "params" in names:
        values["params"] = float(model.count_params())
    if "latency_ms" in names:
        if example is None:
            raise ValueError("latency_ms needs one example of the training data; this dataset "
                             "gave none. Received: objectives=['latency_ms', ...]")
        values["latency_ms"] = latency_ms(model, example, runs)
    if "file_bytes" in names:
        values["file_bytes"] = float(file_bytes(model))
    return values


# ------------------------------------------------------------ time budgets

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([smhd]?)")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value, name="max_time"):
    """Seconds from ``90``, ``"90"``, ``"90s"``, ``"30m"``, ``"1.5h"`` or ``"1h30m"``.

    >>> parse_duration("1h30m"), parse_duration("45s"), parse_duration(2.5)
    (5400.0, 45.0, 2.5)
    """
    if isinstance(value, bool):
        seconds = None
    elif isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        seconds, position = 0.0, 0
        for match in _DURATION.finditer(text):
            if match.start() != position:
                break
            seconds += float(match.group(1)) * _UNIT_S[match.group(2)]
            position = match.end()
        if not text or position != len(text):
            seconds = None
    else:
        seconds = None
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(
            f"`{name}` is a positive duration: seconds (90), or a text like '90s', '30m', "
            f"'1.5h' or '1h30m'. Received: {name}={value!r}")
    return seconds
