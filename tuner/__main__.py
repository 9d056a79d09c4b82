"""``python -m tuner MODEL ...``: the same as ``zoo tune MODEL ...``."""

import argparse
import os
import sys

from tuner import cli


def main(argv=None):
    # Keras reads its backend once, at import (importing zoo imports it): apply
    # --backend first; the full parser then checks it against zoo's BACKENDS.
    argv = sys.argv[1:] if argv is None else list(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--backend")
    backend = early.parse_known_args(argv)[0].backend
    if backend:
        os.environ["KERAS_BACKEND"] = backend
    try:
        # Imports Keras (with the backend just chosen); checked against BACKENDS below.
        from zoo.constants import BACKENDS
    except (ImportError, ValueError) as error:  # an unknown or uninstalled backend
        from tuner import errors

        if errors.wants_traceback():
            raise
        chosen = os.environ.get("KERAS_BACKEND", "tensorflow")
        print(f"python -m tuner: error: Keras cannot start the {chosen!r} backend "
              f"({errors.first_line(str(error), 200)}); choose one with --backend or "
              f"KERAS_BACKEND. Received: backend={chosen!r}", file=sys.stderr)
        return 2

    parser = argparse.ArgumentParser(prog="python -m tuner",
                                     description="keras-tuner search over a zoo model.")
    parser.add_argument("--backend", choices=BACKENDS,
                        help="Keras backend (default: $KERAS_BACKEND or tensorflow)")
    data = cli.add_arguments(parser)
    data.add_argument("--task", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.task:
        print("python -m tuner: --task needs `zoo tune` from the 'applications' extra: "
              'pip install "encoder-zoo[applications]"', file=sys.stderr)
        return 2
    return cli.run(args)


if __name__ == "__main__":
    sys.exit(main())
