"""Tasks: the registry, the data a task hands to a model, and the shared training run.

A task (``sentiment``, ``translation``, ``reconstruction``, ...) knows its
datasets (an offline default plus tensorflow-datasets names), which zoo
models fit it, how to load data for a given model, how to score a trained
model, and which plots to draw. ``load_task_data`` gives tuners and
comparisons the same data the ``zoo run`` command trains on.
"""

import contextlib
import dataclasses
import datetime
import json
import os
import pathlib
import time
from typing import Callable

import zoo
from applications.tasks import adapting, distributing
from zoo import files
from zoo import validation as checks
from zoo.registry import resolve_params
from zoo.untrusted import printable, quoted

TASKS: dict[str, "Task"] = {}
#: The registry size preset the tasks train (small enough for a CPU run).
SIZE = "small"


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """One dataset a task can use.

    Attributes:
        name: the ``--dataset`` value.
        source: where it comes from, in words ("generated", "scikit-learn",
            "networkx", "tfds").
        description: one line for ``zoo tasks``.
        offline: True when no download is needed.
        default_limit: examples per split used when the caller gives none
            (keeps CPU runs on big tfds sets short; ``None``: all).
    """

    name: str
    source: str
    description: str
    offline: bool
    default_limit: int | None = None


@dataclasses.dataclass
class TaskData:
    """What a task gives a model: pipelines, build arguments and a scorer.

    Attributes:
        train, validation, test: batched ``tf.data.Dataset``s of ``(x, y)``.
        build_overrides: parameters the data fixes for ``zoo.build`` (vocab
            sizes, input shapes, number of classes, ...).
        task_params: model parameters that are part of the task's meaning
            (a 2-D code for ``dim_reduction``, a small code for ``anomaly``);
            they go over the model's registry size ``"small"`` (``SIZE``).
        metric: the headline metric name; ``higher_is_better`` says its
            direction.
        evaluate: ``evaluate(model) -> dict`` scores on ``test``; the dict
            always holds ``metric``.
        info: dataset name, source and split sizes, for ``metrics.json``.
        extras: task-specific things (vocabularies, test arrays for plots).
    """

    task: str
    model: str
    dataset: str
    train: object
    validation: object
    test: object
    build_overrides: dict
    metric: str
    higher_is_better: bool
    scorer: Callable = dataclasses.field(repr=False)
    task_params: dict = dataclasses.field(default_factory=dict)
    info: dict = dataclasses.field(default_factory=dict)
    extras: dict = dataclasses.field(default_factory=dict, repr=False)

    def evaluate(self, model):
        """``{metric: value, ...}`` of ``model`` on the test split."""
        return self.scorer(model, self)

    def suggested_params(self, model=None):
        """The model's ``"small"`` registry size with the task's own parameters over it."""
        spec = zoo.get_spec(model or self.model)
        return {**_accepted(spec, _small(spec)), **_accepted(spec, self.task_params)}

    def build(self, model=None, **overrides):
        """``zoo.build`` at the model's ``"small"`` size, then the task's parameters,
        the data's fixed parameters and ``overrides`` (which win)."""
        name = model or self.model
        spec = zoo.get_spec(name)
        params = {**_accepted(spec, self.task_params), **_accepted(spec, self.build_overrides),
                  **overrides}
        return zoo.build(name, size=SIZE if SIZE in spec.sizes else None, **params)


def _small(spec):
    return spec.size(SIZE) if SIZE in spec.sizes else {}


def _accepted(spec, params):
    return {key: value for key, value in params.items() if key in spec.defaults}


