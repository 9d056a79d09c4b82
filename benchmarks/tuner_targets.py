"""The tuner's multi-objective, time-budget and pruning targets, measured.

    KERAS_BACKEND=jax python benchmarks/tuner_targets.py all --out benchmarks/results/tuner_targets
    python benchmarks/tuner_targets.py pruning --seeds 0 1 2 --pruning 1:3 2:3
    python benchmarks/tuner_targets.py all --toy --out /tmp/toy   # seconds, for tests

Every search is a random search (``tuner.search``) of ``dense_autoencoder``
over scikit-learn's digits (8x8 images scaled by 1/16, flattened to 64
features; a seeded permutation splits 1437 training and 360 validation
images), batch size 32, in a temporary folder:

- ``pareto``: objectives ``val_loss`` and ``latency_ms`` over ``--trials``
  trials; the front is drawn to ``--plot`` (``tuner_pareto.png`` next to
  ``--out``) and tabled.
- ``budget``: ``max_time=--max-time`` with room for 100 trials. The target:
  the search returns within ``max_time`` plus the longest epoch of any
  trial (per-epoch times come from a callback). Also reported: the trials
  started, the ``STOPPED`` trial and the time from its last epoch's end to
  the return (saving the best model).
- ``pruning``: the same ``--trials``-trial search without and with median
  pruning (each ``--pruning WARMUP:MIN_TRIALS`` setting, each ``--seeds``
  seed). The target: at least 30% fewer epochs, a best ``val_loss`` within
  5% of the unpruned search's.

Writes ``<out>.json`` and ``<out>.md`` (rewritten after every search, so an
interrupted run keeps what it measured).
"""

import argparse
import json
import os
import pathlib
import platform
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: `python benchmarks/tuner_targets.py`
    sys.path.insert(0, str(ROOT))

from benchmarks.run import configure_named, positive_int, progress_log  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
MODEL = "dense_autoencoder"
BATCH_SIZE = 32
SAVING_TARGET, BEST_TARGET = 0.30, 0.05
#: Callback events, ``(kind, epoch, time.perf_counter())``: module-level because
#: keras-tuner deep-copies the callbacks of every trial.
EVENTS = []
_TIMER = []


