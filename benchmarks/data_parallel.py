"""Data-parallel training throughput on 1, 2 and 4 devices (``zoo.distribute``).

Each device count runs in a process of its own (the count is fixed before
the backend starts): JAX with ``--xla_force_host_platform_device_count`` on
a CPU, or the real accelerators where there are some; TensorFlow with
logical CPU devices. Every process trains the same model on the same global
batch with ``model.fit`` and reports examples per second (global batch over
the median step time, the first steps left out), the loss after training
and the peak resident memory::

    python -m benchmarks.data_parallel                      # JAX, 1/2/4 devices
    python -m benchmarks.data_parallel --backend tensorflow --devices 1,2
    python -m benchmarks.data_parallel --table   # benchmarks/results/data_parallel.md

On a CPU the simulated devices share the same cores, so the figure shows the
cost of splitting (per-device programs, all-reduce of the gradients), not a
speed-up; on several GPUs it is the scaling.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
MODELS = {"transformer_classifier": {"size": "small"}, "dense_autoencoder": {"size": "small"},
          "gcn": {"size": "small"}}


def _child(backend, devices, model_name, batch, steps):
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "zoo"))
    import distribution_worker

    distribution_worker._set_devices(backend, devices)
    import resource

    import keras

    import zoo

    spec = zoo.get_spec(model_name)
    strategy = zoo.distribute("data_parallel", devices=devices)
    times = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, step, logs=None):
            times.append(time.perf_counter())

    with strategy:
        strategy.check_batch_size(batch)
        keras.utils.set_random_seed(0)
        model = zoo.build(model_name, **MODELS[model_name])
        if spec.family == "graph":
            x, y = distribution_worker.graph_parts(spec, model.zoo_config, batch, 1)
            x = {k: v.repeat(steps, axis=0) for k, v in x.items()}
            y = y.repeat(steps, axis=0)
        else:
            x, y = spec.example_data(model.zoo_config, batch * steps, 1)
        history = model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0,
                            callbacks=[Clock()])
    gaps = [b - a for a, b in zip(times[2:], times[3:])]
    step = statistics.median(gaps)
    unit = "graphs of 12 nodes" if spec.family == "graph" else "examples"
    return {"backend": backend, "devices": devices, "model": model_name, "global_batch": batch,
            "steps": steps, "step_ms": round(step * 1e3, 3),
            "throughput_per_s": round(batch / step, 1), "unit": unit,
            "loss": float(history.history["loss"][-1]),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "device_names": strategy.devices}


def measure(backend, device_counts, models, batch, steps):
    rows = []
    for model_name in models:
        for devices in device_counts:
            env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": backend}
            done = subprocess.run(
                [sys.executable, "-m", "benchmarks.data_parallel", "--child", "--backend",
                 backend, "--devices", str(devices), "--models", model_name, "--batch",
                 str(batch), "--steps", str(steps)],
                capture_output=True, text=True, env=env, timeout=1800)
            lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
            if done.returncode != 0 or not lines:
                raise RuntimeError(f"{model_name} on {devices} devices failed: "
                                   f"{done.stderr.strip().splitlines()[-1:]}")
            row = json.loads(lines[-1])
            rows.append(row)
            print(f"{backend} {model_name} x{devices}: {row['throughput_per_s']} "
                  f"{row['unit']}/s, step {row['step_ms']} ms, peak {row['peak_rss_mb']} MB",
                  flush=True)
    return rows


def table(rows):
    lines = ["| backend | model | devices | global batch | step ms | throughput /s | "
             "vs 1 device | peak RSS MB |", "|---|---|---|---|---|---|---|---|"]
    base = {(r["backend"], r["model"]): r["throughput_per_s"] for r in rows
            if r["devices"] == 1}
    for r in rows:
        one = base.get((r["backend"], r["model"]))
        ratio = f"{r['throughput_per_s'] / one:.2f}x" if one else "n/a"
        lines.append(f"| {r['backend']} | {r['model']} | {r['devices']} | {r['global_batch']} "
                     f"| {r['step_ms']} | {r['throughput_per_s']} {r['unit']} | {ratio} "
                     f"| {r['peak_rss_mb']} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="jax", choices=("jax", "tensorflow"))
    parser.add_argument("--devices", default="1,2,4")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--out", default=str(RESULTS / "data_parallel"))
    parser.add_argument("--table", action="store_true", help="write the table from the JSONs")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    if args.child:
        print(json.dumps(_child(args.backend, int(args.devices), args.models, args.batch,
                                args.steps)))
        return 0
    if args.table:
        rows = [row for path in sorted(out.glob("*.json"))
                for row in json.loads(path.read_text())]
        target = out.with_suffix(".md")
        target.write_text("# Data-parallel throughput (simulated devices)\n\n" + table(rows))
        print(target)
        return 0
    counts = [int(n) for n in args.devices.split(",")]
    rows = measure(args.backend, counts, args.models.split(","), args.batch, args.steps)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.backend}.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
