"""``zoo tune MODEL ...`` / ``python -m tuner MODEL ...``.

    zoo tune dense_autoencoder --data arrays.npz --max-trials 20 --epochs 5 \
        --hp code_size=2:32 --hp activation=relu,gelu --hp learning_rate=0.001
    zoo tune lstm_seq2seq --task reversal --limit 2000 --algorithm hyperband   # applications
    zoo tune gpt_decoder --toy --max-trials 3          # smoke run on random data
    zoo tune transformer_classifier --show-space       # what can be searched
    zoo tune dense_autoencoder --task dim_reduction --objective val_loss,latency_ms \
        --constraint latency_ms=0.1 --plot front.png --max-time 30m --prune median

``--hp NAME=SPEC`` edits the search space: ``NAME=VALUE`` fixes it,
``NAME=LOW:HIGH`` narrows a range (integers if both ends are), ``NAME=A,B,C``
makes it a choice. ``--set NAME=VALUE`` passes a ``zoo.build`` argument that
is not searched (JSON or Python literals: ``--set hidden_units=[64,32]``,
``--set jit_compile=False``).

Distributed: run the same command in every process with
``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT`` and
``KERASTUNER_TUNER_ID`` (``chief`` for one, ``tuner0``, ``tuner1``, ... for the
workers) set, over one shared ``--directory``.

``--objective A,B,...`` searches several objectives (the tuner measures
``latency_ms``, ``params`` and ``file_bytes`` itself; ``NAME:max`` declares a
direction) and prints the Pareto front; ``--constraint NAME=BOUND`` limits
the best model; ``--plot FILE`` draws the front. ``--max-time`` is a budget
for the whole search, ``--prune median`` stops trials worse than the median,
``--algorithm grid`` runs every combination (see ``tuner.search``).

``--out`` must not exist unless ``--overwrite`` is given (checked before the
search starts); ``--no-resume`` deletes only a search the zoo made (see
``tuner.project``). Every failure is one line on stderr and a non-zero
status (2: a usage or input error, 1: the search failed or an unexpected
error, 130: interrupted); ``ZOO_TRACEBACK=1`` shows the traceback instead.

``--task`` (an application task's data) belongs to ``zoo tune``, which the
applications add on top (``applications/tune.py``): the tuner does not
import the applications.

Nothing here imports Keras at module level, so a parent command can add
these arguments before it chooses the backend.
"""

import ast
import json
import os
import stat
import sys

from tuner import ALGORITHMS


def add_arguments(parser):
    """Add the ``tune`` arguments to an ``argparse`` parser.

    Returns the mutually exclusive group of data options (``--data``,
    ``--toy``), so a parent command can add its own data source to it.
    """
    parser.add_argument("model", help="registry name, e.g. dense_autoencoder")
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--data", metavar="FILE.npz",
                      help="arrays x_train, y_train, x_val, y_val (dict inputs: "
                           "x_train__<input name>, ...)")
    data.add_argument("--toy", action="store_true",
                      help="the model's toy size on random example data (a smoke run)")
    parser.add_argument("--algorithm", choices=ALGORITHMS, default="random")
    parser.add_argument("--objective", default="val_loss",
                        help="metric to optimise, or several, comma-separated "
                             "(val_loss,latency_ms,params; NAME:max for a custom direction); "
                             "the tuner measures latency_ms, params and file_bytes itself")
    parser.add_argument("--direction", choices=("min", "max"),
                        help="default: inferred from the objective's name")
    parser.add_argument("--constraint", action="append", default=[], metavar="NAME=BOUND",
                        help="the best model must meet it (an upper bound for a minimised "
                             "objective, a lower one for a maximised one); repeatable")
    parser.add_argument("--max-trials", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=5,
                        help="epochs per trial (hyperband: the most for any trial)")
    parser.add_argument("--max-time", metavar="DURATION",
                        help="time budget of the whole search (90s, 30m, 1h30m); time spent "
                             "before a resume counts")
    parser.add_argument("--prune", choices=("median",),
                        help="stop trials worse than the median of the completed ones at the "
                             "same epoch")
    parser.add_argument("--prune-warmup", type=int, default=1, metavar="EPOCHS",
                        help="epochs before a trial may be pruned (default 1)")
    parser.add_argument("--prune-min-trials", type=int, default=3, metavar="N",
                        help="completed trials needed for a median (default 3)")
    parser.add_argument("--plot", metavar="FILE",
                        help="with several objectives: draw the Pareto front (.png, .svg, "
                             ".pdf; must not exist unless --overwrite)")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--directory", default="tuner_runs", help="where searches live")
    parser.add_argument("--project-name", help="the search's folder name inside --directory "
                                               "(default: the model name)")
    parser.add_argument("--no-resume", action="store_true",
                        help="delete an existing search of that name (one the zoo made) and "
                             "start over")
    parser.add_argument("--hp", action="append", default=[], metavar="NAME=SPEC",
                        help="fix (units=64), narrow (units=16:128) or choose "
                             "(activation=relu,gelu); repeatable")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        dest="sets", help="zoo.build argument that is not searched; repeatable")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="where to save the best model (.keras; must not exist "
                                      "unless --overwrite); default: "
                                      "<directory>/<project>/best_model.keras")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing --out file")
    parser.add_argument("--max-failures", type=int, default=3,
                        help="stop after this many failed trials in a row")
    parser.add_argument("--show-space", action="store_true",
                        help="print the searchable hyperparameters and exit")
    parser.add_argument("--distribute", metavar="STRATEGY",
                        help="data_parallel: train every trial across all local devices "
                             "(JAX or TensorFlow; see zoo.distribute)")
    parser.add_argument("--quiet", action="store_true", help="no per-trial progress output")
    return data


