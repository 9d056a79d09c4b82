"""Full-batch GCN training step: zoo's ``gcn`` against PyTorch Geometric's ``GCNConv``.

    pip install -e .[bench-graph]               # torch_geometric (benchmark-only extra)
    KERAS_BACKEND=jax python -m benchmarks.gcn_vs_pyg
    KERAS_BACKEND=tensorflow python -m benchmarks.gcn_vs_pyg
    KERAS_BACKEND=torch python -m benchmarks.gcn_vs_pyg
    python -m benchmarks.gcn_vs_pyg --table     # merge into results/gcn_vs_pyg.md

One Keras backend per process (Keras fixes it at import), PyG timed in the
same process each time; each run writes ``results/gcn_vs_pyg/<backend>.json``.

**Graph.** ``N`` nodes (``--sizes``, default 10k, 50k, 169k: ogbn-arxiv's
size), ``7 N / 2`` random node pairs listed in both directions (average
in-degree 7, no self-loops), 128 normal features, one of ``--classes``
(default 40) random labels per node, every node labelled; seeded.

**Models.** ``zoo.build("gcn", num_features=128, hidden_units=(128, 128),
num_classes=40, dropout=0.0)``: two ``GCNConv`` layers with ReLU and a dense
softmax head, compiled with ``compile_graph_classifier`` (Adam, masked
sparse cross-entropy and accuracy, ``jit_compile="auto"``) and trained with
``train_on_batch`` on the graph batch (leading batch axis of 1), as users
train. PyG: ``GCNConv(128, 128)`` -> ReLU -> ``GCNConv(128, 128)`` -> ReLU ->
``Linear(128, 40)``, ``cached=False`` (the zoo recomputes the normalisation
every step too), log-softmax + NLL, ``torch.optim.Adam``; plain torch (no
``torch.compile``). Both frameworks get ``--threads`` CPU threads (default 2).

**Timing.** Per size each implementation's first step is timed alone
(tracing/compilation), then ``--warmup`` untimed steps each, then
``--repeats`` rounds alternate the two (the order swaps every round) so a
busy machine slows both alike; figures are medians in ms. ``ratio`` = PyG
time / zoo time (above 1: the zoo is faster). ``peak_rss_mb`` is the
process's peak resident memory (``ru_maxrss``) after that size (it only
grows, so it bounds both implementations together).
"""

import argparse
import json
import pathlib
import resource
import statistics
import sys
import time

from benchmarks.run import positive_int

# Imported by ``_import_keras`` once ``--threads`` is applied (Keras reads it at import).
keras = None

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
OUT_DIR = RESULTS / "gcn_vs_pyg"
TABLE = RESULTS / "gcn_vs_pyg.md"
BACKENDS = ("jax", "tensorflow", "torch")
NO_PYG = "torch_geometric is not installed: `pip install -e .[bench-graph]`"


def build_parser():
    parser = argparse.ArgumentParser(
        description="Full-batch GCN training step: zoo against PyG GCNConv (one Keras backend "
                    "per process: set KERAS_BACKEND); --table merges the JSONs.")
    parser.add_argument("--sizes", type=_sizes, default=(10_000, 50_000, 169_343),
                        help="comma-separated node counts (default 10000,50000,169343)")
    parser.add_argument("--features", type=positive_int, default=128)
    parser.add_argument("--hidden", type=positive_int, default=128,
                        help="width of both GCN layers")
    parser.add_argument("--classes", type=positive_int, default=40)
    parser.add_argument("--degree", type=positive_int, default=7, help="average in-degree")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps after the first")
    parser.add_argument("--repeats", type=positive_int, default=7,
                        help="interleaved timed steps per implementation (median)")
    parser.add_argument("--threads", type=int, default=2,
                        help="CPU threads per framework (default 2); 0 keeps the defaults")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-pyg", action="store_true", help="time the zoo alone")
    parser.add_argument("--out", default=None,
                        help="output JSON (default results/gcn_vs_pyg/<backend>.json)")
    parser.add_argument("--table", action="store_true",
                        help="write results/gcn_vs_pyg.md from results/gcn_vs_pyg/*.json "
                             "and exit (runs nothing)")
    return parser


def _sizes(text):
    return tuple(positive_int(part) for part in text.split(",") if part.strip())


