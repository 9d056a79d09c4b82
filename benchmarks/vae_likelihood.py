"""A VAE's log-likelihood on binarised Fashion-MNIST, estimated with K = 1 and K = 500.

    KERAS_BACKEND=jax python benchmarks/vae_likelihood.py                     # ../shared/data
    python benchmarks/vae_likelihood.py --data-root DIR --epochs 10 --samples 1 50 500
    python benchmarks/vae_likelihood.py --toy --out /tmp/toy                  # seconds, for tests

Trains the zoo's ``vae`` (Bernoulli likelihood, ``reconstruction_loss="bce"``)
on the training images binarised at 0.5 (pixel / 255 > 0.5), then reports
``zoo.log_likelihood`` (the importance-weighted bound, in nats per image) on
the first ``--test`` test images for every ``--samples`` K, with the same
seed. K = 1 is the ELBO; the bound rises towards log p(x) as K grows.

Reads the IDX files (``train-images-idx3-ubyte.gz`` ...) under
``<data-root>/fashion-mnist``. Writes ``<out>.json`` and ``<out>.md``.
"""

import argparse
import json
import os
import pathlib
import platform
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: `python benchmarks/vae_likelihood.py`
    sys.path.insert(0, str(ROOT))

from benchmarks.run import configure_named, positive_int, progress_log  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def binarised(data_root, split):
    """Fashion-MNIST ``split`` images as float32 [N, 784] of 0 and 1."""
    from applications.formats.idx import idx_names, read_idx_pair

    folder = pathlib.Path(data_root) / "fashion-mnist"

    def find(kind):
        for name in idx_names(split, kind):
            if (folder / name).exists():
                return folder / name
        raise FileNotFoundError(f"No Fashion-MNIST {split} {kind} under {folder}. "
                                f"Received: --data-root={data_root}")

    images, _ = read_idx_pair(find("images"), find("labels"))
    return (images.reshape(len(images), -1) > 127).astype("float32")


def toy_data(seed=0):
    """Random binary 'images' of 16 pixels with a little structure (for tests)."""
    rng = np.random.default_rng(seed)
    prototypes = rng.random((4, 16)) > 0.5
    rows = prototypes[rng.integers(0, 4, 320)] ^ (rng.random((320, 16)) < 0.1)
    return rows[:256].astype("float32"), rows[256:].astype("float32")


def measure(train, test, args, log):
    import keras

    import zoo

    keras.utils.set_random_seed(args.seed)
    model = zoo.build("vae", input_dim=train.shape[1], code_size=args.code_size,
                      hidden_units=tuple(args.hidden), reconstruction_loss="bce")
    started = time.perf_counter()
    history = model.fit(train, train, epochs=args.epochs, batch_size=args.batch_size,
                        verbose=0)
    seconds = time.perf_counter() - started
    log(f"trained {args.epochs} epochs in {seconds:.1f} s, loss "
        f"{history.history['loss'][-1]:.2f}")
    rows = []
    for samples in sorted(set(args.samples)):
        started = time.perf_counter()
        values = zoo.log_likelihood(model, test, samples=samples, seed=args.seed)
        rows.append({"samples": samples, "mean_nats": round(float(values.mean()), 3),
                     "std_nats": round(float(values.std()), 3),
                     "seconds": round(time.perf_counter() - started, 2)})
        log(f"K={samples}: {rows[-1]['mean_nats']} nats per image")
    return {"train_seconds": round(seconds, 1),
            "final_loss": round(float(history.history["loss"][-1]), 3),
            "params": int(model.count_params()), "rows": rows}


def markdown(report):
    s = report["settings"]
    lines = [f"# VAE log-likelihood ({s['backend']})", "",
             f"`vae` (hidden {tuple(s['hidden'])}, code {s['code_size']}, Bernoulli) trained "
             f"{s['epochs']} epochs (batch {s['batch_size']}) on {s['train']} "
             f"{'toy' if s['toy'] else 'binarised Fashion-MNIST'} training images; "
             f"`zoo.log_likelihood` on the first {s['test']} test images, seed {s['seed']}. "
             f"{s['cpu_count']} CPUs, {s['date']}.", "",
             "| K | log p(x), nats per image (mean) | std over images | seconds |",
             "|---|---|---|---|"]
    for row in report["rows"]:
        lines.append(f"| {row['samples']} | {row['mean_nats']} | {row['std_nats']} | "
                     f"{row['seconds']} |")
    return "\n".join(lines) + "\n"


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("jax", "tensorflow", "torch"))
    parser.add_argument("--data-root", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS / "vae_likelihood")
    parser.add_argument("--epochs", type=positive_int, default=10)
    parser.add_argument("--batch-size", type=positive_int, default=128)
    parser.add_argument("--code-size", type=positive_int, default=32)
    parser.add_argument("--hidden", type=positive_int, nargs="+", default=[512, 256])
    parser.add_argument("--samples", type=positive_int, nargs="+", default=[1, 500])
    parser.add_argument("--test", type=positive_int, default=1000,
                        help="test images scored (the first N)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--toy", action="store_true", help="random binary data (tests)")
    parser.add_argument("--quiet", action="store_true")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    backend = configure_named(args.backend, 0)
    log = progress_log(args.quiet)
    if args.toy:
        train, test = toy_data(args.seed)
    else:
        train, test = binarised(args.data_root, "train"), binarised(args.data_root, "test")
    test = test[:args.test]
    settings = {"backend": backend, "toy": args.toy, "epochs": args.epochs,
                "batch_size": args.batch_size, "code_size": args.code_size,
                "hidden": args.hidden, "samples": sorted(set(args.samples)),
                "train": len(train), "test": len(test), "seed": args.seed,
                "cpu_count": os.cpu_count(), "platform": platform.platform(),
                "date": time.strftime("%Y-%m-%d")}
    report = {"settings": settings, **measure(train, test, args, log)}
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(report))
    log(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}")
    return report


if __name__ == "__main__":
    main()
