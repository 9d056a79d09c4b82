"""Share models as ``.keras`` files: a model card, a SHA-256, and a hostile-file gate.

``save`` writes a normal Keras archive plus one extra member,
``zoo_card.json`` (what the model is, where and when it was made, and what the
user adds: dataset, metrics, hyperparameters). It writes to a temporary file
in the same folder and renames it into place, so a crash never leaves half a
file, and it never replaces an existing file unless asked to. The SHA-256 of
the finished file is returned and written beside it (``<file>.sha256``).

``load`` treats every file as hostile until proven otherwise. The whole file
is read once into memory and every check runs on those bytes, which are the
bytes Keras then loads (from a private copy), so the file cannot change
between the checks and the load:

1. only a zip archive named ``*.keras`` (HDF5 ``.h5`` files can carry code);
2. the SHA-256, when one is given or stored beside the file;
3. the archive: no absolute or ``..`` member names, no duplicates, only the
   members Keras writes, a bounded member count and bounded sizes;
4. ``config.json``: every class it names is a Keras built-in or a class the
   zoo registered; Lambda layers, ``TFSMLayer``, ``TorchModuleWrapper``,
   JAX/Flax wrappers, functions outside Keras' activations/losses/metrics,
   and vocabularies or other values that are file paths are refused;
5. the weights file: no external links, external storage or virtual
   datasets (they read other files), bounded array sizes;
6. ``keras.saving.load_model(..., safe_mode=True)``.

Any refusal raises ``UnsafeModelError`` (a ``ValueError``) naming the cause.
"""

import datetime
import hashlib
import io
import json
import os
import pathlib
import posixpath
import re
import sys
import tempfile
import uuid
import zipfile

import keras

from zoo import keras_compat
from zoo.jsonable import to_jsonable

CARD_MEMBER = "zoo_card.json"
CARD_FORMAT = "zoo-model-card/1"
KERAS_MEMBERS = ("metadata.json", "config.json", "model.weights.h5")
ASSETS_PREFIX = "assets/"

MAX_FILE_BYTES = 8 << 30  # the whole .keras file
MAX_MEMBERS = 1000
MAX_JSON_BYTES = 64 << 20  # config.json, metadata.json, zoo_card.json
MAX_EXPANSION = 100  # uncompressed / compressed, for members over 1 MiB
MAX_WEIGHT_EXPANSION = 4  # declared array bytes / weights-file bytes (+ 1 MiB)

# Classes that wrap or run foreign code, whatever module they claim to be in.
REFUSED_CLASSES = {
    "Lambda": "Lambda layers carry Python bytecode",
    "__lambda__": "serialized Python lambdas carry bytecode",
    "TFSMLayer": "TFSMLayer loads a TensorFlow SavedModel from a path",
    "TorchModuleWrapper": "TorchModuleWrapper unpickles a torch module",
    "JaxLayer": "JaxLayer wraps arbitrary JAX functions",
    "FlaxLayer": "FlaxLayer wraps arbitrary Flax modules",
}
# Keras' public modules whose classes are plain data or layers.
KERAS_MODULES = {
    "keras", "keras.layers", "keras.initializers", "keras.regularizers",
    "keras.constraints", "keras.losses", "keras.metrics", "keras.optimizers",
    "keras.optimizers.schedules", "keras.dtype_policies", "keras.models",
}
# Plain Keras models (not zoo-built) record their private module.
KERAS_MODEL_CLASSES = keras_compat.KERAS_MODEL_CLASSES
BACKEND_OPTIMIZER_MODULE = re.compile(keras_compat.BACKEND_OPTIMIZER_MODULE_PATTERN)
# Where each zoo class lived in release 0.1 (files saved then name these
# modules). A file may name a class's current module or its 0.1 module; the
# registered name must still resolve to a zoo class either way.
FORMER_MODULES = {
    "zoo>MaskedSparseCrossentropy": "zoo.losses", "zoo>MaskedSparseAccuracy": "zoo.losses",
    "zoo>CorruptionNoise": "zoo.layers.noise", "zoo>GaussianSampling": "zoo.layers.sampling",
    "zoo>ZooModel": "zoo.model", "zoo>VariationalAutoencoder": "zoo.variational",
    "zoo>PaddingMask": "zoo.layers.masking", "zoo>ZeroMasked": "zoo.layers.masking",
    "zoo>MaskedGlobalPooling1D": "zoo.layers.masking",
    "zoo>PositionEmbedding": "zoo.layers.transformer",
    "zoo>TransformerEncoderBlock": "zoo.layers.transformer",
    "zoo>TransformerDecoderBlock": "zoo.layers.transformer",
    "zoo>GCNConv": "zoo.layers.graph", "zoo>GraphSAGEConv": "zoo.layers.graph",
    "zoo>GINConv": "zoo.layers.graph", "zoo>GraphAttention": "zoo.layers.graph",
    "zoo>GraphReadout": "zoo.layers.graph", "zoo>InnerProductDecoder": "zoo.layers.graph",
    "zoo>FlattenBatch": "zoo.layers.graph", "zoo>MergeIndex": "zoo.layers.graph",
    "zoo>SplitBatch": "zoo.layers.graph", "zoo>GraphModel": "zoo.graph",
}
# Functions (class_name "function") are allowed from these modules only.
FUNCTION_MODULES = {"keras.activations", "keras.losses", "keras.metrics"}
# Special value markers Keras writes inside configs; each decodes to data.
VALUE_MARKERS = {"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__",
                 "__ellipsis__", "__slice__"}