# --- data -----------------------------------------------------------------------------------


def random_graph(num_nodes, num_features, num_classes, degree, seed):
    """``(features [N, F] float32, edge_index [2, E] int32, labels [N] int32)``.

    ``degree * N // 2`` random pairs without self-loops, both directions listed
    (``E`` is about ``degree * N``, so the average in-degree is ``degree``).
    """
    import numpy as np  # here, not at the top: ``--threads`` must be applied first

    rng = np.random.default_rng(seed)
    pairs = degree * num_nodes // 2
    u = rng.integers(0, num_nodes, size=pairs)
    v = (u + rng.integers(1, max(num_nodes, 2), size=pairs)) % num_nodes  # v != u
    edge_index = np.stack([np.concatenate([u, v]), np.concatenate([v, u])]).astype("int32")
    features = rng.normal(size=(num_nodes, num_features)).astype("float32")
    labels = rng.integers(0, num_classes, size=num_nodes).astype("int32")
    return features, edge_index, labels


# --- the two implementations ----------------------------------------------------------------


def zoo_step(features, edge_index, labels, hidden, num_classes):
    """The zoo ``gcn`` compiled as users compile it; returns one training step (a callable)."""
    import zoo
    from zoo.models.graph.common import compile_graph_classifier

    model = zoo.build("gcn", num_features=features.shape[1], hidden_units=(hidden, hidden),
                      num_classes=num_classes, dropout=0.0)
    compile_graph_classifier(model)
    x = {"node_features": features[None], "edge_index": edge_index[None]}
    y = labels[None]

    def step():
        return model.train_on_batch(x, y)

    return step