def _scalar(text):
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_hp(text):
    """``NAME=SPEC`` -> ``(name, edit)`` for ``ZooHyperModel``."""
    name, sep, spec = text.partition("=")
    if not sep or not name or not spec:
        raise ValueError(
            f"--hp takes NAME=VALUE, NAME=LOW:HIGH or NAME=A,B,C. Received: --hp={text}")
    if ":" in spec:
        parts = spec.split(":")
        values = [_scalar(part) for part in parts]
        if len(parts) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                      for v in values):
            raise ValueError(f"A range is LOW:HIGH with two numbers. Received: --hp={text}")
        return name, tuple(values)
    if "," in spec:
        return name, [_scalar(part) for part in spec.split(",")]
    return name, _scalar(spec)


def parse_objectives(text):
    """``--objective`` text -> a name, or a list of names and (name, direction) pairs."""
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise ValueError(f"--objective takes NAME or NAME,NAME,... Received: --objective={text}")
    parsed = []
    for item in items:
        name, sep, direction = item.partition(":")
        parsed.append((name, direction) if sep else name)
    return parsed[0] if len(parsed) == 1 and isinstance(parsed[0], str) else parsed


def parse_constraint(text):
    """``NAME=BOUND`` -> ``(name, float)``."""
    name, sep, bound = text.partition("=")
    try:
        value = float(bound)
    except ValueError:
        value = None
    if not sep or not name or value is None:
        raise ValueError(f"--constraint takes NAME=NUMBER. Received: --constraint={text}")
    return name, value


def _tuples(value):
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    return value


