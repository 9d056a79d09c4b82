"""Neighbour-sampled training on a synthetic graph of ogbn-products' size.

ogbn-products has 2,449,029 nodes, 61,859,140 directed edges, 100 features,
47 classes and 196,615 training nodes (8%). This script builds a random
graph of those sizes (uniform random edges, normal features, random labels:
it measures time and memory, not accuracy), samples fan-outs (15, 10)
around batches of 1024 training seeds (``zoo.NeighborSampler``) and trains
a 2-layer node classifier (GCN or GraphSAGE, 128 hidden units) for one
epoch. It writes ``results/graph_sampling.json``: the time to build the
in-edge index, the sampling time per batch, the epoch time (and the steady
step time without the first, compiling step) and the peak resident memory
(``resource.getrusage``'s ``ru_maxrss``)::

    KERAS_BACKEND=jax python -m benchmarks.graph_sampling
    python -m benchmarks.graph_sampling --nodes 20000 --edges 500000   # smaller
"""

import argparse
import json
import os
import pathlib
import platform
import resource
import sys
import time

import numpy as np

RESULTS = pathlib.Path(__file__).resolve().parent / "results" / "graph_sampling.json"


def peak_memory_mb():
    """Peak resident memory of this process in MB (``ru_maxrss``: KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def synthetic_graph(nodes, edges, features, classes, train_fraction, seed):
    """``(graph dict, labels [N] with -1 outside the training nodes)``."""
    rng = np.random.default_rng(seed)
    edge_index = rng.integers(0, nodes, size=(2, edges), dtype="int32")
    node_features = rng.standard_normal((nodes, features), dtype="float32")
    labels = np.full(nodes, -1, "int32")
    train = rng.choice(nodes, size=max(1, int(round(train_fraction * nodes))), replace=False)
    labels[train] = rng.integers(0, classes, size=len(train), dtype="int32")
    return {"node_features": node_features, "edge_index": edge_index}, labels


def run(nodes=2_400_000, edges=60_000_000, features=100, classes=47, train_fraction=0.08,
        fanouts=(15, 10), batch_size=1024, parts=1, model="gcn", hidden=128, epochs=1,
        steps=None, workers=1, seed=0, out=RESULTS, log=print):
    """Run the benchmark; returns the result dict (also written to ``out``)."""
    import keras

    import zoo

    keras.utils.set_random_seed(seed)
    started = time.perf_counter()
    graph, labels = synthetic_graph(nodes, edges, features, classes, train_fraction, seed)
    generate_seconds = time.perf_counter() - started
    log(f"graph: {nodes} nodes, {edges} edges ({generate_seconds:.1f} s)")

    started = time.perf_counter()
    csr = zoo.IncomingCSR(graph["edge_index"], nodes)
    csr_seconds = time.perf_counter() - started
    log(f"in-edge index: {csr_seconds:.1f} s, peak {peak_memory_mb():.0f} MB")

    sampler = zoo.NeighborSampler(graph, fanouts, labels=labels, batch_size=batch_size,
                                  parts=parts, seed=seed, csr=csr, workers=workers,
                                  use_multiprocessing=False)
    started = time.perf_counter()
    probe = [sampler.sample(i) for i in range(min(5, len(sampler)))]
    sample_seconds = (time.perf_counter() - started) / len(probe)
    started = time.perf_counter()
    for i in range(len(probe)):
        sampler[i]
    batch_seconds = (time.perf_counter() - started) / len(probe)
    sampled_nodes = [sum(len(s["nodes"]) for s in batch) for batch in probe]
    sampled_edges = [sum(s["edge_index"].shape[1] for s in batch) for batch in probe]
    log(f"sampling: {sample_seconds:.3f} s per batch, padded batch {batch_seconds:.3f} s; "
        f"{int(np.mean(sampled_nodes))} nodes, {int(np.mean(sampled_edges))} edges per batch "
        f"(padded to {sampler.max_nodes} x {parts})")

    net = zoo.build(model, num_features=features, num_classes=classes, hidden_units=(hidden,),
                    dropout=0.0, output_layer="graph")
    times = []

    class Steps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter())

    total_steps = len(sampler) if steps is None else min(steps, len(sampler))
    started = time.perf_counter()
    history = net.fit(sampler, epochs=epochs, steps_per_epoch=total_steps, verbose=0,
                      callbacks=[Steps()])
    fit_seconds = time.perf_counter() - started
    intervals = np.diff([started] + times)
    steady = float(np.median(intervals[1:])) if len(intervals) > 1 else float(intervals[0])
    result = {
        "backend": keras.backend.backend(), "model": model, "hidden_units": hidden,
        "nodes": nodes, "edges": edges, "features": features, "classes": classes,
        "training_nodes": int((labels >= 0).sum()), "fanouts": list(fanouts),
        "batch_size": batch_size, "parts": parts, "workers": workers,
        "steps_per_epoch": len(sampler), "steps_run": len(times), "epochs": epochs,
        "padded_nodes_per_part": sampler.max_nodes, "padded_edges_per_part": sampler.max_edges,
        "mean_sampled_nodes": float(np.mean(sampled_nodes)),
        "mean_sampled_edges": float(np.mean(sampled_edges)),
        "generate_seconds": round(generate_seconds, 2), "csr_seconds": round(csr_seconds, 2),
        "sample_seconds_per_batch": round(sample_seconds, 4),
        "padded_batch_seconds": round(batch_seconds, 4),
        "first_step_seconds": round(float(intervals[0]), 3),
        "steady_step_seconds": round(steady, 4),
        "fit_seconds": round(fit_seconds, 2),
        "epoch_seconds": round(fit_seconds / epochs * len(sampler) / max(total_steps, 1), 2),
        "steady_epoch_seconds": round(steady * len(sampler), 2),
        "final_loss": float(history.history["loss"][-1]),
        "peak_memory_mb": round(peak_memory_mb(), 1),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    log(json.dumps(result, indent=1))
    if out is not None:
        out = pathlib.Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=2_400_000)
    parser.add_argument("--edges", type=int, default=60_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--classes", type=int, default=47)
    parser.add_argument("--fanouts", default="15,10", help="comma-separated, e.g. 15,10")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--parts", type=int, default=1)
    parser.add_argument("--model", default="gcn", choices=("gcn", "graphsage"))
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--steps", type=int, default=None,
                        help="most steps per epoch (default: the whole epoch; the epoch "
                             "time is then extrapolated)")
    parser.add_argument("--workers", type=int, default=1,
                        help="threads sampling ahead of training")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    fanouts = tuple(int(value) for value in args.fanouts.split(",") if value.strip())
    run(nodes=args.nodes, edges=args.edges, features=args.features, classes=args.classes,
        fanouts=fanouts, batch_size=args.batch_size, parts=args.parts, model=args.model,
        hidden=args.hidden, epochs=args.epochs, steps=args.steps, workers=args.workers,
        seed=args.seed, out=args.out)


if __name__ == "__main__":
    main()
