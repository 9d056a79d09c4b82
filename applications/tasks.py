"""Application tasks: each trains a zoo model end to end and writes a run directory.

A run directory holds ``metrics.json`` and ``model.keras``. It must not exist
yet (or be empty): nothing a user saved is overwritten.
"""

import dataclasses
import datetime
import json
import pathlib
import time
from typing import Callable

import numpy as np

import zoo
from applications import generated


@dataclasses.dataclass(frozen=True)
class Task:
    name: str
    families: tuple
    default_model: str
    description: str
    run: Callable


TASKS: dict[str, Task] = {}


def register_task(name, families, default_model, description):
    def decorator(function):
        TASKS[name] = Task(name, tuple(families), default_model, description, function)
        return function

    return decorator


def get_task(name):
    if name not in TASKS:
        raise ValueError(f"Unknown task {name!r}. Available tasks: "
                         f"{', '.join(sorted(TASKS))}. Received: task={name!r}")
    return TASKS[name]


def check_model_for_task(task, model_name):
    spec = zoo.get_spec(model_name)
    if spec.family not in task.families:
        compatible = [name for family in task.families for name in zoo.list_models(family=family)]
        raise ValueError(
            f"Task {task.name!r} needs a model of family {' or '.join(task.families)}; "
            f"{model_name!r} is a {spec.family} model. Compatible models: "
            f"{', '.join(compatible)}. Received: model={model_name!r}"
        )
    return spec


def prepare_run_dir(out, task_name, model_name):
    """Create the run directory; refuse one that already has files in it."""
    if out is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = pathlib.Path("runs") / f"{task_name}_{model_name}_{stamp}"
    out = pathlib.Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(
            f"Run directory already exists and is not empty; choose another --out "
            f"so nothing is overwritten. Received: out={str(out)!r}"
        )
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_metrics(out, metrics):
    path = out / "metrics.json"
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return path


@register_task(
    "reversal",
    families=("seq2seq",),
    default_model="lstm_seq2seq",
    description="Reverse digit strings of length 3-8 (generated data, offline); "
                "scored by exact match on strings never seen in training.",
)
def run_reversal(model="lstm_seq2seq", epochs=6, out=None, seed=0, train_size=10000,
                 test_size=500, batch_size=64, verbose="auto", **overrides):
    """Train ``model`` to reverse digit strings; returns the metrics dict."""
    import keras

    task = TASKS["reversal"]
    check_model_for_task(task, model)
    out = prepare_run_dir(out, task.name, model)
    keras.utils.set_random_seed(seed)
    x, y, sources, _ = generated.digit_reversal(train_size, seed=seed + 1)
    x_test, _, test_sources, test_targets = generated.digit_reversal(
        test_size, seed=seed + 2, exclude=sources)
    vocab = generated.DIGITS
    params = {"source_vocab_size": vocab.size, "target_vocab_size": vocab.size,
              "embedding_dim": 32, "latent_dim": 128, "learning_rate": 3e-3,
              "start_token": generated.START, "end_token": generated.END, **overrides}
    net = zoo.build(model, **params)

    started = time.perf_counter()
    history = net.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=verbose)
    train_seconds = time.perf_counter() - started
    predicted = vocab.decode(zoo.greedy_decode(net, x_test["source_tokens"], max_length=9))
    exact = float(np.mean([p == t for p, t in zip(predicted, test_targets)]))

    net.save(out / "model.keras")
    metrics = {
        "task": task.name,
        "model": model,
        "backend": keras.backend.backend(),
        "epochs": epochs,
        "train_size": train_size,
        "test_size": test_size,
        "train_seconds": round(train_seconds, 2),
        "final_loss": float(history.history["loss"][-1]),
        "heldout_exact_match": exact,
        "examples": [
            {"source": s, "target": t, "predicted": p}
            for s, t, p in zip(test_sources[:5], test_targets[:5], predicted[:5])
        ],
        "data": "generated (synthetic digit strings)",
    }
    write_metrics(out, metrics)
    metrics["out"] = str(out)
    return metrics
