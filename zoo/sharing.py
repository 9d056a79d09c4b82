"""Share models as ``.keras`` files: a model card, a SHA-256, and a hostile-file gate.

``save`` writes a normal Keras archive plus one extra member,
``zoo_card.json`` (what the model is, where and when it was made, and what the
user adds: dataset, metrics, hyperparameters). The SHA-256 of the finished
file is returned and written beside it (``<file>.sha256``). It never replaces
an existing file unless asked to, and it orders its steps so that an
interruption at any point (Ctrl-C, a full disk, ``kill -9``) leaves either
the old or the new file in place, loadable:

1. the model is written to a temporary file beside the target, named with
   the process id (``.<name>.<pid>.<token>.partial.keras``);
2. with ``overwrite=True``, the old ``.sha256`` is removed (the old model
   stays loadable, unverified);
3. the temporary file is renamed over the target (atomic);
4. the new ``.sha256`` is written (atomic).

A temporary file whose process died (``kill -9``) is removed by the next
save to the same target.

``load`` treats every file as hostile until proven otherwise. The file is
read once into memory and every check runs on those bytes, which are the
bytes Keras then loads (from memory), so the file cannot change between the
checks and the load:

1. only a regular file named ``*.keras`` that starts as a zip archive does
   (HDF5 ``.h5`` files can carry code; a FIFO, a device or a directory is
   refused before anything is read), at most ``MAX_FILE_BYTES``;
2. the SHA-256, when one is given or stored beside the file;
3. the archive: no absolute or ``..`` member names, no duplicates, only the
   members Keras writes, a bounded member count and bounded sizes, stored or
   deflated members only, every member readable with a matching CRC;
4. ``config.json``: bounded nesting; every class it names is a Keras
   built-in or a class the zoo registered; Lambda layers, ``TFSMLayer``,
   ``TorchModuleWrapper``, JAX/Flax wrappers, functions outside Keras'
   activations/losses/metrics, and vocabularies or other values that are
   file paths are refused;
5. the weights file: no links, external storage or virtual datasets (they
   read other files), numbers only, bounded array sizes;
6. Keras builds the model from the checked config in safe mode under a
   parameter budget (``zoo.budget``): a file that declares more parameters
   than ``max_parameters`` is refused before any of them is allocated; then
   the checked weights are loaded.

Any refusal, and any failure of Keras on a file that passed the checks,
raises ``UnsafeModelError`` (a ``ValueError``) naming the cause; text taken
from the file is escaped (``zoo.untrusted.printable``) so it cannot control
the terminal. ``inspect`` runs the same steps and discards the model, so it
says "safe to load" exactly when ``load`` would load the file.
"""

import contextlib
import dataclasses
import datetime
import hashlib
import io
import json
import os
import pathlib
import posixpath
import re
import stat
import sys
import uuid
import warnings
import zipfile

import keras

from zoo import budget, files, keras_compat
from zoo.jsonable import to_jsonable
from zoo.quantize import CARD_KEY, quantization_record, restore_quantization
from zoo.untrusted import printable, quoted

CARD_MEMBER = "zoo_card.json"
CARD_FORMAT = "zoo-model-card/1"
KERAS_MEMBERS = ("metadata.json", "config.json", "model.weights.h5")
ASSETS_PREFIX = "assets/"

MAX_FILE_BYTES = 8 << 30  # the whole .keras file
MAX_SIDECAR_BYTES = 4096  # the .sha256 file beside it
MAX_MEMBERS = 1000
MAX_JSON_BYTES = 64 << 20  # config.json, metadata.json, zoo_card.json
MAX_JSON_DEPTH = 64  # nesting of those (the zoo's own configs nest about 11 deep)
MAX_EXPANSION = 100  # uncompressed / compressed, for members over 1 MiB
MAX_WEIGHT_EXPANSION = 4  # declared array bytes / weights-file bytes (+ 1 MiB)
MAX_WEIGHT_OBJECTS = 100_000  # groups and datasets in the weights file