@dataclasses.dataclass(frozen=True)
class Task:
    """An application task. See ``register_task``."""

    name: str
    description: str
    families: tuple
    model_tasks: tuple
    default_model: str
    datasets: dict
    default_dataset: str
    default_epochs: int
    loader: Callable = dataclasses.field(repr=False)
    reporter: Callable | None = dataclasses.field(default=None, repr=False)
    accepts: Callable | None = dataclasses.field(default=None, repr=False)
    requirement: str = ""
    default_batch_size: int = 64
    file_formats: str = ""

    def compatible_models(self):
        return [name for name in zoo.list_models() if self._fits(zoo.get_spec(name))]

    def _fits(self, spec):
        return (spec.family in self.families and spec.task in self.model_tasks
                and (self.accepts is None or self.accepts(spec)))

    def check_model(self, model_name):
        """The spec of ``model_name``; ValueError listing what fits when it does not."""
        spec = zoo.get_spec(model_name)
        if not self._fits(spec):
            need = self.requirement or (f"a {' or '.join(self.families)} model for "
                                        f"{' or '.join(self.model_tasks)}")
            raise ValueError(
                f"Task {self.name!r} needs {need}; {model_name!r} is a {spec.family} model "
                f"for {spec.task}. Compatible models: {', '.join(self.compatible_models())}. "
                f"Received: model={model_name!r}")
        return spec

    def check_dataset(self, dataset):
        dataset = self.default_dataset if dataset is None else dataset
        if dataset not in self.datasets:
            listed = ", ".join(f"{name} ({'offline' if info.offline else info.source})"
                               for name, info in self.datasets.items())
            raise ValueError(f"Task {self.name!r} has no dataset {dataset!r}. Available: "
                             f"{listed}. Received: dataset={dataset!r}")
        return self.datasets[dataset]

    def check_options(self, limit=None, batch_size=None, data_dir=None, data=None,
                      data_options=None):
        """Check the options of ``load`` that need no data (cheap; before any work)."""
        if limit is not None:
            checks.positive_int("limit", limit)
        if batch_size is not None:
            checks.positive_int("batch_size", batch_size)
        if data_dir is not None:
            check_data_dir(data_dir)
        if data is not None:
            if not self.file_formats:
                takers = ", ".join(name for name, task in TASKS.items() if task.file_formats)
                raise ValueError(f"Task {self.name!r} reads no user files (--data); tasks that "
                                 f"do: {takers}. Received: data={quoted(data)}")
            check_data_path(data)
        return check_data_options(data_options, data)

    def check_sampling(self, sample=None, sample_eval="full", parts=1):
        """The neighbour-sampling options (``--sample``): only node classification takes
        them. ``sample``: fan-outs per graph layer; ``sample_eval``: ``"full"`` (the
        whole graph) or ``"sampled"``; ``parts``: subgraphs per step."""
        if sample is None:
            if sample_eval != "full":
                raise ValueError("--sample-eval chooses how a sampled run is scored: give "
                                 f"--sample too. Received: sample_eval={sample_eval!r}")
            return {"sample": None, "sample_eval": "full", "parts": 1}
        if self.name != "node_classification":
            raise ValueError("Neighbour sampling (--sample) is for node_classification. "
                             f"Received: task={self.name!r}, sample={sample!r}")
        sample = parse_fanouts(sample)
        if sample_eval not in ("full", "sampled"):
            raise ValueError("sample_eval must be 'full' or 'sampled'. "
                             f"Received: sample_eval={sample_eval!r}")
        return {"sample": sample, "sample_eval": sample_eval,
                "parts": checks.positive_int("parts", parts)}

    def check_file_dataset(self, dataset, data):
        """The ``DatasetInfo`` of the run: a registered dataset, or the user's ``data``
        (``--data``), where ``dataset`` may only pick one of several datasets a
        folder holds (``--data DIR --dataset cora``)."""
        if data is None:
            return self.check_dataset(dataset)
        if dataset is not None and dataset not in FOLDER_DATASETS:
            raise ValueError(
                f"--dataset and --data name two different datasets; with --data, --dataset "
                f"only picks one of the datasets a folder holds ({', '.join(FOLDER_DATASETS)})"
                f". Received: dataset={quoted(dataset)}, data={quoted(data)}")
        name = dataset or pathlib.Path(data).name or str(data)
        return DatasetInfo(name, "file", f"the user's data at {printable(data)}", True)

    def load(self, model=None, dataset=None, limit=None, seed=0, data_dir=None,
             batch_size=None, download=True, data=None, data_options=None, vocabulary=None,
             sample=None, sample_eval="full", parts=1):
        model = model or self.default_model
        spec = self.check_model(model)
        options = self.check_options(limit, batch_size, data_dir, data, data_options)
        options.update(self.check_sampling(sample, sample_eval, parts))
        info = self.check_file_dataset(dataset, data)
        limit = info.default_limit if limit is None else limit
        request = LoadRequest(task=self, spec=spec, dataset=info, limit=limit, seed=seed,
                              data_dir=data_dir, batch_size=batch_size or self.default_batch_size,
                              download=download, data=None if data is None else str(data),
                              options={**options, "dataset": dataset},
                              vocabulary=None if vocabulary is None else list(vocabulary))
        data = self.loader(request)
        data.build_overrides = _accepted(spec, data.build_overrides)
        data.task_params = _accepted(spec, data.task_params)
        data.info = {"dataset": info.name, "source": info.source,
                     "description": info.description, **data.info}
        return data

    def run(self, **kwargs):
        return run_task(self.name, **kwargs)


