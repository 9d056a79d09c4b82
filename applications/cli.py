"""The ``zoo`` command.

    zoo list [PATTERN] [--family F] [--task T]
    zoo describe NAME
    zoo tasks [TASK]
    zoo run TASK [--model NAME] [--dataset NAME] [--epochs N] [--backend B] [--out DIR]
                 [--limit N] [--batch-size N] [--data-dir DIR] [--no-download]
                 [--set KEY=VALUE ...] [--seed S] [--quiet]
                 [--from FILE.keras [--lora RANK]] [--quantize int8]
    zoo tune MODEL [--task T | --data FILE.npz | --toy] [--algorithm A] [--max-trials N] ...
    zoo compare MODEL [MODEL ...] --task TASK [--epochs N] [--budget-seconds S] ...
    zoo inspect FILE [--sha256 HEX] [--json]
    zoo export FILE.keras --format F --out PATH [--check] [--overwrite] [--sha256 HEX]

Start-up. Keras reads its backend once, at import, so ``--backend`` is
applied before anything imports Keras (importing ``zoo`` does); nothing at
the top of this module does. ``list`` and ``describe`` answer from the
registry's catalogue (``zoo/catalogue.json``, see ``zoo/catalogue.py``)
without importing Keras at all. The other commands import Keras (and
TensorFlow, for the applications) with file descriptor 2 pointed at
``/dev/null``: TensorFlow's C++ libraries write their start-up lines
(absl's "All log messages before absl::InitializeLog()", oneDNN, cuInit,
cudart) straight to it, before ``TF_CPP_MIN_LOG_LEVEL`` is read, so only
this keeps them off the user's terminal. The library itself never does this.

Failures. Every failure is one line on stderr, ``zoo: error: ...``, with
a non-zero status: 2 for bad input (a value, a path, a missing extra), 1
for anything else, 130 for Ctrl-C. ``ZOO_TRACEBACK=1`` re-raises instead,
with the full traceback, and leaves the start-up lines on stderr.

``list``, ``describe`` and ``inspect`` need only the base install; the other
commands need an extra (``EXTRAS``) and say which, in one line, when it is
missing.
"""

import argparse
import ast
import contextlib
import importlib.util
import json
import logging
import os
import stat
import sys
import threading
import warnings

from applications.errors import DatasetUnavailableError
from tuner import cli as tuner_cli

#: extra -> the modules it installs that the commands import.
EXTRA_MODULES = {
    "applications": ("tensorflow", "tensorflow_datasets", "matplotlib", "sklearn", "networkx"),
    "tuner": ("keras_tuner",),
}
#: command -> the extras it needs.
EXTRAS = {"run": ("applications",), "tasks": ("applications",), "compare": ("applications",),
          "tune": ("tuner",)}
#: ``zoo export --format`` values (``zoo.exporting.FORMATS``; checked before Keras starts).
FORMATS = ("onnx", "tf_saved_model", "litert", "torch", "openvino")
#: Set to 1 to get the full traceback of a failure (and TensorFlow's start-up lines).
TRACEBACK_ENV = "ZOO_TRACEBACK"
#: Set before anything imports TensorFlow (a user's own value wins): no INFO,
#: WARNING or ERROR lines from its C++ logging once it is initialised.
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3"}
#: Exceptions that mean bad input (status 2); any other failure is status 1.
INPUT_ERRORS = (ValueError, TypeError, OSError, ImportError, DatasetUnavailableError)
#: The most characters of an error message printed.
MESSAGE_LIMIT = 1000