def pyg_step(features, edge_index, labels, hidden, num_classes, threads=0):
    """One PyG training step (a callable), or ``None, reason`` when PyG is missing.

    Returns:
        ``(step, None)`` or ``(None, reason)``.
    """
    try:
        import torch
        from torch_geometric.nn import GCNConv
    except ImportError:
        return None, NO_PYG
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = GCNConv(features.shape[1], hidden, cached=False)
            self.conv2 = GCNConv(hidden, hidden, cached=False)
            self.head = torch.nn.Linear(hidden, num_classes)

        def forward(self, x, edges):
            x = torch.relu(self.conv1(x, edges))
            x = torch.relu(self.conv2(x, edges))
            return torch.log_softmax(self.head(x), dim=-1)

    net = Net()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    x = torch.from_numpy(features)
    edges = torch.from_numpy(edge_index.astype("int64"))
    y = torch.from_numpy(labels.astype("int64"))

    def step():
        optimizer.zero_grad()
        loss = torch.nn.functional.nll_loss(net(x, edges), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step, None


# --- timing ---------------------------------------------------------------------------------


def _timed(step):
    start = time.perf_counter()
    step()
    return (time.perf_counter() - start) * 1e3


def time_steps(steps, warmup, repeats):
    """``{name: (first_ms, median_ms)}`` for the callables in ``steps``: the first
    call of each alone, ``warmup`` untimed calls, then ``repeats`` interleaved rounds
    (the order reversed every other round)."""
    first = {name: _timed(step) for name, step in steps.items()}
    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {name: [] for name in steps}
    names = list(steps)
    for i in range(repeats):
        for name in names if i % 2 == 0 else names[::-1]:
            times[name].append(_timed(steps[name]))
    return {name: (first[name], statistics.median(times[name])) for name in steps}


def peak_rss_mb():
    """This process's peak resident memory in MiB (``ru_maxrss`` is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def run(args, log=print):
    """Time every size; returns the result dict written to the JSON."""
    import keras

    backend = keras.backend.backend()
    rows, pyg_reason = [], "--no-pyg" if args.no_pyg else None
    for n in args.sizes:
        features, edge_index, labels = random_graph(n, args.features, args.classes,
                                                    args.degree, args.seed)
        steps = {"zoo": zoo_step(features, edge_index, labels, args.hidden, args.classes)}
        if not args.no_pyg:
            step, pyg_reason = pyg_step(features, edge_index, labels, args.hidden,
                                        args.classes, args.threads)
            if step is not None:
                steps["pyg"] = step
        timed = time_steps(steps, args.warmup, args.repeats)
        row = {"nodes": n, "edges": int(edge_index.shape[1]),
               "zoo_first_ms": round(timed["zoo"][0], 2), "zoo_ms": round(timed["zoo"][1], 3)}
        if "pyg" in timed:
            row.update(pyg_first_ms=round(timed["pyg"][0], 2),
                       pyg_ms=round(timed["pyg"][1], 3),
                       ratio=round(timed["pyg"][1] / timed["zoo"][1], 3))
        row["peak_rss_mb"] = peak_rss_mb()
        rows.append(row)
        log(f"[{backend}] {n} nodes: " + ", ".join(f"{k}={v}" for k, v in row.items()
                                                  if k != "nodes"))
    return {"backend": backend, "keras": keras.__version__, "threads": args.threads,
            "features": args.features, "hidden": args.hidden, "classes": args.classes,
            "degree": args.degree, "warmup": args.warmup, "repeats": args.repeats,
            "seed": args.seed, "pyg": _pyg_version(), "pyg_skipped": pyg_reason,
            "rows": rows}


def _pyg_version():
    try:
        import torch
        import torch_geometric
    except ImportError:
        return None
    return {"torch_geometric": torch_geometric.__version__, "torch": torch.__version__}


# --- the table ------------------------------------------------------------------------------


def write_table(directory=OUT_DIR, path=TABLE):
    """``results/gcn_vs_pyg.md`` from the per-backend JSONs in ``directory``; returns
    the path (``None`` when there is no JSON)."""
    directory, path = pathlib.Path(directory), pathlib.Path(path)
    results = []
    for name in sorted(directory.glob("*.json"), key=_backend_order):
        results.append(json.loads(name.read_text()))
    if not results:
        return None
    first = results[0]
    lines = ["# Full-batch GCN training step: zoo against PyG GCNConv", "",
             f"Written by `python -m benchmarks.gcn_vs_pyg --table` from "
             f"`{directory.name}/*.json`. One training step of a 2-layer GCN "
             f"({first['features']} features, hidden {first['hidden']}, "
             f"{first['classes']} classes, average in-degree {first['degree']}), full "
             f"batch; median of interleaved steps after warm-up (counts below), PyG "
             f"timed in the same process. ratio = PyG ms / zoo ms (above 1: zoo faster). "
             f"Peak RSS is the process's (both implementations) after that size.", "",
             "| backend | nodes | edges | zoo ms | PyG ms | ratio | zoo first ms "
             "| peak RSS MiB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for result in results:
        for row in result["rows"]:
            lines.append(
                f"| {result['backend']} | {row['nodes']} | {row['edges']} | "
                f"{row['zoo_ms']:.1f} | {_fmt(row.get('pyg_ms'), '.1f')} | "
                f"{_fmt(row.get('ratio'), '.2f')} | {row['zoo_first_ms']:.0f} | "
                f"{_fmt(row.get('peak_rss_mb'), '.0f')} |")
    lines.append("")
    for result in results:
        versions = result.get("pyg") or {}
        lines.append(f"- {result['backend']}: Keras {result['keras']}, "
                     f"{result['threads']} threads, {result['warmup']} warm-up + "
                     f"{result['repeats']} timed steps, torch_geometric "
                     f"{versions.get('torch_geometric', '-')} on torch "
                     f"{versions.get('torch', '-')}"
                     + (f"; PyG not timed: {result['pyg_skipped']}"
                        if result.get("pyg_skipped") else ""))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def _backend_order(path):
    stem = pathlib.Path(path).stem
    return (BACKENDS.index(stem) if stem in BACKENDS else len(BACKENDS), stem)


def _fmt(value, spec):
    return "-" if value is None else format(value, spec)


# --- entry point ----------------------------------------------------------------------------


def _import_keras(threads):
    """Apply ``--threads`` (as ``benchmarks.run``) and import Keras."""
    global keras
    from benchmarks import run as benchmark_run

    benchmark_run.configure_current(threads)
    import keras


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.table:
        path = write_table()
        print(f"wrote {path}" if path else f"no JSON in {OUT_DIR}", file=sys.stderr)
        return path
    _import_keras(args.threads)
    result = run(args, log=lambda text: print(text, file=sys.stderr, flush=True))
    path = pathlib.Path(args.out or OUT_DIR / f"{result['backend']}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