@dataclasses.dataclass(frozen=True)
class LoadRequest:
    """Everything a task's loader needs (built by ``Task.load``)."""

    task: Task
    spec: object
    dataset: DatasetInfo
    limit: int | None
    seed: int
    data_dir: str | None
    batch_size: int
    download: bool
    data: str | None = None
    options: dict = dataclasses.field(default_factory=dict)
    #: The token vocabulary a shared model was trained with (its card's
    #: ``vocabulary``, for ``--from``): text tasks map words through it.
    vocabulary: list | None = None

    @property
    def offline_hint(self):
        return f" (--dataset {self.task.default_dataset})"

    def cap(self, n):
        return n if self.limit is None else min(n, self.limit)


def register_task(name, *, description, families, model_tasks, default_model, datasets,
                  default_epochs, reporter=None, accepts=None, requirement="",
                  default_batch_size=64, file_formats=""):
    """Decorator: register a loader ``f(request) -> TaskData`` as task ``name``.

    ``datasets`` is a list of ``DatasetInfo``; the first is the default and
    must be offline. ``file_formats`` says in words which user files
    (``--data``) the loader reads (``request.data``); empty: none.
    """
    if not datasets[0].offline:
        raise ValueError(f"The default dataset of task {name!r} must be offline.")

    def decorator(loader):
        if name in TASKS:
            raise ValueError(f"A task named {name!r} is already registered.")
        TASKS[name] = Task(name=name, description=description, families=tuple(families),
                           model_tasks=tuple(model_tasks), default_model=default_model,
                           datasets={d.name: d for d in datasets},
                           default_dataset=datasets[0].name, default_epochs=default_epochs,
                           loader=loader, reporter=reporter, accepts=accepts,
                           requirement=requirement, default_batch_size=default_batch_size,
                           file_formats=file_formats)
        return loader

    return decorator


def check_data_dir(data_dir):
    """A tensorflow-datasets directory (``--data-dir``) must be a directory when it exists
    (tfds makes a missing one when it downloads).

    Raises:
        NotADirectoryError: ``data_dir`` is a file, FIFO or device (or a
            folder on its path is a file).
    """
    path = pathlib.Path(data_dir)
    try:
        exists = path.exists()
    except OSError as error:  # a name too long, a folder on the path that is a file
        raise NotADirectoryError(f"The data directory {quoted(data_dir)} cannot be used: "
                                 f"{error.strerror or error}. Received: "
                                 f"data_dir={quoted(data_dir)}") from None
    if exists and not path.is_dir():
        raise NotADirectoryError(f"The data directory {quoted(data_dir)} is a file, not a "
                                 f"directory. Received: data_dir={quoted(data_dir)}")
    return path


#: Datasets a folder given with ``--data`` may hold several of (``--dataset`` picks one).
FOLDER_DATASETS = ("cora", "citeseer", "pubmed")
#: The reader options of ``--data`` and their defaults (``None``: the format's own).
DATA_OPTIONS = {"text_column": "text", "label_column": "label", "tag_column": None,
                "value_column": "value", "window": 32}