def parse_set(text):
    """``NAME=VALUE`` -> ``(name, value)``; VALUE is JSON, a Python literal or a string."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"--set takes NAME=VALUE. Received: --set={text}")
    try:
        return name, _tuples(json.loads(value))
    except json.JSONDecodeError:
        pass
    try:
        return name, _tuples(ast.literal_eval(value))
    except (ValueError, SyntaxError):
        return name, value


def _open_regular(path, shown):
    """An open binary handle on ``path``, which must be a regular file.

    Opened without blocking and checked on the handle, so a FIFO cannot
    hang ``zoo tune`` and a symlink to a device is caught.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileNotFoundError(f"--data {shown} does not exist. Received: --data={shown}") \
            from None
    except IsADirectoryError:
        raise ValueError(f"--data {shown} is a directory, not an .npz file. "
                         f"Received: --data={shown}") from None
    except OSError as error:
        kind = PermissionError if isinstance(error, PermissionError) else ValueError
        raise kind(f"--data {shown} cannot be opened ({error.strerror or error}). "
                   f"Received: --data={shown}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "a directory" if stat.S_ISDIR(mode) else "not a regular file (a FIFO or device)"
        raise ValueError(f"--data {shown} is {what}, not an .npz file. Received: --data={shown}")
    return os.fdopen(fd, "rb")


def load_arrays(path):
    """``(train, validation)`` from an ``.npz`` file (see ``--data``).

    Raises:
        FileNotFoundError: nothing is at ``path``.
        ValueError: ``path`` is a directory, FIFO or device, or not a
            readable ``.npz`` archive of arrays (not a zip, corrupted, a
            single ``.npy``, object arrays, which would need pickle), or it
            lacks ``x_train``/``y_train``.
    """
    import zipfile
    import zlib

    import numpy as np

    from zoo.untrusted import quoted

    shown = quoted(os.fspath(path))

    def unreadable(reason):
        return ValueError(f"--data {shown} is not a readable .npz file of arrays ({reason}). "
                          f"Received: --data={shown}")

    broken = (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error,
              NotImplementedError, KeyError, RuntimeError)
    with _open_regular(os.fspath(path), shown) as handle:
        try:
            archive = np.load(handle, allow_pickle=False)
        except broken:
            raise unreadable("not an .npz archive") from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise unreadable("a single .npy array, not an .npz archive of named arrays")
        arrays = {}
        with archive:
            for key in archive.files:
                try:
                    value = archive[key]
                except ValueError as error:
                    if "bject arrays" in str(error) or "pickle" in str(error):
                        raise unreadable(f"{quoted(key)} holds Python objects, which are not "
                                         "loaded") from None
                    raise unreadable(f"{quoted(key)} is corrupted") from None
                except broken:
                    raise unreadable(f"{quoted(key)} is corrupted") from None
                if not isinstance(value, np.ndarray):
                    raise unreadable(f"{quoted(key)} is not a .npy array")
                arrays[key] = value

    def part(prefix):
        if prefix in arrays:
            return arrays[prefix]
        named = {key[len(prefix) + 2:]: value for key, value in arrays.items()
                 if key.startswith(prefix + "__")}
        return named or None

    x_train, y_train, x_val, y_val = (part(p) for p in ("x_train", "y_train", "x_val", "y_val"))
    if x_train is None or y_train is None:
        keys = ", ".join(quoted(key) for key in sorted(arrays))
        raise ValueError(
            f"{shown} must hold x_train and y_train (and x_val, y_val for validation; dict "
            f"inputs as x_train__<name>). Received: keys=[{keys}]"
        )
    validation = None
    if x_val is not None and y_val is not None:
        validation = (x_val, y_val)
    return (x_train, y_train), validation


def _space_lines(hypermodel):
    lines = [f"{hypermodel.model_name}: "
             + ("declared search space" if hypermodel.has_declared_space
                else "no declared space; default (learning rate only)")]
    for name, item in hypermodel.declared_space().items():
        kind = item.pop("type")
        if name in hypermodel.edits:
            lines.append(f"  {name:16s} {kind:7s} edited: {hypermodel.edits[name]!r}")
            continue
        shown = ", ".join(f"{key}={value!r}" for key, value in item.items() if value is not None)
        lines.append(f"  {name:16s} {kind:7s} {shown}")
    for name in hypermodel.added:
        lines.append(f"  {name:16s} added   {hypermodel.edits[name]!r}")
    return lines


def _data(args, spec, overrides, edits, extra_data=None):
    """train, validation, overrides, dataset description."""
    if extra_data is not None:
        found = extra_data(args, spec, overrides, edits)
        if found is not None:
            return found
    if args.toy:
        if spec.example_data is None:
            raise ValueError(f"{spec.name} has no example data for --toy. Received: --toy")
        toy = {key: value for key, value in spec.toy.items() if key not in edits}
        overrides = {**toy, **overrides}
        params = {**spec.defaults, **overrides}
        train = spec.example_data(params, 256, args.seed)
        validation = spec.example_data(params, 64, args.seed + 1)
        return train, validation, overrides, f"random example data of {spec.name} (toy size)"
    if args.data:
        train, validation = load_arrays(args.data)
        return train, validation, overrides, os.path.basename(args.data)
    raise ValueError("Say which data to search on: --data FILE.npz or --toy (or, with "
                     "`zoo tune`, --task TASK). Received: no data option")


def run(args, extra_data=None):
    """Run ``zoo tune`` with parsed ``args``; returns the exit status.

    ``extra_data(args, spec, overrides, edits)``, when given, is asked first
    for ``(train, validation, overrides, description)``; it returns ``None``
    when ``args`` name none of its data (``zoo tune --task`` is one).
    """
    from tuner import errors

    try:
        return _run(args, extra_data)
    except KeyboardInterrupt:
        if errors.wants_traceback():
            raise
        print("zoo tune: interrupted (the same command resumes the search)", file=sys.stderr)
        return 130
    except Exception as error:
        if errors.wants_traceback():
            raise
        if isinstance(error, errors.SearchFailedError):
            print(f"zoo tune: search failed: {errors.one_line(error)}", file=sys.stderr)
            return 1
        print(f"zoo tune: error: {errors.one_line(error)}", file=sys.stderr)
        return 2 if isinstance(error, (ValueError, TypeError, OSError)) else 1


def _run(args, extra_data):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import zoo
    from tuner.hypermodel import ZooHyperModel
    from zoo.untrusted import printable

    spec = zoo.get_spec(args.model)
    edits = dict(parse_hp(text) for text in args.hp)
    overrides = dict(parse_set(text) for text in args.sets)
    if args.show_space:
        hypermodel = ZooHyperModel(spec.name, hyperparameters=edits, overrides=overrides)
        print("\n".join(_space_lines(hypermodel)))
        return 0
    from tuner.searcher import check_best_model_path, search, search_role

    objective = parse_objectives(args.objective)
    several = isinstance(objective, list)
    objective = ({"objectives": objective} if several
                 else {"objective": objective, "direction": args.direction})
    if several and args.direction is not None:
        raise ValueError("--direction applies to one objective; write NAME:min or NAME:max in "
                         f"--objective instead. Received: --direction={args.direction}")
    constraints = dict(parse_constraint(text) for text in args.constraint)
    pruning = None if args.prune is None else {
        "rule": args.prune, "warmup": args.prune_warmup, "min_trials": args.prune_min_trials}
    if args.plot is not None:
        if not several:
            raise ValueError("--plot draws the Pareto front of several objectives; give them "
                             f"in --objective. Received: --objective={args.objective}")
        from zoo import files

        files.check_new_file(args.plot, overwrite=args.overwrite, what="plot")
    if args.out is not None and search_role() != "worker":
        # Before the data is loaded (a task's may take a while); search() checks again.
        check_best_model_path(args.out, args.overwrite)
    train, validation, overrides, dataset = _data(args, spec, overrides, edits, extra_data)

    import keras

    role = os.environ.get("KERASTUNER_TUNER_ID", "") if "KERASTUNER_ORACLE_IP" in os.environ else ""
    role = printable(role, 60)
    print(f"zoo tune: {spec.name}, {args.algorithm} search, {args.max_trials} trials of "
          f"{args.epochs} epoch(s), backend {keras.backend.backend()}"
          + (f", distributed as {role}" if role else ""))
    result = search(
        spec.name, train, validation, algorithm=args.algorithm, max_trials=args.max_trials,
        epochs=args.epochs, max_time=args.max_time, constraints=constraints or None,
        pruning=pruning, **objective,
        directory=args.directory, project_name=args.project_name, resume=not args.no_resume,
        hyperparameters=edits, overrides=overrides, batch_size=args.batch_size, seed=args.seed,
        max_consecutive_failed_trials=args.max_failures, best_model_path=args.out,
        overwrite=args.overwrite, dataset=dataset, verbose=0 if args.quiet else 1,
        distribute=args.distribute,
    )
    if result.role == "worker":
        ran = ", ".join(f"{row['trial_id']} ({row['status']})" for row in result.trials)
        print(f"zoo tune: worker {role} ran trials: {ran or 'none'}")
        return 0
    print()
    print(result.table())
    print()
    if result.stopped_by_time:
        print(f"max_time spent: the search stopped after {result.time_spent_s:.0f} s "
              "(the same command with a larger --max-time goes on)")
    if len(result.objectives) > 1:
        print(f"Pareto front (*): trials {', '.join(result.pareto_front)}")
        if args.plot is not None:
            print(f"Pareto plot: {printable(result.pareto_plot(args.plot, args.overwrite))}")
    print(f"best trial {result.best_trial_id}: {result.objective} = {result.best_score:.6g}"
          + (f" (within {', '.join(f'{k}={v:g}' for k, v in result.constraints.items())})"
             if result.constraints else ""))
    print(f"best hyperparameters: {json.dumps(result.best_hyperparameters, sort_keys=True)}")
    print(f"best model: {printable(result.best_model_path)} (sha256 {result.best_model_sha256})")
    print(f"trials table: {printable(os.path.join(result.project_dir, 'trials.csv'))}")
    return 0
