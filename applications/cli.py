"""The ``zoo`` command.

    zoo list [PATTERN] [--family F] [--task T]
    zoo describe NAME
    zoo tasks [TASK]
    zoo run TASK [--model NAME] [--dataset NAME] [--epochs N] [--backend B] [--out DIR]
                 [--limit N] [--batch-size N] [--data-dir DIR] [--no-download]
                 [--set KEY=VALUE ...] [--seed S] [--quiet]
    zoo tune MODEL [--task T | --data FILE.npz | --toy] [--algorithm A] [--max-trials N] ...
    zoo compare MODEL [MODEL ...] --task TASK [--epochs N] [--budget-seconds S] ...
    zoo inspect FILE [--sha256 HEX] [--json]

Keras reads its backend once, at import, so ``--backend`` is applied before
anything imports Keras (importing ``zoo`` does); nothing at the top of this
module does. ``list``, ``describe`` and ``inspect`` need only the base
install; the other commands need an extra (``EXTRAS``) and say which, in one
line, when it is missing.
"""

import argparse
import ast
import importlib.util
import json
import os
import sys

from applications.errors import DatasetUnavailableError
from tuner import cli as tuner_cli

#: extra -> the modules it installs that the commands import.
EXTRA_MODULES = {
    "applications": ("tensorflow", "tensorflow_datasets", "matplotlib", "sklearn", "networkx"),
    "tuner": ("keras_tuner",),
}
#: command -> the extras it needs.
EXTRAS = {"run": ("applications",), "tasks": ("applications",), "compare": ("applications",),
          "tune": ("tuner",)}


def _parser(backends):
    parser = argparse.ArgumentParser(prog="zoo", description="Keras 3 encoder zoo.")
    parser.add_argument("--backend", choices=backends,
                        help="Keras backend (default: $KERAS_BACKEND or tensorflow)")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="list registered models")
    listing.add_argument("pattern", nargs="?", default="*", help="shell-style wildcard")
    listing.add_argument("--family")
    listing.add_argument("--task")

    describe = commands.add_parser("describe", help="show a model's spec")
    describe.add_argument("name")

    tasks = commands.add_parser("tasks", help="list application tasks, or describe one")
    tasks.add_argument("task", nargs="?")

    run = commands.add_parser(
        "run", help="train a model on an application task",
        description="Train a zoo model on a task end to end. The run directory gets "
                    "metrics.json, model.keras and PNG plots.")
    run.add_argument("task", help="task name (see `zoo tasks`), e.g. reconstruction")
    run.add_argument("--model", help="registry name (default: the task's default model)")
    run.add_argument("--dataset", help="dataset name (default: the task's offline dataset)")
    run.add_argument("--epochs", type=int)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--out", help="run directory (must not exist or be empty)")
    run.add_argument("--limit", type=int, help="most examples per split")
    run.add_argument("--batch-size", type=int, dest="batch_size")
    run.add_argument("--data-dir", dest="data_dir",
                     help="tensorflow-datasets directory (for tfds datasets)")
    run.add_argument("--no-download", action="store_false", dest="download",
                     help="never download a tfds dataset; use only --data-dir")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     dest="overrides", help="model parameter, e.g. --set code_size=8 "
                                            "(repeatable; values are Python literals)")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.add_argument("--backend", choices=backends, dest="run_backend",
                     help="Keras backend for this run")

    # tuner/cli.py imports Keras (and keras-tuner) only inside run().
    tune = commands.add_parser("tune", help="keras-tuner search over a model's hyperparameters")
    tune_data = tuner_cli.add_arguments(tune)
    tune_data.add_argument("--task", help="an application task whose data to use, e.g. "
                                          "reversal (needs the 'applications' extra)")
    tune.add_argument("--limit", type=int, help="most examples per split (--task)")
    tune.add_argument("--dataset", help="dataset of the task (--task)")
    versus = commands.add_parser("compare", help="train models on one task with the same "
                                                 "budget and print one table")
    _compare_arguments(versus)
    inspect = commands.add_parser("inspect", help="a .keras file's model card, hash and "
                                                  "safety verdict, without loading weights")
    inspect.add_argument("file")
    inspect.add_argument("--sha256", help="expected SHA-256 (default: FILE.sha256 if present)")
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")
    for sub in (tune, versus, inspect):
        sub.add_argument("--backend", choices=backends, dest="run_backend",
                         help="Keras backend for this command")
    return parser


def _compare_arguments(parser):
    """Arguments of ``zoo compare`` (``applications.compare.run`` reads them)."""
    parser.add_argument("models", nargs="+", metavar="MODEL", help="registry names to compare")
    parser.add_argument("--task", required=True, help="application task (see `zoo tasks`)")
    parser.add_argument("--epochs", type=int, help="epochs for every model (default: the "
                                                   "task's)")
    parser.add_argument("--budget-seconds", type=float, dest="budget_seconds",
                        help="wall-clock training budget per model")
    parser.add_argument("--dataset", help="dataset name (default: the task's offline dataset)")
    parser.add_argument("--limit", type=int, help="most examples per split")
    parser.add_argument("--batch-size", type=int, dest="batch_size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", dest="data_dir",
                        help="tensorflow-datasets directory (for tfds datasets)")
    parser.add_argument("--no-download", action="store_false", dest="download",
                        help="never download a tfds dataset")
    parser.add_argument("--json", dest="json_path", metavar="PATH",
                        help="also write the rows as JSON to PATH")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _set_backend(backend):
    if not backend:
        return
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != backend:
            raise SystemExit(
                f"zoo: Keras is already running on {keras.backend.backend()!r}; "
                f"start a new process to use {backend!r}."
            )
    os.environ["KERAS_BACKEND"] = backend