def parse_fanouts(value):
    """Fan-outs per graph layer from ``"15,10"`` or a sequence of positive ints.

    >>> parse_fanouts("15,10")
    (15, 10)
    """
    from zoo.models.graph.sampling import check_fanouts

    items = value.split(",") if isinstance(value, str) else value
    try:
        return check_fanouts(tuple(int(item) if isinstance(item, str) else item
                                   for item in items))
    except (TypeError, ValueError):  # named as the user gave it (--sample 15,0)
        raise ValueError("Fan-outs must be positive integers, one per graph layer, e.g. "
                         f"15,10. Received: sample={value!r}") from None


def check_data_path(data):
    """A user's data (``--data``) must be an existing file or folder.

    Raises:
        FileNotFoundError: nothing is at ``data``.
        NotADirectoryError: a folder on its path is a file.
    """
    path = pathlib.Path(data)
    try:
        exists = path.exists()
    except OSError as error:
        raise NotADirectoryError(f"The data path {quoted(data)} cannot be used: "
                                 f"{error.strerror or error}. Received: data={quoted(data)}") \
            from None
    if not exists:
        raise FileNotFoundError(f"The data path {quoted(data)} does not exist. "
                                f"Received: data={quoted(data)}")
    return path


def check_data_options(options, data=None):
    """``DATA_OPTIONS`` with the user's values over them, checked.

    Raises:
        TypeError: an unknown option (the known ones are listed).
        ValueError: a column name that is empty, a window below 2, or an option
            given without ``data``.
    """
    given = {key: value for key, value in (options or {}).items() if value is not None}
    unknown = sorted(set(given) - set(DATA_OPTIONS))
    if unknown:
        raise TypeError(f"Unknown data option(s) {', '.join(map(repr, unknown))}; known: "
                        f"{', '.join(DATA_OPTIONS)}. Received: {unknown[0]}={given[unknown[0]]!r}")
    if given and data is None:
        key = next(iter(given))
        raise ValueError(f"--{key.replace('_', '-')} reads a user's file: give --data PATH "
                         f"too. Received: {key}={given[key]!r} without data")
    for key, value in given.items():
        if key == "window":
            if checks.positive_int("window", value) < 2:
                raise ValueError(f"window must be at least 2 values. Received: window={value}")
        elif not isinstance(value, str) or not value.strip():
            raise ValueError(f"{key} must be a column name. Received: {key}={value!r}")
    return {**DATA_OPTIONS, **given, "given": sorted(given)}


def get_task(name):
    if name not in TASKS:
        raise ValueError(f"Unknown task {name!r}. Available tasks: "
                         f"{', '.join(sorted(TASKS))}. Received: task={name!r}")
    return TASKS[name]


def load_task_data(task_name, model=None, dataset=None, limit=None, seed=0, data_dir=None,
                   batch_size=None, download=True, data=None, **data_options):
    """Data for training ``model`` on task ``task_name``.

    Args:
        task_name: a registered task (see ``TASKS``).
        model: a registry name (default: the task's default model); the data
            layout (flat vectors or images, sequence lengths) follows it.
        dataset: a dataset of the task (default: its offline default).
        limit: most examples per split (``None``: the dataset's default).
        seed: seeds the generated data, the splits and shuffling.
        data_dir: tensorflow-datasets directory for tfds names.
        batch_size: examples per batch (default: the task's).
        download: let tensorflow-datasets download a missing dataset.
        data: a user's file or folder in a format the task reads (see
            ``zoo tasks TASK``): one file is split 80/10/10 (seeded); a folder
            with ``train``/``dev``/``test`` files keeps its splits.
        **data_options: how to read ``data`` (``DATA_OPTIONS``):
            ``text_column``, ``label_column``, ``tag_column`` (``upos`` or
            ``xpos`` for CoNLL-U, a column number for CoNLL-2003),
            ``value_column``, ``window``.

    Returns:
        A ``TaskData``: ``train``/``validation``/``test`` pipelines,
        ``build_overrides``, ``metric``, ``higher_is_better`` and
        ``evaluate(model)``.

    Raises:
        ValueError: unknown task or dataset, a model of the wrong kind, a
            bad ``limit``/``batch_size``.
        DatasetUnavailableError: a tfds dataset that cannot be loaded.
        applications.formats.errors.DataFormatError: ``data`` is malformed
            (the message names the file and line); a ``ValueError``.

    >>> data = load_task_data("reversal", limit=64)
    >>> model = data.build(latent_dim=16)          # zoo.build with the data's sizes
    >>> history = model.fit(data.train, epochs=1, verbose=0)
    >>> 0.0 <= data.evaluate(model)["exact_match"] <= 1.0
    True
    """
    return get_task(task_name).load(model=model, dataset=dataset, limit=limit, seed=seed,
                                    data_dir=data_dir, batch_size=batch_size,
                                    download=download, data=data, data_options=data_options)