EPILOG = f"""\
A failure prints one line, "zoo: error: ...", and exits with a non-zero
status (2: bad input, 1: other errors, 130: interrupted). Set
{TRACEBACK_ENV}=1 to see the full traceback (and TensorFlow's start-up log).
`zoo list` and `zoo describe` read zoo/catalogue.json and do not start Keras.
"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (values made printable)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {terminal_safe(message)} "
                     f"(see `{self.prog} --help`)\n")


def _parser(backends):
    """The ``zoo`` parser; ``backends`` None leaves ``--backend`` unchecked (Keras checks it)."""
    parser = _Parser(prog="zoo", description="Keras 3 encoder zoo.", epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=backends,
                        help="Keras backend (default: $KERAS_BACKEND or tensorflow)")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="list registered models")
    listing.add_argument("pattern", nargs="?", default="*", help="shell-style wildcard")
    listing.add_argument("--family")
    listing.add_argument("--task")

    describe = commands.add_parser("describe", help="show a model's spec")
    describe.add_argument("name")

    tasks = commands.add_parser("tasks", help="list application tasks, or describe one")
    tasks.add_argument("task", nargs="?")

    run = commands.add_parser(
        "run", help="train a model on an application task",
        description="Train a zoo model on a task end to end. The run directory gets "
                    "metrics.json, model.keras and PNG plots; it is claimed before any "
                    "work, so two runs given the same --out never mix.")
    run.add_argument("task", help="task name (see `zoo tasks`), e.g. reconstruction")
    run.add_argument("--model", help="registry name (default: the task's default model)")
    run.add_argument("--dataset", help="dataset name (default: the task's offline dataset)")
    run.add_argument("--epochs", type=int)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--out", help="run directory (must not exist or be empty; default: "
                                   "runs/TASK_MODEL_TIME)")
    run.add_argument("--limit", type=int, help="most examples per split")
    run.add_argument("--batch-size", type=int, dest="batch_size")
    run.add_argument("--data-dir", dest="data_dir",
                     help="tensorflow-datasets directory (for tfds datasets)")
    run.add_argument("--no-download", action="store_false", dest="download",
                     help="never download a tfds dataset; use only --data-dir")
    add_data_arguments(run)
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     dest="overrides", help="model parameter, e.g. --set code_size=8 "
                                            "(repeatable; values are Python literals)")
    run.add_argument("--from", dest="from_file", metavar="FILE.keras",
                     help="fine-tune this shared model (zoo.load's checks) instead of --model")
    run.add_argument("--lora", type=int, metavar="RANK",
                     help="with --from: train rank-RANK LoRA adapters only (zoo.enable_lora)")
    run.add_argument("--quantize", metavar="MODE", help="after training: quantize (int8, int4), "
                     "score again and write model.MODE.keras")
    run.add_argument("--sample", metavar="FANOUTS", help="node_classification: train on "
                     "neighbour-sampled subgraphs, FANOUTS per graph layer (e.g. 15,10); "
                     "--batch-size seed nodes per step")
    run.add_argument("--sample-eval", dest="sample_eval", choices=("full", "sampled"),
                     default="full", help="with --sample: score on the full graph (default) "
                                          "or on sampled neighbourhoods")
    add_distribute_argument(run)
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.add_argument("--backend", choices=backends, dest="run_backend",
                     help="Keras backend for this run")

    # tuner/cli.py imports Keras (and keras-tuner) only inside run().
    tune = commands.add_parser("tune", help="keras-tuner search over a model's hyperparameters")
    tune_data = tuner_cli.add_arguments(tune)
    del tune_data  # --task may come with --data (the task reads that file)
    tune.add_argument("--task", help="an application task whose data to use, e.g. "
                                     "reversal (needs the 'applications' extra); with --data, "
                                     "the task reads your file")
    tune.add_argument("--limit", type=int, help="most examples per split (--task)")
    tune.add_argument("--dataset", help="dataset of the task (--task)")
    add_data_arguments(tune, data=False)  # --task T --data PATH: the task reads PATH
    versus = commands.add_parser("compare", help="train models on one task with the same "
                                                 "budget and print one table")
    _compare_arguments(versus)
    inspect = commands.add_parser("inspect", help="a .keras file's model card, hash and "
                                                  "safety verdict, without loading weights")
    inspect.add_argument("file")
    inspect.add_argument("--sha256", help="expected SHA-256 (default: FILE.sha256 if present)")
    inspect.add_argument("--json", action="store_true", help="print the report as JSON")
    export = commands.add_parser(
        "export", help="export a .keras file for serving (onnx, tf_saved_model, litert, torch, "
                       "openvino) and check the artefact against Keras")
    export.add_argument("file", help="a .keras file (loaded with zoo.load's checks)")
    export.add_argument("--format", required=True, help="onnx, tf_saved_model, litert, torch "
                                                        "or openvino")
    export.add_argument("--out", required=True, help="the artefact's path (.onnx, a folder, "
                                                     ".tflite, .pt2, .xml)")
    export.add_argument("--check", action="store_true", help="fail, writing nothing, when the "
                        "artefact differs from Keras by more than the format's tolerance")
    export.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    export.add_argument("--sha256", help="expected SHA-256 of FILE (default: FILE.sha256)")
    for sub in (tune, versus, inspect, export):
        sub.add_argument("--backend", choices=backends, dest="run_backend",
                         help="Keras backend for this command")
    return parser


def add_data_arguments(parser, data=True):
    """``--data PATH`` (a user's file or folder) and the options that say how to read it."""
    if data:
        parser.add_argument("--data", metavar="PATH",
                            help="your own file or folder in a format the task reads (see "
                                 "`zoo tasks TASK`); one file is split 80/10/10")
    parser.add_argument("--text-column", dest="text_column",
                        help="CSV/TSV column of the text (default: text)")
    parser.add_argument("--label-column", dest="label_column",
                        help="CSV column of the label (default: label)")
    parser.add_argument("--tag-column", dest="tag_column",
                        help="CoNLL-U: upos (default) or xpos; CoNLL-2003: a column number "
                             "(default: the last)")
    parser.add_argument("--value-column", dest="value_column",
                        help="CSV series column of the values (default: value)")
    parser.add_argument("--window", type=int, help="values per example of a CSV series "
                                                   "(default: 32)")


def add_distribute_argument(parser):
    parser.add_argument("--distribute", metavar="STRATEGY",
                        help="data_parallel: split every batch across all local devices "
                             "(JAX: keras.distribution.DataParallel; TensorFlow: "
                             "MirroredStrategy; torch: refused)")


def _compare_arguments(parser):
    """Arguments of ``zoo compare`` (``applications.compare.run`` reads them)."""
    parser.add_argument("models", nargs="+", metavar="MODEL", help="registry names to compare")
    parser.add_argument("--task", required=True, help="application task (see `zoo tasks`)")
    parser.add_argument("--epochs", type=int, help="epochs for every model (default: the "
                                                   "task's)")
    parser.add_argument("--budget-seconds", type=float, dest="budget_seconds",
                        help="wall-clock training budget per model")
    parser.add_argument("--dataset", help="dataset name (default: the task's offline dataset)")
    parser.add_argument("--limit", type=int, help="most examples per split")
    parser.add_argument("--batch-size", type=int, dest="batch_size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", dest="data_dir",
                        help="tensorflow-datasets directory (for tfds datasets)")
    parser.add_argument("--no-download", action="store_false", dest="download",
                        help="never download a tfds dataset")
    add_data_arguments(parser)
    parser.add_argument("--json", dest="json_path", metavar="PATH",
                        help="also write the rows as JSON to PATH (a new file: an existing "
                             "one is never replaced)")
    add_distribute_argument(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _set_backend(backend):
    if not backend:
        return
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != backend:
            raise SystemExit(
                f"zoo: Keras is already running on {keras.backend.backend()!r}; "
                f"start a new process to use {backend!r}."
            )
    os.environ["KERAS_BACKEND"] = backend


def parse_overrides(items):
    """``["code_size=8", "activation=tanh"]`` -> ``{"code_size": 8, "activation": "tanh"}``."""
    overrides = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set needs KEY=VALUE. Received: --set {item!r}")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        overrides[key.strip()] = value
    return overrides


def _early_backend(argv):
    """The last ``--backend`` value in ``argv`` (before or after the command), unchecked."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--backend")
    return early.parse_known_args(argv)[0].backend


def missing_extras(args):
    """The extras ``args.command`` needs that are not installed (names, in order)."""
    needed = EXTRAS.get(args.command, ())
    if args.command == "tune" and getattr(args, "task", None):
        needed = needed + ("applications",)
    missing = []
    for extra in needed:
        for module in EXTRA_MODULES[extra]:
            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                missing.append(extra)
                break
    return missing


# --- output and errors ----------------------------------------------------------------------


def _plain_zoo_module(name):
    """``zoo.<name>`` for a zoo module that imports only the standard library
    (``untrusted``, ``catalogue``), without running ``zoo/__init__``, which imports
    Keras: loaded by its file path while ``zoo`` is not imported yet."""
    full = f"zoo.{name}"
    if full in sys.modules:
        return sys.modules[full]
    if name not in _PLAIN_MODULES:
        found = importlib.util.find_spec("zoo")  # finds the package without running it
        folder = list(found.submodule_search_locations or [])[0]
        spec = importlib.util.spec_from_file_location(f"_zoo_plain_{name}",
                                                      os.path.join(folder, f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _PLAIN_MODULES[name] = module
    return _PLAIN_MODULES[name]


_PLAIN_MODULES = {}


def terminal_safe(text, keep=""):
    """``text`` with every character that could control a terminal escaped
    (``zoo.untrusted.printable``'s rules), except those in ``keep`` (``"\\n"``
    for multi-line output). Backslashes stay as they are, so text that is
    already escaped is not escaped twice."""
    printable = _plain_zoo_module("untrusted").printable
    return "".join(char if char == "\\" or char in keep else printable(char, None)
                   for char in str(text))


def check_input_file(path, option, signatures=(), kind=""):
    """Fail in one line, before any work, unless ``path`` (given as ``option``) is a
    readable regular file whose first bytes are one of ``signatures``.

    The file is opened without blocking (a FIFO cannot hang the command) and
    checked on the open handle; at most a few bytes are read.

    Raises:
        FileNotFoundError, IsADirectoryError, PermissionError: as it says.
        ValueError: a FIFO, device or socket, or a file that is not ``kind``.
    """
    shown = _plain_zoo_module("untrusted").quoted(os.fspath(path))
    received = f"Received: {option}={shown}"
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileNotFoundError(f"{option} {shown} does not exist. {received}") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{option} {shown} is a directory, not a file. "
                                f"{received}") from None
    except OSError as error:
        raise type(error)(f"{option} {shown} cannot be read: {error.strerror or error}. "
                          f"{received}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(f"{option} {shown} is a directory, not a file. {received}")
        if not stat.S_ISREG(mode):
            raise ValueError(f"{option} {shown} is not a regular file (a FIFO, device or "
                             f"socket). {received}")
        head = os.read(fd, max((len(sig) for sig in signatures), default=0))
    finally:
        os.close(fd)
    if signatures and not any(head.startswith(sig) for sig in signatures):
        raise ValueError(f"{option} {shown} is not {kind}. {received}")
    return path


def _check_input_paths(args):
    """The files a command reads, checked at the command line's edge before Keras starts."""
    if args.command == "export":
        if args.format not in FORMATS:
            raise ValueError(f"--format must be one of {', '.join(FORMATS)}. "
                             f"Received: --format {terminal_safe(repr(args.format))}")
    if args.command == "tune" and getattr(args, "data", None) and not getattr(args, "task",
                                                                                None):
        # numpy.savez writes a zip archive; an empty one starts with the end record.
        check_input_file(args.data, "--data", signatures=(b"PK\x03\x04", b"PK\x05\x06"),
                         kind="an .npz archive (numpy.savez): it does not start like a zip file")


def error_line(error):
    """The one line ``zoo`` prints for ``error``: its first line, bounded, printable."""
    text = str(error).strip()
    if not isinstance(error, INPUT_ERRORS) or not text:
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[0]
    if len(line) > MESSAGE_LIMIT:
        line = f"{line[:MESSAGE_LIMIT]}... ({len(line) - MESSAGE_LIMIT} more characters)"
    if len(lines) > 1:
        line += f" [{len(lines) - 1} more line(s); {TRACEBACK_ENV}=1 shows them]"
    return f"zoo: error: {terminal_safe(line)}"


def show_warning(message, category, filename, lineno, file=None, line=None):
    """Python warnings as ``zoo`` prints them: one printable line each, on stderr."""
    text = next((part.strip() for part in str(message).splitlines() if part.strip()), "")
    if len(text) > MESSAGE_LIMIT:
        text = f"{text[:MESSAGE_LIMIT]}..."
    try:
        print(f"zoo: warning: {terminal_safe(text)} ({category.__name__})",
              file=file or sys.stderr)
    except (OSError, ValueError):
        pass


def _stdout_is_gone():
    """True when stdout is a pipe whose reader has gone (``zoo list | head``); stdout is
    then pointed at ``/dev/null`` so Python's exit does not complain again."""
    try:
        import select

        fd = sys.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        if not any(events & select.POLLERR for _, events in poller.poll(0)):
            return False
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
        return True
    except (AttributeError, ImportError, OSError, ValueError):  # no poll, no file descriptor
        return False


def _traceback_wanted():
    return os.environ.get(TRACEBACK_ENV, "").strip().lower() not in ("", "0", "false", "no")


@contextlib.contextmanager
def native_stderr_silenced():
    """Point file descriptor 2 at ``/dev/null`` for the block (Python's ``sys.stderr`` is
    flushed first and keeps working afterwards). Used around the first import of Keras and
    TensorFlow only, whose C++ start-up lines no environment variable stops. With
    ``ZOO_TRACEBACK=1`` nothing is silenced."""
    if _traceback_wanted():
        yield
        return
    with _STDERR_LOCK:  # one redirection at a time: threads must not save each other's
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no file descriptor 2 (an embedded interpreter)
            yield
            return
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, 2)
            finally:
                os.close(null)
            yield
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


_STDERR_LOCK = threading.Lock()


# --- the registry's catalogue (zoo list / describe without Keras) ---------------------------


def _catalogue():
    """``(module, data)``: ``zoo/catalogue.py`` and its committed data, or ``(None, None)``
    when there is none (the registry then answers: slower, the same result)."""
    try:
        module = _plain_zoo_module("catalogue")
    except Exception:
        return None, None
    data = module.read()
    return (module, data) if data is not None else (None, None)


def _from_catalogue(args, module, catalogue):
    """The exit status of ``list``/``describe`` answered from the catalogue, or None when
    the registry must answer (an unknown name, family or task: it says what is close)."""
    if args.command == "list":
        names = module.names(catalogue, args.pattern, family=args.family, task=args.task)
        if names is None:
            return None
        for name in names:
            entry = catalogue["models"][name]
            print(f"{name:28s} {entry['family']:12s} {entry['task']}")
        return 0
    entry = module.entry(catalogue, args.name)
    if entry is None or not isinstance(entry.get("describe"), str):
        return None
    print(terminal_safe(entry["describe"], keep="\n"))
    return 0


# --- starting Keras ---------------------------------------------------------------------------


def _needs_applications(args):
    return "applications" in EXTRAS.get(args.command, ()) or (
        args.command == "tune" and getattr(args, "task", None))


def start_keras(args):
    """Import Keras (and TensorFlow, for the applications) quietly, once, before a command
    runs; ValueError naming the backend when Keras cannot start it."""
    wanted = ["keras"] + (["tensorflow"] if _needs_applications(args) else [])
    quiet = (native_stderr_silenced if any(name not in sys.modules for name in wanted)
             else contextlib.nullcontext)
    with quiet():
        try:
            import keras  # noqa: F401  (starts the backend)
        except (ImportError, ValueError) as error:  # an unknown or uninstalled backend
            chosen = os.environ.get("KERAS_BACKEND", "tensorflow")
            raise ValueError(
                f"Keras cannot start the {terminal_safe(repr(chosen))} backend "
                f"({str(error).strip()}); install one (pip install \"encoder-zoo[jax]\") and "
                f"choose it with --backend or KERAS_BACKEND. Received: backend={chosen!r}"
            ) from error
        if _needs_applications(args):
            import tensorflow  # noqa: F401  (the data pipelines; its own start-up lines)
        import zoo  # noqa: F401
    if "tensorflow" in sys.modules:  # Python-side warnings (retracing) are not for the user
        logging.getLogger("tensorflow").setLevel(logging.ERROR)


# --- main ---------------------------------------------------------------------------------------


def main(argv=None):
    """Run the ``zoo`` command with ``argv`` (default: ``sys.argv[1:]``); returns the status."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = show_warning
            return _main(argv)
    except KeyboardInterrupt:
        if _traceback_wanted():
            raise
        print("zoo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError as error:  # `zoo list | head`: the reader left; say nothing
        if not _stdout_is_gone():
            print(error_line(error), file=sys.stderr)
            return 1
        return 141  # 128 + SIGPIPE, as a shell reports it
    except Exception as error:  # one line, never a traceback (ZOO_TRACEBACK=1 shows it)
        if _traceback_wanted():
            raise
        print(error_line(error), file=sys.stderr)
        return 2 if isinstance(error, INPUT_ERRORS) else 1


def _main(argv):
    module, catalogue = _catalogue()
    args = _parser(catalogue["backends"] if catalogue else None).parse_args(argv)
    _set_backend(_early_backend(argv))
    if args.command in ("list", "describe") and catalogue is not None:
        status = _from_catalogue(args, module, catalogue)
        if status is not None:
            return status
    missing = missing_extras(args)
    if missing:
        extras = ",".join(missing)
        print(f"zoo {args.command} needs the {' and '.join(map(repr, missing))} "
              f'extra{"s" if len(missing) > 1 else ""}: pip install "encoder-zoo[{extras}]"',
              file=sys.stderr)
        return 2
    _check_input_paths(args)
    start_keras(args)
    return _dispatch(args)


def _describe_task(task):
    lines = [f"{task.name}: {task.description}",
             f"  default model: {task.default_model}   default epochs: {task.default_epochs}",
             "  datasets:"]
    for name, info in task.datasets.items():
        mark = " (default)" if name == task.default_dataset else ""
        where = "offline" if info.offline else info.source
        lines.append(f"    {name}{mark} [{where}]: {info.description}")
    if task.file_formats:
        lines.append(f"  your own data (--data PATH): {task.file_formats}")
    lines.append(f"  compatible models: {', '.join(task.compatible_models())}")
    return "\n".join(lines)


def _dispatch(args):
    import zoo

    if args.command == "list":
        for name in zoo.list_models(args.pattern, family=args.family, task=args.task):
            spec = zoo.get_spec(name)
            print(f"{name:28s} {spec.family:12s} {spec.task}")
        return 0
    if args.command == "describe":
        print(terminal_safe(zoo.describe(args.name), keep="\n"))
        return 0
    if args.command == "inspect":
        report = zoo.inspect(args.file, sha256=args.sha256)
        # JSON escapes every non-ASCII and control character (ensure_ascii); the text
        # report is escaped by format_inspection, and again here for any it missed.
        print(json.dumps(report, indent=2, ensure_ascii=True) if args.json
              else terminal_safe(zoo.format_inspection(report), keep="\n"))
        return 0 if report["verdict"] == "safe to load" else 3
    if args.command == "export":
        model = zoo.load(args.file, sha256=args.sha256, compile=False)
        report = zoo.export(model, args.out, format=args.format, check=args.check,
                            overwrite=args.overwrite)
        print(terminal_safe(str(report)))
        return 0
    # The commands below import TensorFlow (applications) or keras-tuner (tuner):
    # only when they run, so `zoo list` works with the base install.
    if args.command == "tune":
        task_data = None
        if args.task:
            from applications import tune

            task_data = tune.task_data
        return tuner_cli.run(args, extra_data=task_data)
    if args.command == "compare":
        from applications import compare

        return compare.run(args)
    from applications import tasks

    if args.command == "tasks":
        if args.task:
            print(_describe_task(tasks.get_task(args.task)))
            return 0
        for task in tasks.TASKS.values():
            print(f"{task.name:22s} {task.default_model:24s} offline: {task.default_dataset}")
        return 0
    if args.command == "run":
        task = tasks.get_task(args.task)
        from applications.compare import data_options

        metrics = task.run(model=args.model, dataset=args.dataset, epochs=args.epochs,
                           out=args.out, seed=args.seed, limit=args.limit,
                           batch_size=args.batch_size, data_dir=args.data_dir,
                           download=args.download, verbose=0 if args.quiet else "auto",
                           data=args.data, data_options=data_options(args),
                           from_file=args.from_file, lora=args.lora, quantize=args.quantize,
                           distribute=args.distribute, sample=args.sample,
                           sample_eval=args.sample_eval, **parse_overrides(args.overrides))
        print(f"{metrics['task']}: {metrics['model']} on {metrics['dataset']['dataset']} "
              f"({metrics['backend']}, {metrics['epochs']} epochs, "
              f"{metrics['wall_seconds']} s): test {metrics['metric']} = "
              f"{metrics[metrics['metric']]:.4g}")
        print(json.dumps(metrics["test"], indent=2, sort_keys=True))
        if "lora" in metrics:
            lora = metrics["lora"]
            print(f"LoRA rank {lora['rank']}: {lora['trainable_params']} of "
                  f"{lora['total_params']} parameters trained "
                  f"({lora['trainable_fraction']:.1%}); adapters: {lora['adapters_file']} "
                  f"({lora['adapters_bytes']} bytes)")
        if "quantized" in metrics:
            q = metrics["quantized"]
            print(f"{q['mode']}: test {q['metric']} {q['before']:.4g} -> {q['after']:.4g}; "
                  f"file {q['file_bytes_before']} -> {q['file_bytes_after']} bytes "
                  f"({q['file']})")
        files = ", ".join(["metrics.json", metrics["model_file"], *metrics["plots"]])
        print(f"run directory: {terminal_safe(metrics['out'])} ({files})")
        return 0
    raise AssertionError(args.command)
