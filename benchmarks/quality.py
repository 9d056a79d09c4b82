"""The results table: train each (model, dataset) recipe on real data, write the figures.

    python -m benchmarks.quality                       # every row of benchmarks/recipes.json
    python -m benchmarks.quality --rows 'cora-*'       # rows whose id matches the pattern
    python -m benchmarks.quality --fast                # the rows CI runs
    python -m benchmarks.quality --data-root DIR       # where the datasets are

Every row reads its dataset in the original public format through the
applications' readers (``--data``), trains with the row's fixed recipe for
``seeds`` seeds, and writes ``results/<dataset>.csv`` (one line per model
and backend: the mean and standard deviation over the seeds, parameters,
epochs, training seconds, seeds and the recipe id; a row measured again
replaces its line) and ``results/README.md`` (every CSV beside the
published anchor figures). ``--check`` fails (status 1) when a row with a
``threshold`` falls below it.
"""

import argparse
import csv
import fnmatch
import json
import math
import os
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
RECIPES = ROOT / "benchmarks" / "recipes.json"
RESULTS = ROOT / "results"
DEFAULT_DATA_ROOT = ROOT.parent / "shared" / "data"
#: The "backend" of a baseline line (no Keras model trained).
BASELINE_BACKENDS = ("scikit-learn", "numpy")
COLUMNS = ("model", "backend", "metric", "value", "std", "params", "epochs", "train_seconds",
           "seeds", "recipe")


def load_recipes(path=RECIPES):
    """The recipe rows of ``path`` (see ``benchmarks/recipes.json``)."""
    return json.loads(pathlib.Path(path).read_text(encoding="utf-8"))["rows"]


def select(rows, pattern=None, fast=False):
    """The rows whose id matches ``pattern`` (shell-style), only the fast ones if ``fast``."""
    chosen = [row for row in rows if (pattern is None or fnmatch.fnmatch(row["id"], pattern))
              and (row.get("fast") or not fast)]
    if not chosen:
        names = ", ".join(row["id"] for row in rows)
        raise ValueError(f"No recipe row matches {pattern!r}. Rows: {names}. "
                         f"Received: rows={pattern!r}")
    return chosen


def _data_options(row):
    return dict(row.get("data_options") or {})


def train_once(row, data_root, seed, verbose=0):
    """Train ``row``'s model once with ``seed``; ``(scores, params, epochs_run, seconds,
    model, data)``."""
    import keras

    from applications import tasks

    keras.utils.set_random_seed(seed)
    data = tasks.load_task_data(row["task"], model=row["model"],
                                dataset=row.get("dataset_arg"), limit=row.get("limit"),
                                seed=seed, batch_size=row.get("batch_size"),
                                data=str(pathlib.Path(data_root) / row["data"]),
                                **_data_options(row))
    params = {key: tuple(value) if isinstance(value, list) else value
              for key, value in (row.get("params") or {}).items()}
    if "learning_rate" in row:
        params["learning_rate"] = row["learning_rate"]
    model = data.build(row["model"], **params)
    if row.get("l2"):
        regularize(model, row["l2"]["value"], row["l2"].get("layers", ["*"]))
    if row.get("weight_decay"):
        # Before the optimizer is built: Adam's decoupled weight decay.
        model.optimizer.weight_decay = float(row["weight_decay"])
    callbacks = []
    if row.get("early_stopping"):
        callbacks.append(keras.callbacks.EarlyStopping(restore_best_weights=True,
                                                       **row["early_stopping"]))
    started = time.perf_counter()
    history = model.fit(data.train, validation_data=data.validation, epochs=row["epochs"],
                        callbacks=callbacks, verbose=verbose, shuffle=False)
    seconds = time.perf_counter() - started
    scores = data.evaluate(model)
    return scores, int(model.count_params()), len(history.history["loss"]), seconds, model, \
        data


def regularize(model, value, patterns):
    """An L2 penalty ``value * sum(w ** 2)`` on every weight but the biases of the layers
    whose names match ``patterns`` (as the GCN and GAT papers regularise), added to the
    training loss through Keras' variable regularizers."""
    import keras

    penalty = keras.regularizers.L2(float(value))
    chosen = [layer for layer in model.layers
              if any(fnmatch.fnmatch(layer.name, pattern) for pattern in patterns)]
    if not chosen:
        raise ValueError(f"No layer matches {patterns}. Received: l2 layers={patterns}")
    for layer in chosen:
        for variable in layer.trainable_weights:
            if not variable.path.endswith("bias"):
                variable.regularizer = penalty