# --- run directories and files --------------------------------------------------------------

#: What a run directory's claim marker (``zoo.files.MARKER``) says owns it.
RUN_KIND = "zoo run"


def _default_run_dir(task_name, model_name):
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return pathlib.Path("runs") / f"{task_name}_{model_name}_{stamp}"


def check_run_dir(out, task_name, model_name):
    """The run directory path, checked before any work starts.

    ``out=None`` gives ``runs/<task>_<model>_<time>``. The directory must not
    exist or be empty, and it (or the folder it will be made in) must be
    writable.

    Raises:
        FileExistsError: ``out`` is a file or a directory with files in it.
        PermissionError: it cannot be written.
        NotADirectoryError: a folder on its path is a file.
    """
    default = out is None
    out = pathlib.Path(_default_run_dir(task_name, model_name) if default else out)
    if (out.exists() or out.is_symlink()) and not default:  # a default one gets a suffix
        if not out.is_dir():
            raise FileExistsError(
                f"Run directory {quoted(out)} exists and is not a directory; choose another "
                f"--out so nothing is overwritten. Received: out={quoted(out)}")
        entries = [entry.name for entry in out.iterdir()]
        if entries == [files.MARKER]:
            record = files.owner(out) or {}
            who = ", ".join(f"{key} {printable(record[key], 60)}"
                            for key in ("pid", "host", "claimed") if key in record)
            raise FileExistsError(
                f"Run directory {quoted(out)} is already claimed by another zoo process"
                f"{f' ({who})' if who else ''}; choose another --out so nothing is mixed. "
                f"Received: out={quoted(out)}")
        if entries:
            raise FileExistsError(
                f"Run directory already exists and is not empty; choose another --out "
                f"so nothing is overwritten. Received: out={quoted(out)}")
        existing = out
    else:
        existing = out.parent
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise NotADirectoryError(
                f"Cannot make run directory {quoted(out)}: {quoted(existing)} is a file. "
                f"Received: out={quoted(out)}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(
            f"Cannot write run directory {quoted(out)}: {quoted(existing)} is not writable. "
            f"Received: out={quoted(out)}")
    return out


def prepare_run_dir(out, task_name, model_name, details=None):
    """Check and claim the run directory (``zoo.files.claim_directory``), before any work.

    Of two runs given the same ``out`` exactly one gets it; the other fails
    at once (``FileExistsError``) and writes nothing there. A default
    directory (``out=None``) taken meanwhile by another run gets a ``-2``,
    ``-3``, ... suffix instead.

    Returns:
        The claimed directory (a ``pathlib.Path``).
    """
    default = out is None
    out = check_run_dir(out, task_name, model_name)
    details = {"task": task_name, "model": model_name, **(details or {})}
    candidates = [out] + ([out.with_name(f"{out.name}-{n}") for n in range(2, 100)]
                          if default else [])
    for candidate in candidates:
        try:
            return files.claim_directory(candidate, RUN_KIND, details=details)
        except FileExistsError:
            if candidate is candidates[-1]:
                raise
        except OSError as error:  # cannot be made or written: a read-only folder, a full disk
            raise type(error)(
                f"Cannot make run directory {quoted(candidate)}: "
                f"{error.strerror or error}. Received: out={quoted(candidate)}") from error
    raise AssertionError("unreachable")


