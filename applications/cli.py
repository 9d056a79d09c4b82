"""The ``zoo`` command.

    zoo list [PATTERN] [--family F] [--task T]
    zoo describe NAME
    zoo run TASK [--model NAME] [--epochs N] [--backend B] [--out DIR]

Keras reads its backend once, at import, so ``--backend`` is applied before
anything imports Keras; nothing at the top of this module does.
"""

import argparse
import json
import os
import sys

BACKENDS = ("tensorflow", "jax", "torch")


def _parser():
    parser = argparse.ArgumentParser(prog="zoo", description="Keras 3 encoder zoo.")
    parser.add_argument("--backend", choices=BACKENDS,
                        help="Keras backend (default: $KERAS_BACKEND or tensorflow)")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="list registered models")
    listing.add_argument("pattern", nargs="?", default="*", help="shell-style wildcard")
    listing.add_argument("--family")
    listing.add_argument("--task")

    describe = commands.add_parser("describe", help="show a model's spec")
    describe.add_argument("name")

    run = commands.add_parser("run", help="train a model on an application task")
    run.add_argument("task", help="task name, e.g. reversal")
    run.add_argument("--model", help="registry name (default: the task's default model)")
    run.add_argument("--epochs", type=int)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--out", help="run directory (must not exist or be empty)")
    run.add_argument("--backend", choices=BACKENDS, dest="run_backend",
                     help="Keras backend for this run")
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


def main(argv=None):
    # TensorFlow's C++ start-up chatter drowns the command's own output.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = _parser().parse_args(argv)
    _set_backend(getattr(args, "run_backend", None) or args.backend)
    try:
        return _dispatch(args)
    except (ValueError, TypeError, FileExistsError) as error:
        print(f"zoo: error: {error}", file=sys.stderr)
        return 2


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
    if args.command == "run":
        from applications import tasks

        task = tasks.get_task(args.task)
        kwargs = {"model": args.model or task.default_model, "seed": args.seed, "out": args.out}
        if args.epochs is not None:
            if args.epochs < 1:
                raise ValueError(f"--epochs must be >= 1. Received: epochs={args.epochs}")
            kwargs["epochs"] = args.epochs
        metrics = task.run(**kwargs)
        print(json.dumps(metrics, indent=2))
        return 0
    raise AssertionError(args.command)