def parse_overrides(items):
    """``["code_size=8", "activation=tanh"]`` -> ``{"code_size": 8, "activation": "tanh"}``."""
    overrides = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set needs KEY=VALUE. Received: --set {item!r}")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        overrides[key.strip()] = value
    return overrides


def _early_backend(argv):
    """The last ``--backend`` value in ``argv`` (before or after the command), unchecked."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--backend")
    return early.parse_known_args(argv)[0].backend


def missing_extras(args):
    """The extras ``args.command`` needs that are not installed (names, in order)."""
    needed = EXTRAS.get(args.command, ())
    if args.command == "tune" and getattr(args, "task", None):
        needed = needed + ("applications",)
    missing = []
    for extra in needed:
        for module in EXTRA_MODULES[extra]:
            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                missing.append(extra)
                break
    return missing


def main(argv=None):
    # TensorFlow's C++ start-up chatter drowns the command's own output.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    argv = sys.argv[1:] if argv is None else list(argv)
    backend = _early_backend(argv)
    _set_backend(backend)
    try:
        # Imports Keras (with the backend just chosen); checked against BACKENDS below.
        from zoo.constants import BACKENDS
    except (ImportError, ValueError) as error:  # an unknown or uninstalled backend
        chosen = os.environ.get("KERAS_BACKEND", "tensorflow")
        print(f"zoo: error: Keras cannot start the {chosen!r} backend ({error}); install one "
              f'(pip install "encoder-zoo[jax]") and choose it with --backend or '
              f"KERAS_BACKEND. Received: backend={chosen!r}", file=sys.stderr)
        return 2

    args = _parser(BACKENDS).parse_args(argv)
    missing = missing_extras(args)
    if missing:
        extras = ",".join(missing)
        print(f"zoo {args.command} needs the {' and '.join(map(repr, missing))} "
              f'extra{"s" if len(missing) > 1 else ""}: pip install "encoder-zoo[{extras}]"',
              file=sys.stderr)
        return 2
    try:
        return _dispatch(args)
    except (ValueError, TypeError, FileExistsError, FileNotFoundError, ImportError,
            DatasetUnavailableError) as error:
        print(f"zoo: error: {error}", file=sys.stderr)
        return 2


def _describe_task(task):
    lines = [f"{task.name}: {task.description}",
             f"  default model: {task.default_model}   default epochs: {task.default_epochs}",
             "  datasets:"]
    for name, info in task.datasets.items():
        mark = " (default)" if name == task.default_dataset else ""
        where = "offline" if info.offline else info.source
        lines.append(f"    {name}{mark} [{where}]: {info.description}")
    lines.append(f"  compatible models: {', '.join(task.compatible_models())}")
    return "\n".join(lines)


def _dispatch(args):
    import zoo

    if args.command == "list":
        for name in zoo.list_models(args.pattern, family=args.family, task=args.task):
            spec = zoo.get_spec(name)
            print(f"{name:28s} {spec.family:12s} {spec.task}")
        return 0
    if args.command == "describe":
        print(zoo.describe(args.name))
        return 0
    if args.command == "inspect":
        report = zoo.inspect(args.file, sha256=args.sha256)
        print(json.dumps(report, indent=2) if args.json else zoo.format_inspection(report))
        return 0 if report["verdict"] == "safe to load" else 3
    # The commands below import TensorFlow (applications) or keras-tuner (tuner):
    # only when they run, so `zoo list` works with the base install.
    if args.command == "tune":
        task_data = None
        if args.task:
            from applications import tune

            task_data = tune.task_data
        return tuner_cli.run(args, extra_data=task_data)
    if args.command == "compare":
        from applications import compare

        return compare.run(args)
    from applications import tasks

    if args.command == "tasks":
        if args.task:
            print(_describe_task(tasks.get_task(args.task)))
            return 0
        for task in tasks.TASKS.values():
            print(f"{task.name:22s} {task.default_model:24s} offline: {task.default_dataset}")
        return 0
    if args.command == "run":
        task = tasks.get_task(args.task)
        metrics = task.run(model=args.model, dataset=args.dataset, epochs=args.epochs,
                           out=args.out, seed=args.seed, limit=args.limit,
                           batch_size=args.batch_size, data_dir=args.data_dir,
                           download=args.download, verbose=0 if args.quiet else "auto",
                           **parse_overrides(args.overrides))
        print(f"{metrics['task']}: {metrics['model']} on {metrics['dataset']['dataset']} "
              f"({metrics['backend']}, {metrics['epochs']} epochs, "
              f"{metrics['wall_seconds']} s): test {metrics['metric']} = "
              f"{metrics[metrics['metric']]:.4g}")
        print(json.dumps(metrics["test"], indent=2, sort_keys=True))
        files = ", ".join(["metrics.json", metrics["model_file"], *metrics["plots"]])
        print(f"run directory: {metrics['out']} ({files})")
        return 0
    raise AssertionError(args.command)