def release_run_dir(out, created):
    """Give back a claimed run directory that nothing was written to (the run failed
    before its first file): remove the claim marker, and the directory if the run
    made it. A directory with the run's files in it is kept. Returns True if released."""
    out = pathlib.Path(out)
    try:
        if any(entry.name != files.MARKER for entry in out.iterdir()):
            return False
        (out / files.MARKER).unlink(missing_ok=True)
        if created:
            out.rmdir()
    except OSError:
        return False
    return True


def write_metrics(out, metrics):
    """``metrics.json`` in ``out``; never replaces an existing file."""
    path = pathlib.Path(out) / "metrics.json"
    files.write_new_text(path, json.dumps(zoo.to_jsonable(metrics), indent=2, sort_keys=True)
                         + "\n")
    return path


def save_model(model, path, metadata):
    """``zoo.save``: the model card (with ``metadata``) and the SHA-256 sidecar."""
    return zoo.save(model, str(path), metadata=zoo.to_jsonable(metadata))


# --- the shared training run ----------------------------------------------------------------


def run_task(task_name, model=None, dataset=None, epochs=None, out=None, seed=0, limit=None,
             batch_size=None, data_dir=None, download=True, verbose="auto", data=None,
             data_options=None, from_file=None, lora=None, quantize=None, distribute=None,
             sample=None, sample_eval="full", **overrides):
    """Train ``model`` on a task end to end and write the run directory.

    The directory gets ``metrics.json``, ``model.keras`` and PNG plots
    (``training_curves.png`` always, more as the task fits). It must not
    exist yet or be empty; it is claimed (``zoo.files.claim_directory``, its
    marker ``.zoo-owner.json`` stays as the record of the run) before any
    data is loaded, so two runs given one ``out`` cannot mix: the second
    fails at once. A run that fails before writing its first file gives the
    directory back as it found it.

    ``data`` (a user's file or folder) and ``data_options`` are as for
    ``load_task_data``; a malformed file fails before anything is written
    and leaves no run directory behind.

    Adapting and shrinking (``adapting``):

    - ``from_file``: fine-tune a shared ``.keras`` file (``zoo.load``'s
      checks) instead of building ``model``; a text model reads the new data
      through the vocabulary stored in its card. A different number of
      classes gets a new head (``zoo.with_head``).
    - ``lora``: with ``from_file``, train rank-``lora`` adapters only
      (``zoo.enable_lora``); the run also writes ``adapters.npz``
      (``zoo.save_adapters``) and ``model.keras`` with them merged.
    - ``quantize``: after training, quantize (``zoo.quantize``, e.g.
      ``"int8"``), score again and write ``model.<mode>.keras``;
      ``metrics["quantized"]`` holds the metric and file size before and after.

    Scale (``distributing``):

    - ``distribute``: ``"data_parallel"`` builds and trains under
      ``zoo.distribute`` over all local devices (JAX or TensorFlow); the batch
      size must split across them.
    - ``sample``: node classification on neighbour-sampled subgraphs (fan-outs
      per layer, e.g. ``(15, 10)``; ``batch_size`` seed nodes per step) instead
      of the whole graph; ``sample_eval`` scores on the ``"full"`` graph or
      ``"sampled"``.

    Returns:
        The metrics dict (as written, plus ``out``).

    Raises:
        ValueError, TypeError: a bad task, model, dataset, epochs, limit,
            batch size or model parameter (before the directory is touched).
        FileExistsError: ``out`` is not empty, or another run claimed it.
        PermissionError, NotADirectoryError: ``out`` cannot be written.
    """
    # Everything that needs no data is checked first, then the directory is
    # claimed: a second run given the same ``out`` fails here, before any work.
    task = get_task(task_name)
    adapting.check_arguments(model, from_file, lora, quantize, overrides)
    model = model or (None if from_file else task.default_model)
    if model:
        task.check_model(model)
    task.check_options(limit, batch_size, data_dir, data, data_options)
    sampling = task.check_sampling(sample, sample_eval)
    strategy = distributing.check(distribute, task, batch_size, sampling["sample"])
    if strategy is not None:
        sampling["parts"] = strategy.num_replicas
    info = task.check_file_dataset(dataset, data)
    epochs = task.default_epochs if epochs is None else checks.positive_int("epochs", epochs)
    if model:
        resolve_params(model, overrides)  # unknown parameters: TypeError listing the accepted
    created = out is None or not pathlib.Path(out).exists()
    out = prepare_run_dir(out, task.name, model or "from-file", details={
        "dataset": info.name, "epochs": epochs, "seed": seed, "limit": limit})
    try:
        return _train_into(task, out, model=model, dataset=dataset, epochs=epochs, seed=seed,
                           limit=limit, batch_size=batch_size, data_dir=data_dir,
                           download=download, verbose=verbose, overrides=overrides,
                           data=data, data_options=data_options, from_file=from_file,
                           lora=lora, quantize=quantize, strategy=strategy, sampling=sampling)
    except BaseException:
        release_run_dir(out, created)  # only if the run wrote nothing there
        raise