# A zip archive starts with a local file header (or, empty, its end record).
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# Keras writes members stored; deflated ones are read too. Nothing else.
COMPRESSION_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
# HDF5 element kinds a weight may have: bool, signed, unsigned, float, and
# opaque 1-8 byte numbers (bfloat16, float8, as Keras stores them).
WEIGHT_KINDS = "biuf"
SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")

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
# Quantized layers (``zoo.quantize``) record their quantization config and
# quantizer; only these plain-data classes of ``keras.quantizers`` are allowed
# (GPTQ/AWQ configs carry a calibration dataset and tokenizer: refused).
QUANTIZER_CLASSES = {"Int8QuantizationConfig", "Int4QuantizationConfig",
                     "Float8QuantizationConfig", "AbsMaxQuantizer"}
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
        overwrite: replace an existing file (and its ``.sha256``). An
            interruption at any point leaves the old file or the new one,
            loadable (see the module's notes).

    Returns:
        The SHA-256 hex digest of the written file, also written to
        ``<path>.sha256``.

    Raises:
        FileExistsError: ``path`` or its ``.sha256`` exists and
            ``overwrite`` is False.
        IsADirectoryError / PermissionError: ``path`` cannot be written
            (checked before any work).

    Example:

    >>> import zoo
    >>> model = zoo.build("dense_autoencoder_toy")
    >>> digest = zoo.save(model, "ae.keras", overwrite=True)
    >>> zoo.load("ae.keras").zoo_name
    'dense_autoencoder_toy'
    """
    path = pathlib.Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"zoo.save writes .keras files only. Received: path={quoted(path)}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None. Received: metadata={metadata!r}")
    sidecar = _sidecar(path)
    files.check_new_file(path, overwrite=True, what="model file")
    if not overwrite:
        for existing in (path, sidecar):
            if os.path.lexists(existing):
                raise FileExistsError(
                    f"{quoted(existing)} already exists; pass overwrite=True to replace it. "
                    f"Received: path={quoted(path)}, overwrite=False")
    card = model_card(model, metadata)
    card_bytes = json.dumps(card, indent=2, sort_keys=True).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial.keras")
    try:
        model.save(temp)
        with zipfile.ZipFile(temp, "a") as archive:
            archive.writestr(CARD_MEMBER, card_bytes)
        _fsync(temp)
        digest = _sha256_file(temp)
        if overwrite:
            # From here until the new hash is written the file has no hash
            # beside it: never a hash that does not match the file.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(sidecar)
        files.publish(temp, path, overwrite)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    files.write_new_text(sidecar, f"{digest}  {path.name}\n", overwrite=overwrite)
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
    record = quantization_record(model) if model.built else None
    if record:  # layers zoo.load must quantize again before loading their weights
        card[CARD_KEY] = record
    card.update(extra)
    return card


_PARTIAL = re.compile(r"\.(?P<target>.+)\.(?P<pid>[0-9]+)\.[0-9a-f]{8}\.partial(?:\.keras)?")


def _remove_stale_partials(path):
    """Remove the temporary files of earlier saves to ``path`` (and its
    ``.sha256``) whose process no longer runs: what a ``kill -9`` left."""
    if os.name != "posix":  # os.kill(pid, 0) probes only on POSIX
        return
    targets = {path.name, _sidecar(path).name}
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        match = _PARTIAL.fullmatch(entry.name)
        if not match or match["target"] not in targets or _process_alive(int(match["pid"])):
            continue
        with contextlib.suppress(OSError):
            if stat.S_ISREG(entry.lstat().st_mode):
                entry.unlink()


def _process_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, ValueError):  # not a pid this system can have
        return False
    except OSError:  # PermissionError: alive, another user's; otherwise keep it too
        return True
    return True


def _fsync(path):
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


# --------------------------------------------------------------------- load

def load(path, sha256=None, compile=True, max_parameters=None):
    """Load a ``.keras`` file after checking it cannot run code.

    Args:
        path: a ``.keras`` file.
        sha256: expected SHA-256 hex digest (64 hex digits). When omitted,
            ``<path>.sha256`` is used if it exists.
        compile: compile the model as it was saved (optimizer, losses).
        max_parameters: the most parameters the file may declare (default
            ``zoo.budget.MAX_PARAMETERS``, 10**9); checked before any is
            allocated.

    Returns:
        The ``keras.Model``. A model whose ``jit_compile`` was ``"auto"``
        (a zoo model's ``jit_compile`` parameter, or a plain model whose
        card's ``hyperparameters`` do not say True or False) has it resolved
        again on this backend, not as the saving backend resolved it.

    Raises:
        UnsafeModelError: the file failed a check, or Keras could not load
            it (the message says why; the Keras error is its ``__cause__``).
        ValueError: ``sha256`` is not 64 hex digits, or ``max_parameters``
            is not a positive integer.
        FileNotFoundError: there is no such file.
    """
    path = pathlib.Path(path)
    model, report, cause = _load_checked(path, sha256, compile, max_parameters)
    if report["refused"]:
        raise UnsafeModelError(f"Refused {quoted(path)}: {report['refused']}") from cause
    return model


def inspect(path, sha256=None, max_parameters=None):
    """Check ``path`` exactly as ``load`` would: its verdict is ``load``'s outcome.

    Every check ``load`` runs is run, and the model is built and its weights
    loaded in memory, then discarded (this takes the time and memory of a
    load). Arguments as for ``load`` (the model is compiled, as ``load``'s
    default ``compile=True`` does).

    Returns a dict: ``path``, ``sha256`` (of the file, None if it was refused
    before being read), ``hash_check`` (``"match"``, ``"mismatch"`` or
    ``"no reference"``), ``card`` (or None), ``verdict`` (``"safe to load"``
    or ``"refused"``) and ``reason`` (None, or why it was refused; text from
    the file in it is escaped). ``format_inspection`` prints it.

    Raises:
        ValueError: ``sha256`` or ``max_parameters`` is malformed (as ``load``).
        FileNotFoundError: there is no such file.
    """
    path = pathlib.Path(path)
    model, report, _ = _load_checked(path, sha256, True, max_parameters)
    del model
    return _inspection(path, report)


def read_card(path):
    """The model card of a ``.keras`` file (None if it has none), after the
    file and archive checks (the model is not built).

    Raises:
        UnsafeModelError: the file failed a check.
        FileNotFoundError: there is no such file.
    """
    path = pathlib.Path(path)
    report, _ = _checked_contents(path, None)
    if report["refused"]:
        raise UnsafeModelError(f"Refused {quoted(path)}: {report['refused']}")
    return report["card"]


def _inspection(path, report):
    return {
        "path": str(path),
        "sha256": report["sha256"],
        "hash_check": report["hash_check"],
        "card": report["card"],
        "verdict": "refused" if report["refused"] else "safe to load",
        "reason": report["refused"],
    }


@dataclasses.dataclass
class _Contents:
    """What the checks read from a file, for Keras to load."""

    archive: zipfile.ZipFile
    config: dict
    weights: bytes
    card: dict | None


def _load_checked(path, sha256, compile, max_parameters):
    """Every check, then Keras' load: ``(model or None, report, cause)``.

    ``load`` and ``inspect`` both run this, so inspect's verdict is load's
    outcome. ``cause`` is the exception behind a refusal that Keras raised.
    """
    budget.check_max_parameters(max_parameters)
    report, contents = _checked_contents(path, sha256)
    if report["refused"]:
        return None, report, None
    try:
        model = _build(path, contents, compile, max_parameters)
    except UnsafeModelError as error:
        report["refused"] = str(error)
        return None, report, error.__cause__
    finally:
        contents.archive.close()
    return model, report, None


def _checked_contents(path, sha256):
    """Read ``path`` once and run every check on those bytes: ``(report, contents)``."""
    expected = _sha256_argument(sha256)
    report = _report()
    try:
        data = _read_model_file(path)
        report["sha256"] = digest = hashlib.sha256(data).hexdigest()
        source = "the sha256 argument"
        if expected is None:
            expected, source = _sidecar_digest(path), quoted(_sidecar(path))
        if expected is not None:
            report["hash_check"] = "match" if expected == digest else "mismatch"
            if report["hash_check"] == "mismatch":
                raise UnsafeModelError(f"SHA-256 mismatch: the file hashes to {digest} but "
                                       f"{source} says {expected}; it was changed or corrupted")
        contents = _check_archive(data)
    except UnsafeModelError as error:
        report["refused"] = str(error)
        return report, None
    report["card"] = contents.card
    return report, contents


def _report():
    return {"sha256": None, "hash_check": "no reference", "card": None, "refused": None}


def _sha256_argument(sha256):
    if sha256 is None:
        return None
    if not isinstance(sha256, str) or not SHA256_HEX.fullmatch(sha256.strip()):
        shown = (quoted(sha256) if isinstance(sha256, str)
                 else f"{type(sha256).__name__} {quoted(sha256)}")
        raise ValueError("`sha256` must be a SHA-256 hex digest (64 hexadecimal digits). "
                         f"Received: sha256={shown}")
    return sha256.strip().lower()


def _read_model_file(path):
    """The file's bytes: a regular ``.keras`` file, at most ``MAX_FILE_BYTES``,
    that starts as a zip archive (judged on its first bytes, before the rest
    is read)."""
    if path.suffix != ".keras":
        hint = (" HDF5 (.h5) models can carry Python bytecode; re-save them as .keras "
                "on a machine you trust." if path.suffix in (".h5", ".hdf5") else "")
        raise UnsafeModelError(f"only .keras files are accepted, not "
                               f"{quoted(path.suffix or 'no extension')}.{hint}")
    _check_magic(_head(path))
    try:
        data = files.read_regular_file(path, MAX_FILE_BYTES)
    except FileNotFoundError:
        raise
    except ValueError as error:  # not a regular file, or over the limit
        raise UnsafeModelError(str(error)) from None
    _check_magic(data[:len(ZIP_MAGIC[0])])  # the file may have changed since
    return data


def _head(path, size=8):
    """The first bytes of ``path``, or None if it is not a regular file one
    can open (``read_regular_file`` then says why). Never blocks: a FIFO is
    opened without waiting for a writer."""
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
             | getattr(os, "O_BINARY", 0))
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, size)
    except OSError:
        return None
    finally:
        os.close(fd)


def _check_magic(head):
    if head is None or head.startswith(ZIP_MAGIC):
        return
    kind = "an HDF5 file" if head.startswith(b"\x89HDF") else (
        "empty" if not head else f"not a zip archive (it starts with '{_ascii(head[:8])}')")
    raise UnsafeModelError(f"a .keras file is a zip archive; this one is {kind}")


def _sidecar_digest(path):
    """The digest in ``<path>.sha256``, None if there is no such file."""
    sidecar = _sidecar(path)
    if not os.path.lexists(sidecar):
        return None
    name = quoted(sidecar)
    try:
        raw = files.read_regular_file(sidecar, MAX_SIDECAR_BYTES)
    except FileNotFoundError:
        if not os.path.islink(sidecar):
            return None  # removed meanwhile
        raise UnsafeModelError(f"the hash file {name} is a link to nothing") from None
    except ValueError as error:  # a directory, FIFO, device; or too long
        raise UnsafeModelError(f"the hash file {name} cannot be used: {error}") from None
    except OSError as error:
        raise UnsafeModelError(f"the hash file {name} cannot be read: "
                               f"{_describe(error)}") from None
    fields = raw.split()
    if not fields:
        raise UnsafeModelError(f"the hash file {name} is empty; remove it or pass sha256=")
    if not SHA256_HEX.fullmatch(fields[0].decode("latin-1")):
        raise UnsafeModelError(f"the hash file {name} does not start with a SHA-256 hex digest "
                               f"(64 hexadecimal digits). Received: '{_ascii(fields[0][:80])}'")
    return fields[0].decode("ascii").lower()


# ------------------------------------------------------------ the archive

def _check_archive(data):
    """Every check of the archive; returns what Keras will load."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception as error:  # BadZipFile, ValueError, OSError, ...
        raise UnsafeModelError(f"damaged zip archive ({_describe(error)})") from None
    if len(infos) > MAX_MEMBERS:
        raise UnsafeModelError(f"{len(infos)} archive members, over the limit of {MAX_MEMBERS}")
    seen = set()
    for info in infos:
        _check_member(info, seen)
    missing = [name for name in ("config.json", "model.weights.h5") if name not in seen]
    if missing:
        raise UnsafeModelError(f"archive lacks {', '.join(missing)}; it was not written by Keras")
    # Read every member once, in full: a damaged one (bad CRC, a broken
    # deflate stream) is refused here, not half-way through Keras' load.
    members = {}
    for info in infos:
        members[info.filename] = _read_member(archive, info)
    config = _parse_json(members["config.json"], "config.json")
    if not isinstance(config, dict):
        raise UnsafeModelError(f"config.json holds a JSON {type(config).__name__}, not an object")
    _check_config(config)
    if "metadata.json" in members:
        _parse_json(members["metadata.json"], "metadata.json")
    weights = members["model.weights.h5"]
    _check_weights(weights)
    card = None
    if CARD_MEMBER in members:
        card = _parse_json(members[CARD_MEMBER], CARD_MEMBER)
        if not isinstance(card, dict):
            raise UnsafeModelError(f"{CARD_MEMBER} holds a JSON {type(card).__name__}, "
                                   "not an object")
    return _Contents(archive=archive, config=config, weights=weights, card=card)


def _check_member(info, seen):
    name = info.filename
    shown = quoted(name)
    parts = name.split("/")
    if (name.startswith(("/", "\\")) or "\\" in name or ":" in name or ".." in parts
            or posixpath.isabs(name) or "\x00" in name):
        raise UnsafeModelError(f"archive member {shown} has an absolute or escaping path")
    if name in seen:
        raise UnsafeModelError(f"archive member {shown} appears twice")
    seen.add(name)
    if name not in KERAS_MEMBERS + (CARD_MEMBER,) and not name.startswith(ASSETS_PREFIX):
        raise UnsafeModelError(f"unexpected archive member {shown}; Keras writes only "
                               f"{', '.join(KERAS_MEMBERS)} and assets/")
    if info.flag_bits & 0x1:
        raise UnsafeModelError(f"archive member {shown} is encrypted")
    if info.compress_type not in COMPRESSION_METHODS:
        raise UnsafeModelError(
            f"archive member {shown} is compressed with zip method {info.compress_type}; "
            f"only {' or '.join(COMPRESSION_METHODS.values())} members are read")
    if info.file_size > MAX_FILE_BYTES:
        raise UnsafeModelError(f"archive member {shown} expands to {info.file_size} bytes")
    if name.endswith(".json") and info.file_size > MAX_JSON_BYTES:
        raise UnsafeModelError(f"archive member {shown} expands to {info.file_size} bytes, "
                               f"over the {MAX_JSON_BYTES}-byte limit for JSON")
    if info.file_size > (1 << 20) and info.file_size > MAX_EXPANSION * max(info.compress_size, 1):
        raise UnsafeModelError(f"archive member {shown} expands {info.file_size} bytes from "
                               f"{info.compress_size} (a compression bomb)")


def _read_member(archive, info):
    """A member's bytes, its CRC checked (assets are checked, not kept)."""
    try:
        with archive.open(info) as handle:
            if not info.filename.startswith(ASSETS_PREFIX):
                return handle.read()
            while handle.read(1 << 20):
                pass
            return b""
    except Exception as error:  # BadZipFile (CRC), zlib.error, EOFError, ...
        raise UnsafeModelError(f"archive member {quoted(info.filename)} is damaged "
                               f"({_describe(error)})") from None


def _parse_json(raw, name):
    try:
        value = json.loads(raw)
    except RecursionError:
        raise UnsafeModelError(f"{name} nests too deeply to be read (over "
                               f"{MAX_JSON_DEPTH} levels is refused)") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, huge ints
        raise UnsafeModelError(f"{name} is not valid JSON ({_describe(error)})") from None
    depth = _depth(value)
    if depth > MAX_JSON_DEPTH:
        raise UnsafeModelError(f"{name} nests {depth} levels deep, over the limit of "
                               f"{MAX_JSON_DEPTH}")
    return value


def _depth(value):
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in node)
    return deepest


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
                trail = f"{trail}/{printable(node.get('class_name'), 60)}"
            for key, value in node.items():
                if key in PATH_KEYS and isinstance(value, str):
                    raise UnsafeModelError(f"{trail}: {key}={quoted(value)} is a file path or URL; "
                                           "files referenced from a config are refused")
                children.append((value, f"{trail}/{printable(key, 60)}"))
        stack.extend(reversed(children))


def _check_class(node, trail):
    class_name = node.get("class_name")
    module = node.get("module")
    registered = node.get("registered_name")
    if not isinstance(class_name, str):
        raise UnsafeModelError(f"{trail}: class_name must be a string. "
                               f"Received: {quoted(repr(class_name))}")
    for field, value in (("module", module), ("registered_name", registered)):
        if value is not None and not isinstance(value, str):
            raise UnsafeModelError(f"{trail}: {field} must be a string or null. "
                                   f"Received: {quoted(repr(value))}")
    if class_name in REFUSED_CLASSES:
        raise UnsafeModelError(f"{trail}: {class_name} refused ({REFUSED_CLASSES[class_name]})")
    if class_name in VALUE_MARKERS and module is None:
        return
    if class_name.startswith("_"):
        raise UnsafeModelError(f"{trail}: class {quoted(class_name)} names a private Python "
                               "attribute, not a Keras class")
    if class_name == "function":
        name = node.get("config")
        if module in FUNCTION_MODULES and isinstance(name, str) and callable(
                getattr(sys.modules.get(module), name, None)):
            return
        raise UnsafeModelError(f"{trail}: function {printable(module)}.{printable(name)} refused; "
                               f"only functions from {', '.join(sorted(FUNCTION_MODULES))} "
                               "are allowed")
    if isinstance(registered, str) and ">" in registered:
        if registered.startswith("zoo>") and _zoo_class(registered, module):
            return
        raise UnsafeModelError(f"{trail}: custom class {quoted(registered)} (module "
                               f"{quoted(module)}) is not registered by the zoo")
    if (module, class_name) in KERAS_MODEL_CLASSES:
        return
    if module == "keras.quantizers" and class_name in QUANTIZER_CLASSES:
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
    raise UnsafeModelError(f"{trail}: class {quoted(class_name)} from module {quoted(module)} "
                           "is neither a Keras built-in nor registered by the zoo")


def _zoo_class(registered, module):
    found = keras.saving.get_registered_object(registered)
    return (isinstance(found, type) and found.__module__.split(".")[0] == "zoo"
            and module in (found.__module__, FORMER_MODULES.get(registered)))


def _check_weights(blob):
    """Refuse HDF5 features that read other files, values that are not
    numbers, and arrays that would not fit; any HDF5 error refuses too."""
    try:
        _walk_weights(blob)
    except UnsafeModelError:
        raise
    except Exception as error:  # OSError, KeyError, RuntimeError, ... from h5py
        raise UnsafeModelError(f"model.weights.h5 cannot be read as HDF5 weights "
                               f"({_describe(error)})") from None


def _walk_weights(blob):
    import h5py

    limit = MAX_WEIGHT_EXPANSION * len(blob) + (1 << 20)
    total, objects = 0, 0
    with h5py.File(io.BytesIO(blob), "r") as weights:
        stack, seen = [(weights, "")], set()
        while stack:
            group, prefix = stack.pop()
            for key in group.keys():
                name = f"{prefix}/{key}"
                shown = quoted(name)
                link = group.get(key, getlink=True)
                if not isinstance(link, h5py.HardLink):
                    raise UnsafeModelError(f"model.weights.h5 {shown} is a {type(link).__name__}; "
                                           "links to other files or paths are refused")
                item = group[key]
                address = (item.id.fileno, h5py.h5o.get_info(item.id).addr)
                if address in seen:  # a second hard link to one object (or a cycle)
                    continue
                seen.add(address)
                objects += 1
                if objects > MAX_WEIGHT_OBJECTS:
                    raise UnsafeModelError(f"model.weights.h5 holds over {MAX_WEIGHT_OBJECTS} "
                                           "groups and datasets")
                if isinstance(item, h5py.Group):
                    stack.append((item, name))
                    continue
                if not isinstance(item, h5py.Dataset):
                    raise UnsafeModelError(f"model.weights.h5 {shown} is a "
                                           f"{type(item).__name__}, not an array")
                if item.external or item.is_virtual:
                    raise UnsafeModelError(f"model.weights.h5 {shown} stores its data in other "
                                           "files (external or virtual dataset)")
                dtype = item.dtype
                opaque_number = (dtype.kind == "V" and dtype.names is None
                                 and dtype.subdtype is None and dtype.itemsize <= 8)
                if dtype.kind not in WEIGHT_KINDS and not opaque_number:
                    raise UnsafeModelError(f"model.weights.h5 {shown} holds {quoted(dtype)} "
                                           "values; weights are numbers")
                total += item.size * dtype.itemsize
                if total > limit:
                    raise UnsafeModelError(
                        f"model.weights.h5 declares {total}+ bytes of arrays in a "
                        f"{len(blob)}-byte file (a decompression bomb)")


# ------------------------------------------------------------ Keras' load

def _build(path, contents, compile, max_parameters):
    """Keras builds the model from the checked config under the parameter
    budget, compiles it and loads the checked weights; every failure is an
    ``UnsafeModelError`` whose ``__cause__`` is Keras' error."""
    config = contents.config
    compile_config = config.get("compile_config") if compile else None
    _drop_compile_configs(config)
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = _keras_load(path, contents, compile_config, max_parameters)
    finally:
        _rewarn(caught)
    return model


def _keras_load(path, contents, compile_config, max_parameters):
    try:
        try:
            with budget.within_budget(quoted(path), max_parameters):
                model = keras_compat.model_from_config(contents.config)
        except budget.ParameterBudgetError as error:
            raise UnsafeModelError(_plain(error, 1000)) from error
        if not isinstance(model, keras.Model):
            raise UnsafeModelError(f"config.json describes a "
                                   f"{quoted(type(model).__name__)}, not a model")
        restore_quantization(model, (contents.card or {}).get(CARD_KEY))
        if compile_config:
            keras_compat.compile_from_config(model, compile_config)
        keras_compat.load_saved_state(model, contents.archive, contents.weights)
        _restore_jit_compile(model, contents.card)
    except UnsafeModelError:
        raise
    except Exception as error:  # TypeError, ValueError, RecursionError, ... from Keras
        raise UnsafeModelError(f"it passed the checks but Keras could not load it: "
                               f"{_describe(error)}") from error
    return model


def _drop_compile_configs(config):
    """Remove every ``compile_config`` (the top one is applied after the
    budget; nested models load uncompiled: an optimizer cannot be created
    while variables are deferred)."""
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "class_name" in node:
                node.pop("compile_config", None)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _rewarn(caught):
    """Warnings Keras gave while loading, re-issued with the file's text escaped."""
    for record in caught:
        category = record.category if issubclass(record.category, Warning) else UserWarning
        warnings.warn(printable(record.message, limit=1000), category, stacklevel=5)


def _restore_jit_compile(model, card):
    """Resolve ``jit_compile`` again on this backend when it was ``"auto"``.

    A compiled model records what ``"auto"`` meant where it was saved (True
    on JAX); loaded under torch that would turn on ``torch.compile``. A zoo
    model's own ``jit_compile`` parameter says what was asked for; a plain
    model's card may say it in ``hyperparameters``; otherwise ``"auto"``.
    """
    if not getattr(model, "compiled", False) or getattr(model, "run_eagerly", False):
        return
    from zoo import registry

    try:
        wanted = registry.model_params(model).get("jit_compile", "auto")
    except ValueError:  # not a zoo model
        hyperparameters = (card or {}).get("hyperparameters")
        wanted = (hyperparameters.get("jit_compile", "auto")
                  if isinstance(hyperparameters, dict) else "auto")
    if not isinstance(wanted, bool):
        wanted = keras_compat.resolve_auto_jit_compile(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "doesn't support jit_compile=True": it says False
        model.jit_compile = wanted


# --------------------------------------------------------------------- helpers

def _describe(error):
    """An exception as one escaped line: its type and (bounded) message.

    Keras' messages put the cause after a dump of the whole config
    (``config={...}``, ``Full object config``); the dumps are left out and
    each other paragraph is kept, bounded, so the cause is seen.
    """
    paragraphs = [part.strip() for part in str(error).split("\n\n") if part.strip()]
    kept = [printable(part, 240) for i, part in enumerate(paragraphs)
            if not part.startswith(("config=", "Full object config"))
            and not (i and "could not be deserialized properly" in part)]
    text = " | ".join(kept) if kept else printable(error)
    if len(text) > 1000:
        text = text[:1000] + "..."
    return f"{type(error).__name__}: {text}"


def _ascii(data):
    """Bytes from a file as printable ASCII, other bytes as ``\\xNN``."""
    return "".join(chr(byte) if 32 <= byte < 127 and byte != 92 else f"\\x{byte:02x}"
                   for byte in data)


def _sidecar(path):
    return path.with_name(path.name + ".sha256")


def _sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _plain(text, limit=None):
    """Our own message (its untrusted parts already escaped) made safe to
    print anyway: control characters escaped, backslashes kept."""
    return printable(text, limit).replace("\\\\", "\\")


def format_inspection(report):
    """``inspect``'s report as the text ``zoo inspect`` prints.

    Every value is escaped (``zoo.untrusted.printable``): a file name, a
    refusal reason or a card field cannot move the cursor, erase a line,
    set the terminal's title or forge a verdict.
    """
    card = report.get("card") or {}
    reason = report.get("reason")
    verdict = _plain(report.get("verdict"), 40)
    lines = [f"file:      {printable(report.get('path'), limit=1000)}",
             f"sha256:    {_plain(report.get('sha256'), 80)}  "
             f"({_plain(report.get('hash_check'), 40)})",
             f"verdict:   {verdict}" + (f": {_plain(reason, 2000)}" if reason else "")]
    if isinstance(card, dict) and card:
        lines.append("model card:")
        for key in ("zoo_name", "model_class", "parameters", "backend", "keras_version",
                    "zoo_version", "created", "dataset", "metrics", "hyperparameters",
                    "zoo_config", "metadata"):
            if card.get(key) is not None:
                value = card[key]
                if isinstance(value, (dict, list)):
                    text = _plain(json.dumps(value, sort_keys=True, default=str), 2000)
                else:
                    text = printable(value, limit=300)
                lines.append(f"  {key + ':':17s}{text}")
    elif not reason:
        lines.append("model card: none (not saved with zoo.save)")
    return "\n".join(lines)