def pca_baseline(data, code_size):
    """Test MSE of PCA with ``code_size`` components fitted on (up to 20k) training images."""
    import numpy as np
    from sklearn.decomposition import PCA

    from applications import data as data_layer

    x_train, _ = data_layer.to_numpy(data.train.take(20000 // 64 + 1))
    x_train = x_train.reshape(len(x_train), -1)
    x_test = data.extras["x_test"].reshape(len(data.extras["x_test"]), -1)
    pca = PCA(n_components=code_size, random_state=0).fit(x_train)
    return float(np.mean((pca.inverse_transform(pca.transform(x_test)) - x_test) ** 2))


def run_row(row, data_root, out=RESULTS, verbose=0, log=print):
    """Train ``row`` for its seeds and write its lines; returns the result dicts."""
    import keras

    values, seconds, epochs_run = [], [], []
    params = model = data = None
    for seed in range(row.get("seeds", 1)):
        scores, params, epochs, took, model, data = train_once(row, data_root, seed, verbose)
        values.append(float(scores[row["metric"]]))
        seconds.append(took)
        epochs_run.append(epochs)
        log(f"  {row['id']} seed {seed}: {row['metric']} {values[-1]:.4f} "
            f"({epochs} epochs, {took:.1f} s)")
    backend = keras.backend.backend()
    results = [_line(row, row["model"], backend, values, params, epochs_run, seconds)]
    if row.get("baseline") == "pca":
        code = int(model.zoo_config["code_size"])
        results.append(_line(row, f"pca ({code} components)", "scikit-learn",
                             [pca_baseline(data, code)], None, [0], [0.0]))
    elif row.get("baseline") == "noisy_input":  # the denoising task's do-nothing score
        results.append(_line(row, "noisy input (no model)", "numpy",
                             [float(scores["noisy_input_mse"])], None, [0], [0.0]))
    if row.get("samples"):
        from applications.tasks import images

        path = out / f"{row['dataset']}_{row['model']}_samples.png"
        path.unlink(missing_ok=True)  # a new measurement replaces the old picture
        images.samples_plot(model, data, path, seed=0)
    write_lines(out / f"{row['dataset']}.csv", results)
    return results


def _line(row, model, backend, values, params, epochs, seconds):
    return {"model": model, "backend": backend, "metric": row["metric"],
            "value": round(statistics.fmean(values), 4),
            "std": round(statistics.stdev(values), 4) if len(values) > 1 else "",
            "params": params if params is not None else "",
            "epochs": round(statistics.fmean(epochs), 1),
            "train_seconds": round(statistics.fmean(seconds), 1), "seeds": len(values),
            "recipe": row["id"]}


def write_lines(path, lines):
    """Replace the lines of the same (recipe, model, backend) in ``path`` (a CSV)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = []
    if path.exists():
        with open(path, newline="", encoding="utf-8") as handle:
            existing = list(csv.DictReader(handle))
    keys = {(line["recipe"], line["model"], line["backend"]) for line in lines}
    kept = [line for line in existing if (line["recipe"], line["model"], line["backend"])
            not in keys]
    temp = path.with_suffix(".csv.tmp")
    with open(temp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(sorted(kept + [{k: line[k] for k in COLUMNS} for line in lines],
                                key=lambda line: (line["recipe"], line["model"],
                                                  line["backend"])))
    os.replace(temp, path)


def summary(recipes, out=RESULTS):
    """``results/README.md``: every results CSV as a table, beside the anchor figures."""
    by_id = {row["id"]: row for row in recipes}
    parts = ["# Results on real data", "",
             "Measured with `python -m benchmarks.quality` (recipes: "
             "`benchmarks/recipes.json`) on the datasets in their original public formats; "
             "value = mean over the seeds, std = their standard deviation. CPU: 2 cores.", ""]
    for path in sorted(out.glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            lines = list(csv.DictReader(handle))
        parts += [f"## {path.stem}", "",
                  "| recipe | model | backend | metric | value | std | seeds | epochs | "
                  "params | train s | published |", "|" + " --- |" * 11]
        for line in lines:
            anchor = (by_id.get(line["recipe"]) or {}).get("anchor")
            published = (f"{anchor['value']}" + (f" ± {anchor['std']}" if anchor.get("std")
                                                 else "") + f" ({anchor['source']})"
                         if anchor and line["backend"] not in BASELINE_BACKENDS else "")
            parts.append(f"| {line['recipe']} | {line['model']} | {line['backend']} | "
                         f"{line['metric']} | {line['value']} | {line['std'] or '–'} | "
                         f"{line['seeds']} | {line['epochs']} | {line['params']} | "
                         f"{line['train_seconds']} | {published} |")
        notes = sorted({line["recipe"] for line in lines
                        if (by_id.get(line["recipe"]) or {}).get("note")})
        parts += [""] + [f"- **{name}**: {by_id[name]['note']}" for name in notes]
        parts.append("")
    pictures = sorted(out.glob("*.png"))
    if pictures:
        parts += ["## Pictures", ""] + [f"![{p.stem}]({p.name})" for p in pictures] + [""]
    text = "\n".join(parts)
    (out / "README.md").write_text(text, encoding="utf-8")
    return text


def below_threshold(row, results):
    """The lines of ``row`` under its ``threshold`` (for ``--check``)."""
    threshold = row.get("threshold")
    if threshold is None:
        return []
    higher = row["metric"] not in ("mse", "loss", "perplexity")
    return [line for line in results if line["model"] == row["model"] and (
        not math.isfinite(line["value"])
        or (line["value"] < threshold if higher else line["value"] > threshold))]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--rows", help="shell-style pattern over recipe ids, e.g. 'cora-*'")
    parser.add_argument("--fast", action="store_true", help="only the rows CI runs")
    parser.add_argument("--data-root", default=os.environ.get("ZOO_REAL_DATA",
                                                              str(DEFAULT_DATA_ROOT)))
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a row falls below its threshold")
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args(argv)
    recipes = load_recipes()
    rows = select(recipes, args.rows, args.fast)
    out = pathlib.Path(args.out)
    failed = []
    for row in rows:
        print(f"{row['id']}: {row['model']} on {row['dataset']} ({row['task']})", flush=True)
        results = run_row(row, args.data_root, out, args.verbose)
        for line in results:
            print(f"  -> {line['model']} {line['metric']} = {line['value']} ± {line['std']}",
                  flush=True)
        failed += [(row["id"], line["value"], row["threshold"])
                   for line in below_threshold(row, results)]
    summary(recipes, out)
    for name, value, threshold in failed:
        print(f"{name}: {value} misses the threshold {threshold}", file=sys.stderr)
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