def _train_into(task, out, *, model, dataset, epochs, seed, limit, batch_size, data_dir,
                download, verbose, overrides, data=None, data_options=None, from_file=None,
                lora=None, quantize=None, strategy=None, sampling=None):
    import keras

    from applications import plots

    started = time.perf_counter()
    keras.utils.set_random_seed(seed)
    shared = adapting.load_shared(task, from_file) if from_file else None
    if shared:
        model = shared.name
    data = task.load(model=model, dataset=dataset, limit=limit, seed=seed, data_dir=data_dir,
                     batch_size=batch_size, download=download, data=data,
                     data_options=data_options,
                     vocabulary=shared.vocabulary if shared else None, **(sampling or {}))
    train, validation, callbacks = distributing.fit_arguments(
        strategy, data, batch_size or task.default_batch_size, "graph" in task.families)
    with strategy or contextlib.nullcontext():
        if shared:
            net, adapted = adapting.prepare(shared, data, lora)
        else:
            net, adapted = data.build(model, **overrides), {}
        fit_started = time.perf_counter()
        history = net.fit(train, validation_data=validation, epochs=epochs, verbose=verbose,
                          shuffle=False, callbacks=callbacks)  # the pipelines shuffle
        train_seconds = time.perf_counter() - fit_started
    scores = data.evaluate(net)  # on one device under JAX: every test example counts

    report = task.reporter(net, data, out, seed) if task.reporter else {}
    plot_files = [plots.training_curves(history.history, out / "training_curves.png",
                                        title=f"{task.name}: {model} on {data.dataset}")]
    plot_files += report.pop("plots", [])

    hyperparameters = {key: value for key, value in net.zoo_config.items()}
    metrics = {
        "task": task.name,
        "model": model,
        "dataset": data.info,
        "backend": keras.backend.backend(),
        "epochs": epochs,
        "seed": seed,
        "metric": data.metric,
        "higher_is_better": data.higher_is_better,
        data.metric: scores[data.metric],
        "test": scores,
        "history": {key: [float(v) for v in values]
                    for key, values in history.history.items()},
        "hyperparameters": hyperparameters,
        "train_seconds": round(train_seconds, 2),
        **report,
        "plots": [path.name for path in plot_files],
        "model_file": "model.keras",
    }
    metrics.update(adapted)
    if strategy is not None:
        metrics["distribution"] = distributing.describe(strategy)
    if sampling and sampling["sample"]:
        metrics["sampling"] = {"fanouts": list(sampling["sample"]),
                               "evaluation": sampling["sample_eval"],
                               "parts": sampling["parts"]}
    if lora:
        metrics["lora"].update(adapting.save_lora(net, out))
    card = {"task": task.name, "dataset": data.info, "metrics": scores,
            "hyperparameters": hyperparameters}
    if "vocabulary" in data.extras:  # what --from needs to read new text with the same ids
        card["vocabulary"] = list(data.extras["vocabulary"])
    sha = save_model(net, out / "model.keras", card)
    if sha:
        metrics["model_sha256"] = sha
    if quantize:
        metrics["quantized"] = adapting.quantize_run(net, data, out, quantize, scores, card)
    metrics["wall_seconds"] = round(time.perf_counter() - started, 2)
    write_metrics(out, metrics)
    metrics["out"] = str(out)
    return metrics