# Config keys whose string value would make Keras read or fetch a file.
PATH_KEYS = {"vocabulary", "filepath", "file_path", "path", "origin", "fname",
             "cache_dir", "cache_subdir"}


class UnsafeModelError(ValueError):
    """A ``.keras`` file was refused by ``zoo.load``; the message names the cause."""


# --------------------------------------------------------------------- save

def save(model, path, metadata=None, overwrite=False):
    """Save ``model`` to ``path`` (a ``.keras`` file) with a model card.

    Args:
        model: a Keras model (zoo-built models also record their registry
            name and builder config in the card).
        path: destination, must end in ``.keras``.
        metadata: optional JSON-serialisable dict; the keys ``dataset``,
            ``metrics`` and ``hyperparameters`` go to the card's top level,
            anything else under ``"metadata"``.
        overwrite: replace an existing file (and its ``.sha256``).

    Returns:
        The SHA-256 hex digest of the written file, also written to
        ``<path>.sha256``.

    Example:

    >>> import zoo
    >>> model = zoo.build("dense_autoencoder_toy")
    >>> digest = zoo.save(model, "ae.keras", overwrite=True)
    >>> zoo.load("ae.keras").zoo_name
    'dense_autoencoder_toy'
    """
    path = pathlib.Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"zoo.save writes .keras files only. Received: path={str(path)!r}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None. Received: metadata={metadata!r}")
    sidecar = _sidecar(path)
    if not overwrite:
        for existing in (path, sidecar):
            if existing.exists():
                raise FileExistsError(
                    f"{str(existing)!r} already exists; pass overwrite=True to replace it. "
                    f"Received: path={str(path)!r}, overwrite=False")
    card = model_card(model, metadata)
    card_bytes = json.dumps(card, indent=2, sort_keys=True).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.partial.keras")
    try:
        model.save(temp)
        with zipfile.ZipFile(temp, "a") as archive:
            archive.writestr(CARD_MEMBER, card_bytes)
        digest = _sha256_file(temp)
        _publish(temp, path, overwrite)
    finally:
        temp.unlink(missing_ok=True)
    sidecar_temp = sidecar.with_name(f".{sidecar.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        sidecar_temp.write_text(f"{digest}  {path.name}\n")
        os.replace(sidecar_temp, sidecar)
    finally:
        sidecar_temp.unlink(missing_ok=True)
    return digest


def model_card(model, metadata=None):
    """The card ``save`` stores: identity, provenance and the user's metadata."""
    from zoo import __version__

    metadata = dict(metadata or {})
    try:
        extra = {key: to_jsonable(metadata.pop(key, None))
                 for key in ("dataset", "metrics", "hyperparameters")}
        if metadata:
            extra["metadata"] = to_jsonable(metadata)
    except TypeError as error:
        raise TypeError(f"metadata must be JSON-serialisable ({error}). "
                        f"Received: metadata={metadata!r}") from None
    card = {
        "format": CARD_FORMAT,
        "zoo_name": getattr(model, "zoo_name", None),
        "zoo_config": to_jsonable(getattr(model, "zoo_config", None)),
        "model_class": type(model).__name__,
        "parameters": int(model.count_params()) if model.built else None,
        "zoo_version": __version__,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    card.update(extra)
    return card


def _publish(temp, path, overwrite):
    """Move the finished file into place; without ``overwrite``, never replace."""
    if overwrite:
        os.replace(temp, path)
        return
    try:
        os.link(temp, path)  # atomic, and fails if ``path`` appeared meanwhile
    except FileExistsError:
        raise FileExistsError(f"{str(path)!r} appeared while saving; nothing was replaced. "
                              f"Received: path={str(path)!r}, overwrite=False") from None
    except OSError:  # a file system without hard links
        if path.exists():
            raise FileExistsError(f"{str(path)!r} already exists. "
                                  f"Received: path={str(path)!r}, overwrite=False") from None
        os.replace(temp, path)


# --------------------------------------------------------------------- load

def load(path, sha256=None, compile=True):
    """Load a ``.keras`` file after checking it cannot run code.

    Args:
        path: a ``.keras`` file.
        sha256: expected SHA-256 hex digest. When omitted, ``<path>.sha256``
            is used if it exists.
        compile: passed to ``keras.saving.load_model``.

    Raises:
        UnsafeModelError: the file failed a check (the message says which).
        FileNotFoundError: there is no such file.
    """
    path = pathlib.Path(path)
    data, report = _checked_bytes(path, sha256)
    if report["refused"]:
        raise UnsafeModelError(f"Refused {str(path)!r}: {report['refused']}")
    with tempfile.TemporaryDirectory(prefix="zoo-load-") as private:
        copy = pathlib.Path(private) / "model.keras"
        copy.write_bytes(data)
        try:
            return keras.saving.load_model(copy, compile=compile, safe_mode=True)
        except Exception as error:  # surface Keras' own refusals as ours
            if "safe_mode" in str(error) or "unsafe" in str(error).lower():
                raise UnsafeModelError(f"Refused {str(path)!r}: Keras safe mode: {error}") from error
            raise


def inspect(path, sha256=None):
    """Check ``path`` as ``load`` would, without loading any weights.

    Returns a dict: ``path``, ``sha256`` (of the file), ``hash_check``
    (``"match"``, ``"mismatch"`` or ``"no reference"``), ``card`` (or None),
    ``verdict`` (``"safe to load"`` or ``"refused"``) and ``reason``.
    """
    path = pathlib.Path(path)
    _, report = _checked_bytes(path, sha256)
    return {
        "path": str(path),
        "sha256": report["sha256"],
        "hash_check": report["hash_check"],
        "card": report["card"],
        "verdict": "refused" if report["refused"] else "safe to load",
        "reason": report["refused"],
    }


def read_card(path):
    """The model card of a ``.keras`` file (None if it has none), after the archive checks."""
    report = inspect(path)
    if report["card"] is None and report["reason"]:
        raise UnsafeModelError(f"Refused {str(path)!r}: {report['reason']}")
    return report["card"]


def _checked_bytes(path, sha256):
    """Read ``path`` once and run every check on those bytes."""
    if path.suffix != ".keras":
        hint = (" HDF5 (.h5) models can carry Python bytecode; re-save them as .keras "
                "on a machine you trust." if path.suffix in (".h5", ".hdf5") else "")
        return b"", _report(refused=f"only .keras files are accepted, not {path.suffix or 'no extension'!r}.{hint}")
    size = path.stat().st_size  # FileNotFoundError for a missing file
    if size > MAX_FILE_BYTES:
        return b"", _report(refused=f"file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    report = _report(sha256=digest)
    expected, source = sha256, "the sha256 argument"
    if expected is None and _sidecar(path).exists():
        expected, source = _sidecar(path).read_text().split()[0], str(_sidecar(path))
    if expected is not None:
        report["hash_check"] = "match" if expected.lower() == digest else "mismatch"
        if report["hash_check"] == "mismatch":
            report["refused"] = (f"SHA-256 mismatch: the file hashes to {digest} but "
                                 f"{source} says {expected}; it was changed or corrupted")
            return data, report
    try:
        report["card"] = _check_archive(data)
    except UnsafeModelError as error:
        report["refused"] = str(error)
    return data, report


def _report(sha256=None, refused=None):
    return {"sha256": sha256, "hash_check": "no reference", "card": None, "refused": refused}


def _check_archive(data):
    if not data.startswith(b"PK") or not zipfile.is_zipfile(io.BytesIO(data)):
        kind = "an HDF5 file" if data.startswith(b"\x89HDF") else "not a zip archive"
        raise UnsafeModelError(f"a .keras file is a zip archive; this one is {kind}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as error:
        raise UnsafeModelError(f"damaged zip archive ({error})") from None
    if len(infos) > MAX_MEMBERS:
        raise UnsafeModelError(f"{len(infos)} archive members, over the limit of {MAX_MEMBERS}")
    seen = set()
    for info in infos:
        _check_member(info, seen)
    missing = [name for name in ("config.json", "model.weights.h5") if name not in seen]
    if missing:
        raise UnsafeModelError(f"archive lacks {missing}; it was not written by Keras")
    config = _read_json(archive, "config.json")
    _check_config(config)
    if "metadata.json" in seen:
        _read_json(archive, "metadata.json")
    _check_weights(archive, archive.getinfo("model.weights.h5"))
    return _read_json(archive, CARD_MEMBER) if CARD_MEMBER in seen else None


def _check_member(info, seen):
    name = info.filename
    parts = name.split("/")
    if (name.startswith(("/", "\\")) or "\\" in name or ":" in name or ".." in parts
            or posixpath.isabs(name) or "\x00" in name):
        raise UnsafeModelError(f"archive member {name!r} has an absolute or escaping path")
    if name in seen:
        raise UnsafeModelError(f"archive member {name!r} appears twice")
    seen.add(name)
    if name not in KERAS_MEMBERS + (CARD_MEMBER,) and not name.startswith(ASSETS_PREFIX):
        raise UnsafeModelError(f"unexpected archive member {name!r}; Keras writes only "
                               f"{', '.join(KERAS_MEMBERS)} and assets/")
    if info.file_size > MAX_FILE_BYTES:
        raise UnsafeModelError(f"archive member {name!r} expands to {info.file_size} bytes")
    if name.endswith(".json") and info.file_size > MAX_JSON_BYTES:
        raise UnsafeModelError(f"archive member {name!r} expands to {info.file_size} bytes, "
                               f"over the {MAX_JSON_BYTES}-byte limit for JSON")
    if info.file_size > (1 << 20) and info.file_size > MAX_EXPANSION * max(info.compress_size, 1):
        raise UnsafeModelError(f"archive member {name!r} expands {info.file_size} bytes from "
                               f"{info.compress_size} (a compression bomb)")


def _read_json(archive, name):
    try:
        return json.loads(archive.read(name))
    except (ValueError, zipfile.BadZipFile) as error:
        raise UnsafeModelError(f"{name} is not valid JSON ({error})") from None


def _check_config(config, where="config.json"):
    """Walk the whole config in document order; refuse any class or value that could run code."""
    stack = [(config, where)]
    while stack:
        node, trail = stack.pop()
        children = []
        if isinstance(node, list):
            children = [(item, f"{trail}[{i}]") for i, item in enumerate(node)]
        elif isinstance(node, dict):
            if "class_name" in node:
                _check_class(node, trail)
                trail = f"{trail}/{node.get('class_name')}"
            for key, value in node.items():
                if key in PATH_KEYS and isinstance(value, str):
                    raise UnsafeModelError(f"{trail}: {key}={value!r} is a file path or URL; "
                                           "files referenced from a config are refused")
                children.append((value, f"{trail}/{key}"))
        stack.extend(reversed(children))


def _check_class(node, trail):
    class_name = node.get("class_name")
    module = node.get("module")
    registered = node.get("registered_name")
    if not isinstance(class_name, str):
        raise UnsafeModelError(f"{trail}: class_name must be a string, got {class_name!r}")
    if class_name in REFUSED_CLASSES:
        raise UnsafeModelError(f"{trail}: {class_name} refused ({REFUSED_CLASSES[class_name]})")
    if class_name in VALUE_MARKERS and module is None:
        return
    if class_name == "function":
        name = node.get("config")
        if module in FUNCTION_MODULES and callable(getattr(sys.modules.get(module), str(name), None)):
            return
        raise UnsafeModelError(f"{trail}: function {module}.{name} refused; only functions "
                               f"from {', '.join(sorted(FUNCTION_MODULES))} are allowed")
    if isinstance(registered, str) and ">" in registered:
        if registered.startswith("zoo>") and _zoo_class(registered, module):
            return
        raise UnsafeModelError(f"{trail}: custom class {registered!r} (module {module!r}) "
                               "is not registered by the zoo")
    if (module, class_name) in KERAS_MODEL_CLASSES:
        return
    if module in KERAS_MODULES or (isinstance(module, str)
                                   and module.startswith(keras_compat.OPS_MODULE_PREFIX)):
        found = getattr(sys.modules.get(module), class_name, None)
        if isinstance(found, type) and (module in KERAS_MODULES
                                           or keras_compat.is_keras_operation_class(found)):
            return
    if isinstance(module, str) and BACKEND_OPTIMIZER_MODULE.fullmatch(module):
        # The torch backend records its optimizers' private module; Keras
        # resolves them by class name among the public optimizers.
        found = getattr(keras.optimizers, class_name, None)
        if isinstance(found, type) and issubclass(found, keras.optimizers.Optimizer):
            return
    raise UnsafeModelError(f"{trail}: class {class_name!r} from module {module!r} is neither a "
                           "Keras built-in nor registered by the zoo")


def _zoo_class(registered, module):
    found = keras.saving.get_registered_object(registered)
    return (isinstance(found, type) and found.__module__.split(".")[0] == "zoo"
            and module in (found.__module__, FORMER_MODULES.get(registered)))


def _check_weights(archive, info):
    """Refuse HDF5 features that read other files, and arrays that would not fit."""
    import h5py

    with archive.open(info) as raw:
        blob = raw.read()
    try:
        weights = h5py.File(io.BytesIO(blob), "r")
    except OSError as error:
        raise UnsafeModelError(f"model.weights.h5 is not a readable HDF5 file ({error})") from None
    limit = MAX_WEIGHT_EXPANSION * len(blob) + (1 << 20)
    total = 0
    with weights:
        stack = [(weights, "")]
        while stack:
            group, prefix = stack.pop()
            for key in group.keys():
                name = f"{prefix}/{key}"
                link = group.get(key, getlink=True)
                if isinstance(link, (h5py.ExternalLink, h5py.SoftLink)):
                    raise UnsafeModelError(f"model.weights.h5 {name} is a {type(link).__name__}; "
                                           "links to other files or paths are refused")
                item = group[key]
                if isinstance(item, h5py.Group):
                    stack.append((item, name))
                    continue
                if item.external or item.is_virtual:
                    raise UnsafeModelError(f"model.weights.h5 {name} stores its data in other "
                                           "files (external or virtual dataset)")
                total += item.size * item.dtype.itemsize
                if total > limit:
                    raise UnsafeModelError(
                        f"model.weights.h5 declares {total}+ bytes of arrays in a "
                        f"{len(blob)}-byte file (a decompression bomb)")


# --------------------------------------------------------------------- helpers

def _sidecar(path):
    return path.with_name(path.name + ".sha256")


def _sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def format_inspection(report):
    """``inspect``'s report as the text ``zoo inspect`` prints."""
    card = report["card"] or {}
    lines = [f"file:      {report['path']}",
             f"sha256:    {report['sha256']}  ({report['hash_check']})",
             f"verdict:   {report['verdict']}" + (f": {report['reason']}" if report["reason"] else "")]
    if card:
        lines.append("model card:")
        for key in ("zoo_name", "model_class", "parameters", "backend", "keras_version",
                    "zoo_version", "created", "dataset", "metrics", "hyperparameters",
                    "zoo_config", "metadata"):
            if card.get(key) is not None:
                value = card[key]
                text = json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value
                lines.append(f"  {key + ':':17s}{text}")
    elif not report["reason"]:
        lines.append("model card: none (not saved with zoo.save)")
    return "\n".join(lines)
