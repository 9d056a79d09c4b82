"""Greedy generation speed (new tokens per second) for every generative zoo model.

    KERAS_BACKEND=jax python benchmarks/generation_speed.py [--tokens 32] [--repeats 3]

Models are built at their default sizes with untrained weights and
``stop_token=None``, so every row generates exactly ``--tokens`` tokens.
The first call (tracing/compilation) is timed separately; the figure is the
median of the following calls.
"""

import argparse
import json
import statistics
import time

import keras
import numpy as np

import zoo


def _inputs(spec, batch, rng):
    if spec.capabilities.generation == "seq2seq":
        return rng.integers(3, 100, size=(batch, 16)).astype("int32")
    return rng.integers(1, 100, size=(batch, 8)).astype("int32")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for name in zoo.list_models():
        spec = zoo.get_spec(name)
        if spec.capabilities.generation is None:
            continue
        sizes = {"source_vocab_size": 100, "target_vocab_size": 100} \
            if spec.capabilities.generation == "seq2seq" else {"vocab_size": 100}
        model = zoo.build(name, **sizes)
        for batch in args.batches:
            inputs = _inputs(spec, batch, rng)
            started = time.perf_counter()
            zoo.generate(model, inputs, args.tokens, stop_token=None)
            first = time.perf_counter() - started
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                zoo.generate(model, inputs, args.tokens, stop_token=None)
                times.append(time.perf_counter() - started)
            median = statistics.median(times)
            rows.append({"backend": keras.backend.backend(), "model": name, "batch": batch,
                         "tokens_per_second": round(batch * args.tokens / median, 1),
                         "first_call_seconds": round(first, 2)})
            print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()
