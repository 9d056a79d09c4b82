"""``python -m tuner MODEL ...``: the same as ``zoo tune MODEL ...``."""

import argparse
import os
import sys

from tuner import cli


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tuner",
                                     description="keras-tuner search over a zoo model.")
    parser.add_argument("--backend", choices=("tensorflow", "jax", "torch"),
                        help="Keras backend (default: $KERAS_BACKEND or tensorflow)")
    cli.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend
    return cli.run(args)


if __name__ == "__main__":
    sys.exit(main())