def epoch_timer():
    """A Keras callback that appends its events to ``EVENTS`` (Keras imported on first call)."""
    if not _TIMER:
        import keras

        class EpochTimer(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                EVENTS.append(("train_begin", None, time.perf_counter()))

            def on_epoch_begin(self, epoch, logs=None):
                EVENTS.append(("epoch_begin", epoch, time.perf_counter()))

            def on_epoch_end(self, epoch, logs=None):
                EVENTS.append(("epoch_end", epoch, time.perf_counter()))

        _TIMER.append(EpochTimer)
    return _TIMER[0]()


def trainings(events, origin):
    """One dict per ``fit`` call: its start and its epochs' ``(begin, end)``, from ``origin``."""
    runs = []
    begin = None
    for kind, epoch, moment in events:
        if kind == "train_begin":
            runs.append({"start_s": moment - origin, "epochs": []})
        elif kind == "epoch_begin":
            begin = moment
        elif kind == "epoch_end" and runs and begin is not None:
            runs[-1]["epochs"].append((begin - origin, moment - origin))
            begin = None
    return runs


def digits(toy=False):
    """``((x, x), (x_val, x_val))``: the digits as the ``dim_reduction`` task scales them."""
    from sklearn.datasets import load_digits

    x = (load_digits().images / 16.0).astype("float32").reshape(-1, 64)
    x = x[np.random.default_rng(0).permutation(len(x))]
    train, val = (x[:64], x[64:96]) if toy else (x[:1437], x[1437:])
    return (train, train), (val, val)


def read_curves(project_dir):
    """``{trial_id: curve record}`` from every ``trial_<id>/zoo_curve.json``."""
    from tuner import stopping

    curves = {}
    for path in sorted(pathlib.Path(project_dir).glob("trial_*")):
        record = stopping.read_curve(path)
        if record is not None:
            curves[path.name[len("trial_"):]] = record
    return curves


def run_search(data, settings, directory, name, **kwargs):
    """One ``tuner.search`` with the epoch timer: ``(result, wall_s, trainings, curves)``."""
    import tuner

    (train, validation) = data
    search = tuner.search  # resolved first: the first access imports keras_tuner (~1 s)
    EVENTS.clear()
    callbacks = [epoch_timer()]
    started = time.perf_counter()
    result = search(MODEL, train, validation, algorithm="random",
                    max_trials=kwargs.pop("max_trials", settings["trials"]),
                    epochs=settings["epochs"], batch_size=BATCH_SIZE,
                    overrides={"input_dim": 64}, directory=directory, project_name=name,
                    callbacks=callbacks, **kwargs)
    wall = time.perf_counter() - started
    runs = trainings(list(EVENTS), started)
    return result, wall, runs, read_curves(result.project_dir)


def _round(value, digits=4):
    return None if value is None else round(float(value), digits)


def trial_rows(result, curves):
    rows = []
    for row in result.trials:
        curve = curves.get(row["trial_id"], {})
        rows.append({"trial_id": row["trial_id"], "status": row["status"],
                     "values": {k: _round(v, 6) for k, v in row["values"].items()},
                     "pareto": bool(row["pareto"]), "stopped_epoch": row["stopped_epoch"],
                     "epochs": len(curve.get("values", [])),
                     "hyperparameters": {k: _round(v, 6) if isinstance(v, float) else v
                                         for k, v in row["hyperparameters"].items()}})
    return rows


# --- the three measurements ------------------------------------------------------------------


def measure_pareto(data, settings, plot, log):
    with tempfile.TemporaryDirectory(prefix="zoo-tuner-pareto-") as directory:
        result, wall, runs, curves = run_search(
            data, settings, directory, "pareto", seed=settings["seeds"][0],
            objectives=["val_loss", "latency_ms"])
        plot = pathlib.Path(plot)
        plot.parent.mkdir(parents=True, exist_ok=True)
        result.pareto_plot(plot, overwrite=True)
    log(f"pareto: {len(result.pareto_front)} of {len(result.trials)} on the front, "
        f"{wall:.1f} s")
    return {"trials": trial_rows(result, curves), "pareto_front": result.pareto_front,
            "best_trial_id": result.best_trial_id, "best_val_loss": _round(result.best_score, 6),
            "epochs_trained": sum(len(c.get("values", [])) for c in curves.values()),
            "epochs_timed": sum(len(run["epochs"]) for run in runs),
            "wall_s": round(wall, 2), "plot": os.path.relpath(plot, ROOT)
            if plot.resolve().is_relative_to(ROOT) else str(plot)}


def measure_budget(data, settings, log, seed=0):
    max_time = settings["max_time"]
    with tempfile.TemporaryDirectory(prefix="zoo-tuner-budget-") as directory:
        result, wall, runs, curves = run_search(
            data, settings, directory, "budget", seed=seed,
            max_trials=settings["budget_trials"], max_time=f"{max_time:g}s",
            objectives=["val_loss", "latency_ms"])
    epochs = [end - begin for run in runs for begin, end in run["epochs"]]
    last_end = max(end for run in runs for _, end in run["epochs"])
    longest = max(epochs)
    stopped = [row for row in result.trials if row["status"] == "STOPPED"]
    statuses = {}
    for row in result.trials:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    record = {
        "seed": seed, "max_time_s": max_time, "wall_s": round(wall, 3),
        "time_spent_s": result.time_spent_s, "stopped_by_time": result.stopped_by_time,
        "longest_epoch_s": round(longest, 3),
        "median_epoch_s": round(float(np.median(epochs)), 3),
        "margin_s": round(wall - max_time - longest, 3),
        "met": wall <= max_time + longest,
        "trials_started": len(runs), "trials_in_result": len(result.trials),
        "statuses": statuses,
        "last_trial_start_s": round(runs[-1]["start_s"], 3),
        # From a trial's last epoch's end to the next fit's start: latency_ms, building.
        "between_trials_s": [round(after["start_s"] - before["epochs"][-1][1], 3)
                             for before, after in zip(runs, runs[1:]) if before["epochs"]],
        "last_epoch_end_s": round(last_end, 3),
        "after_last_epoch_s": round(wall - last_end, 3),
        "epochs_trained": sum(len(c.get("values", [])) for c in curves.values()),
        "epochs_timed": len(epochs),
        "stopped_trial": None,
        "best_trial_id": result.best_trial_id,
    }
    if stopped:
        row = stopped[0]
        timed = runs[-1]["epochs"]  # the trial that was running when the budget ran out
        record["stopped_trial"] = {
            "trial_id": row["trial_id"], "stopped_epoch": row["stopped_epoch"],
            "epochs": len(curves.get(row["trial_id"], {}).get("values", [])),
            "epochs_planned": settings["epochs"],
            "last_epoch_s": round(timed[-1][1] - timed[-1][0], 3),
            "last_epoch_end_s": round(timed[-1][1], 3),
            "after_budget_s": round(timed[-1][1] - max_time, 3)}
    log(f"budget: wall {wall:.2f} s, longest epoch {longest:.2f} s, "
        f"margin {record['margin_s']:+.2f} s, {len(runs)} trials, statuses {statuses}")
    return record


def pruning_run(data, settings, seed, pruning, log):
    label = "none" if pruning is None else f"{pruning['warmup']}:{pruning['min_trials']}"
    with tempfile.TemporaryDirectory(prefix="zoo-tuner-pruning-") as directory:
        result, wall, runs, curves = run_search(data, settings, directory, "pruning",
                                                seed=seed, pruning=pruning)
    rows = trial_rows(result, curves)
    pruned = [{"trial_id": row["trial_id"], "stopped_epoch": row["stopped_epoch"],
               "epochs": row["epochs"]} for row in rows if row["status"] == "PRUNED"]
    record = {"seed": seed, "pruning": label,
              "warmup": None if pruning is None else pruning["warmup"],
              "min_trials": None if pruning is None else pruning["min_trials"],
              "trials": len(rows), "epochs_trained": sum(row["epochs"] for row in rows),
              "epochs_timed": sum(len(run["epochs"]) for run in runs),
              "best_val_loss": _round(result.best_score, 6),
              "best_trial_id": result.best_trial_id, "pruned": pruned,
              "wall_s": round(wall, 2),
              "curves": {row["trial_id"]: row["epochs"] for row in rows},
              "curve_values": {trial_id: [_round(value, 6) for value in curve.get("values", [])]
                               for trial_id, curve in curves.items()}}
    log(f"pruning seed {seed} {label}: {record['epochs_trained']} epochs, best "
        f"{record['best_val_loss']}, {len(pruned)} pruned, {wall:.1f} s")
    return record


def compare(base, pruned):
    saving = 1 - pruned["epochs_trained"] / base["epochs_trained"]
    relative = pruned["best_val_loss"] / base["best_val_loss"] - 1
    return {"seed": base["seed"], "pruning": pruned["pruning"],
            "epochs_without": base["epochs_trained"], "epochs_with": pruned["epochs_trained"],
            "saving": round(saving, 4), "best_without": base["best_val_loss"],
            "best_with": pruned["best_val_loss"], "best_relative_diff": round(relative, 4),
            "pruned_trials": len(pruned["pruned"]),
            "met_saving": saving >= SAVING_TARGET, "met_best": relative <= BEST_TARGET,
            "met": saving >= SAVING_TARGET and relative <= BEST_TARGET}


def measure_pruning(data, settings, report, save, log):
    section = report.setdefault("pruning", {"runs": [], "comparisons": []})
    runs, comparisons = section["runs"], section["comparisons"]
    for seed in settings["seeds"]:
        base = pruning_run(data, settings, seed, None, log)
        runs.append(base)
        save()
        for warmup, min_trials in settings["pruning"]:
            pruned = pruning_run(data, settings, seed,
                                 {"rule": "median", "warmup": warmup, "min_trials": min_trials},
                                 log)
            runs.append(pruned)
            comparisons.append(compare(base, pruned))
            save()


# --- report ----------------------------------------------------------------------------------


def _cell(value, digits=4):
    if value is None:
        return ""
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def _spread(values):
    return (round(float(np.median(values)), 3), max(values)) if values else ("", "")


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(report):
    s = report["settings"]
    out = [f"# Tuner targets ({s['backend']})", "",
           f"`{MODEL}` on digits ({s['train']} train / {s['validation']} validation, 64 "
           f"features), random search, batch size {BATCH_SIZE}, {s['epochs']} epochs per trial, "
           f"{s['cpu_count']} CPUs, {s['date']}. `seed` seeds the oracle and every "
           "trial's training, so the same seed trains the same trials the same way.", ""]
    if report.get("note"):
        out += [report["note"], ""]
    if "pareto" in report:
        p = report["pareto"]
        out += ["## Pareto front: val_loss vs latency_ms", "",
                f"{len(p['trials'])} trials (seed {s['seeds'][0]}), "
                f"{len(p['pareto_front'])} on the front, best val_loss "
                f"{p['best_val_loss']} (trial {p['best_trial_id']}); {p['wall_s']} s.", "",
                f"![Pareto front]({pathlib.Path(p['plot']).name})", "",
                _table(["trial", "status", "val_loss", "latency_ms", "on front", "depth",
                        "code_size", "activation"],
                       [[r["trial_id"], r["status"], r["values"].get("val_loss"),
                         r["values"].get("latency_ms"), "yes" if r["pareto"] else "",
                         r["hyperparameters"].get("depth"),
                         r["hyperparameters"].get("code_size"),
                         r["hyperparameters"].get("activation")] for r in p["trials"]]), ""]
    for b in report.get("budget", []):
        stopped = b["stopped_trial"]
        out += [f"## Time budget (seed {b['seed']})", "",
                f"max_time {b['max_time_s']:g} s, room for {s['budget_trials']} trials. "
                f"Target: wall <= max_time + longest epoch "
                f"({'met' if b['met'] else 'missed'}).", "",
                _table(["measure", "value"], [
                    ["wall time of tuner.search (s)", b["wall_s"]],
                    ["result.time_spent_s", b["time_spent_s"]],
                    ["result.stopped_by_time", b["stopped_by_time"]],
                    ["longest epoch (s)", b["longest_epoch_s"]],
                    ["median epoch (s)", b["median_epoch_s"]],
                    ["margin = wall - max_time - longest epoch (s)", b["margin_s"]],
                    ["trials started", b["trials_started"]],
                    ["trial statuses", ", ".join(f"{k} {v}" for k, v in b["statuses"].items())],
                    ["last trial started at (s)", b["last_trial_start_s"]],
                    ["between trials, median / max (s)", "{} / {}".format(
                        *_spread(b.get("between_trials_s")))],
                    ["last epoch ended at (s)", b["last_epoch_end_s"]],
                    ["last epoch end -> return (s)", b["after_last_epoch_s"]],
                    ["STOPPED trial", "none" if stopped is None else
                     f"{stopped['trial_id']}: {stopped['epochs']} of "
                     f"{stopped['epochs_planned']} epochs, last epoch "
                     f"{stopped['last_epoch_s']} s, ended {stopped['after_budget_s']} s "
                     "after the budget"]]), ""]
    if "pruning" in report:
        pr = report["pruning"]
        out += ["## Median pruning", "",
                f"{s['trials']} trials without and with `pruning={{'rule': 'median', "
                f"'warmup': W, 'min_trials': M}}` (W:M below), same seed. Target: saving >= "
                f"{SAVING_TARGET:.0%} of the epochs, best val_loss within {BEST_TARGET:.0%}.", "",
                _table(["seed", "W:M", "epochs without", "epochs with", "saving",
                        "best without", "best with", "best diff", "pruned", "met"],
                       [[c["seed"], c["pruning"], c["epochs_without"], c["epochs_with"],
                         f"{c['saving']:.1%}", c["best_without"], c["best_with"],
                         f"{c['best_relative_diff']:+.2%}", c["pruned_trials"],
                         "yes" if c["met"] else "no"] for c in pr["comparisons"]]), "",
                "Pruned trials (trial: stop epoch):", ""]
        for run in pr["runs"]:
            if run["pruning"] != "none":
                stops = ", ".join(f"{p['trial_id']}: {p['stopped_epoch']}"
                                  for p in run["pruned"]) or "none"
                out.append(f"- seed {run['seed']}, {run['pruning']}: {stops}")
        out.append("")
    return "\n".join(out)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=("pareto", "budget", "pruning", "all"))
    parser.add_argument("--backend", choices=("jax", "tensorflow", "torch"),
                        help="Keras backend (default: $KERAS_BACKEND or tensorflow)")
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS / "tuner_targets",
                        help="writes <out>.json and <out>.md")
    parser.add_argument("--plot", type=pathlib.Path, default=None,
                        help="the Pareto plot (default: tuner_pareto.png next to --out)")
    parser.add_argument("--trials", type=positive_int, default=None, help="default 20 (toy 3)")
    parser.add_argument("--epochs", type=positive_int, default=None, help="default 10 (toy 3)")
    parser.add_argument("--max-time", type=float, default=None, help="seconds, default 60 "
                        "(toy 2)")
    parser.add_argument("--budget-trials", type=positive_int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--pruning", nargs="+", default=None, metavar="WARMUP:MIN_TRIALS",
                        help="median-pruning settings to try (default 1:3; toy 1:1)")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads per framework (0: the framework's default)")
    parser.add_argument("--toy", action="store_true", help="tiny data and searches (tests)")
    parser.add_argument("--quiet", action="store_true")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    backend = configure_named(args.backend, args.threads)
    log = progress_log(args.quiet)
    toy = args.toy
    pruning = [tuple(int(part) for part in text.split(":"))
               for text in (args.pruning or (["1:1"] if toy else ["1:3"]))]
    settings = {"backend": backend, "toy": toy,
                "trials": args.trials or (3 if toy else 20),
                "epochs": args.epochs or (3 if toy else 10),
                "max_time": args.max_time or (2.0 if toy else 60.0),
                "budget_trials": args.budget_trials, "seeds": args.seeds,
                "pruning": pruning, "batch_size": BATCH_SIZE, "threads": args.threads,
                "cpu_count": os.cpu_count(), "platform": platform.platform(),
                "date": time.strftime("%Y-%m-%d")}
    data = digits(toy)
    settings["train"], settings["validation"] = len(data[0][0]), len(data[1][0])
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    plot = args.plot or out.parent / "tuner_pareto.png"
    report = {"settings": {**settings, "pruning": [f"{w}:{m}" for w, m in pruning]}}

    def save():
        out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
        out.with_suffix(".md").write_text(markdown(report))

    targets = ("pareto", "budget", "pruning") if args.target == "all" else (args.target,)
    if "pareto" in targets:
        report["pareto"] = measure_pareto(data, settings, plot, log)
        save()
    if "budget" in targets:
        report["budget"] = []
        for seed in settings["seeds"]:
            report["budget"].append(measure_budget(data, settings, log, seed))
            save()
    if "pruning" in targets:
        measure_pruning(data, settings, report, save, log)
    save()
    log(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}")
    return report


if __name__ == "__main__":
    main()
