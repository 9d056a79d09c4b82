"""Benchmark the zoo against hand-written Keras and plain PyTorch.

    python -m benchmarks.run --all-backends            # -> benchmarks/results/latest.{md,json}
    python -m benchmarks.run --backend jax --families classifier graph --steps 5
    python -m benchmarks.run --all-backends --mixed-precision mixed_bfloat16

Keras fixes its backend when first imported, so ``--all-backends`` runs
one subprocess per backend (``--backend B``, writing ``B.json`` and
``B.md`` under ``--out``) and merges them into ``latest.json`` and
``latest.md``. Run from the repository root.

Nothing at the top of this module imports Keras (importing ``zoo`` does):
``main`` applies ``--backend`` first, then builds the parser from
``zoo.constants``.
"""

import argparse
import atexit
import datetime
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

from benchmarks import cases, report

DEFAULT_OUT = pathlib.Path(__file__).resolve().parent / "results"
PRECISIONS = ("mixed_float16", "mixed_bfloat16")


def build_parser():
    from zoo.constants import BACKENDS  # imports Keras: after configure() (see main)

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Time the zoo's representative models against the same architectures "
                    "written by hand in Keras and in plain PyTorch.")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--backend", choices=BACKENDS,
                        help="Keras backend of this process (default: $KERAS_BACKEND or "
                             "tensorflow)")
    target.add_argument("--all-backends", action="store_true",
                        help="one subprocess per backend, merged into latest.md/latest.json")
    parser.add_argument("--families", nargs="+", choices=list(cases.CASES),
                        default=list(cases.CASES))
    parser.add_argument("--size", choices=cases.SIZES, default="full",
                        help="'tiny' is for smoke tests")
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument("--steps", type=positive_int, default=5,
                        help="train steps per timed chunk (the first of each is not counted)")
    parser.add_argument("--rounds", type=positive_int, default=10,
                        help="interleaved rounds of timed chunks and of latency calls")
    parser.add_argument("--warmup-steps", type=positive_int, default=3)
    parser.add_argument("--latency-repeats", type=positive_int, default=5)
    parser.add_argument("--jit", choices=("auto", "both", "true", "false"), default="auto",
                        help="Keras jit_compile values to time. 'auto': both on tensorflow, "
                             "True on jax (False is op-by-op JAX, 25-100x slower), False on "
                             "torch (True needs --keras-torch-jit)")
    parser.add_argument("--torch-compile", choices=("auto", "yes", "no"), default="auto",
                        help="time plain PyTorch under torch.compile; 'auto': only in the "
                             "torch-backend run (compiling takes 10-45 s per model)")
    parser.add_argument("--keras-torch-jit", action="store_true",
                        help="on the torch backend also time Keras jit_compile=True "
                             "(torch.compile of the train step: 30-215 s of compiling per "
                             "model, and no faster in our runs)")
    parser.add_argument("--mixed-precision", choices=PRECISIONS, default=None,
                        help="Keras dtype policy and the matching torch.autocast dtype")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads per framework (0: each framework's default). "
                             "1 keeps shared machines comparable: 2-thread torch was "
                             "4-40x slower while other jobs ran")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    parser.add_argument("--quiet", action="store_true")
    return parser


def positive_int(text):
    """An argparse type: a positive integer (every benchmark's counts and sizes)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer. Received: {text}")
    return value


def _log(args):
    return (lambda message: None) if args.quiet else (
        lambda message: print(message, file=sys.stderr, flush=True))


# --- one backend ------------------------------------------------------------------------------


def configure_current(threads):
    """``configure`` for the backend Keras runs on, or will start with; returns its name."""
    if "keras" in sys.modules:
        backend = sys.modules["keras"].backend.backend()
    else:  # Keras' own default without KERAS_BACKEND (or a keras.json) is TensorFlow
        backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    configure(backend, threads)
    return backend


def configure_named(backend, threads):
    """``configure(backend)`` when a backend is named, else ``configure_current``; its name."""
    if backend:
        configure(backend, threads)
        return backend
    return configure_current(threads)


def progress_log(quiet):
    """A function printing one progress line to stderr (doing nothing when ``quiet``)."""
    if quiet:
        return lambda message: None
    return lambda message: print(message, file=sys.stderr, flush=True)


def configure(backend, threads):
    """Environment for this process; must run before Keras (or a backend) is imported."""
    if "keras" in sys.modules:
        import keras
        if keras.backend.backend() != backend:
            raise SystemExit(f"Keras is already running on {keras.backend.backend()}; "
                             f"run a new process for --backend {backend}.")
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # JAX would take 75% of a GPU up front, leaving nothing for the torch baseline.
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if "TORCHINDUCTOR_CACHE_DIR" not in os.environ:
        # A fresh inductor cache: torch.compile times are cold compiles, as on first use.
        cache = tempfile.mkdtemp(prefix="zoo-bench-inductor-")
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
        atexit.register(shutil.rmtree, cache, ignore_errors=True)
    if threads:
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                     "TF_NUM_INTEROP_THREADS"):
            os.environ[name] = str(threads)
        flags = os.environ.get("XLA_FLAGS", "")
        if threads == 1 and "intra_op_parallelism_threads" not in flags:
            os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1").strip()
    if backend == "tensorflow":
        import tensorflow as tf
        for gpu in tf.config.list_physical_devices("GPU"):
            tf.config.experimental.set_memory_growth(gpu, True)
    try:
        import torch
        if threads:
            torch.set_num_threads(threads)
    except ImportError:
        pass


def jit_options(args, backend):
    """The ``jit_compile`` values to time, and what was left out (text or None)."""
    if args.jit == "auto":
        options = {"tensorflow": (False, True), "jax": (True,)}.get(backend, (False, True))
    else:
        options = {"both": (False, True), "true": (True,), "false": (False,)}[args.jit]
    skipped = None
    if backend == "torch" and not args.keras_torch_jit and True in options:
        options = tuple(jit for jit in options if not jit) or (False,)
        skipped = ("Keras jit_compile=True on the torch backend (torch.compile of the train "
                   "step; --keras-torch-jit times it)")
    elif backend == "jax" and args.jit == "auto":
        skipped = ("Keras jit_compile=False on jax (op-by-op JAX, 25-100x slower; "
                   "--jit both times it)")
    return options, skipped


def run_backend(args, backend):
    """Benchmark every requested family under ``backend``; returns the result dict."""
    configure(backend, args.threads)
    import keras

    torch_compile = args.torch_compile == "yes" or (args.torch_compile == "auto"
                                                    and backend == "torch")
    policy = keras.mixed_precision.global_policy()
    if args.mixed_precision:
        keras.mixed_precision.set_global_policy(args.mixed_precision)
    try:
        return _run_families(args, backend, torch_compile)
    finally:
        keras.mixed_precision.set_global_policy(policy)


def _run_families(args, backend, torch_compile):
    import keras

    from benchmarks import harness

    log = _log(args)
    device = harness.keras_device()
    jits, skipped_jit = jit_options(args, backend)
    skipped = [skipped_jit] if skipped_jit else []
    if not torch_compile:
        skipped.append("plain PyTorch under torch.compile (timed in the torch-backend run; "
                       "--torch-compile yes times it here)")
    latency_batches = tuple(b for b in harness.LATENCY_BATCHES if b <= args.batch_size)
    rows = []
    for family in args.families:
        started = time.perf_counter()
        log(f"[{backend}] {family} ...")
        keras.utils.set_random_seed(0)
        impls = harness.keras_impls(family, args.size, jits)
        try:
            impls += harness.torch_impls(family, args.size, torch_compile, args.mixed_precision)
        except ImportError:
            skipped.append("plain PyTorch (torch is not installed)")
        rows += harness.benchmark_family(
            family, impls, size=args.size, batch_size=args.batch_size, steps=args.steps,
            rounds=args.rounds, warmup_steps=args.warmup_steps,
            latency_repeats=args.latency_repeats, latency_batches=latency_batches,
            device=device, warm_up=harness.warm_up_impls(family, args.size, jits), log=log)
        log(f"[{backend}] {family} took {time.perf_counter() - started:.0f} s")
        del impls
        keras.backend.clear_session()
    settings = {key: getattr(args, key) for key in
                ("size", "batch_size", "steps", "rounds", "warmup_steps", "latency_repeats",
                 "threads", "mixed_precision")}
    settings.update(families=list(args.families), jit_compile=list(jits),
                    torch_compile=torch_compile, skipped="; ".join(skipped) or None)
    return {"environment": harness.environment(), "settings": settings, "rows": rows}


def write_backend(result, out, stem):
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{stem}.md").write_text(report.backend_table(result) + "\n")
    return out / f"{stem}.md"


# --- all backends -----------------------------------------------------------------------------


def _passthrough(args):
    argv = ["--families", *args.families, "--size", args.size,
            "--batch-size", str(args.batch_size), "--steps", str(args.steps),
            "--rounds", str(args.rounds), "--warmup-steps", str(args.warmup_steps),
            "--latency-repeats", str(args.latency_repeats), "--jit", args.jit,
            "--torch-compile", args.torch_compile, "--threads", str(args.threads),
            *(["--keras-torch-jit"] if args.keras_torch_jit else []),
            "--out", str(args.out)]
    if args.mixed_precision:
        argv += ["--mixed-precision", args.mixed_precision]
    if args.quiet:
        argv.append("--quiet")
    return argv


def _stem(backend, args):
    return backend + (f"_{args.mixed_precision}" if args.mixed_precision else "")


def run_all(args):
    from zoo.constants import BACKENDS

    results = {}
    root = pathlib.Path(__file__).resolve().parent.parent
    for backend in BACKENDS:
        env = {**os.environ, "KERAS_BACKEND": backend}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "benchmarks.run", "--backend", backend,
                   *_passthrough(args)]
        completed = subprocess.run(command, env=env, cwd=root)
        path = args.out / f"{_stem(backend, args)}.json"
        if completed.returncode != 0 or not path.exists():
            print(f"benchmarks: the {backend} run failed (exit {completed.returncode}); "
                  "leaving it out.", file=sys.stderr)
            continue
        results[backend] = json.loads(path.read_text())
    if not results:
        return 1
    merged = {"generated": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
              "backends": results, "summary": report.summarize(results)}
    stem = "latest" + (f"_{args.mixed_precision}" if args.mixed_precision else "")
    (args.out / f"{stem}.json").write_text(json.dumps(merged, indent=2) + "\n")
    markdown = report.merged_markdown(merged)
    (args.out / f"{stem}.md").write_text(markdown + "\n")
    print(report.summary_tables(merged["summary"], report._ordered(results)))
    print(f"\nWrote {args.out / (stem + '.md')} and {args.out / (stem + '.json')}")
    return 0 if len(results) == len(BACKENDS) else 1


def main(argv=None):
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--backend")
    early.add_argument("--threads", type=int, default=1)
    known = early.parse_known_args(argv)[0]
    if known.backend:
        configure(known.backend, max(known.threads, 0))
    args = build_parser().parse_args(argv)
    if args.threads < 0:
        raise SystemExit(f"--threads must be >= 0. Received: {args.threads}")
    if args.all_backends:
        return run_all(args)
    backend = args.backend or os.environ.get("KERAS_BACKEND", "tensorflow")
    result = run_backend(args, backend)
    path = write_backend(result, args.out, _stem(backend, args))
    print(report.backend_table(result))
    print(f"\nWrote {path} and {path.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
