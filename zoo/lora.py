"""Low-rank adaptation (LoRA): fine-tune a few small matrices instead of the model.

``enable_lora(model, rank)`` calls Keras' ``layer.enable_lora(rank)`` on the
model's ``Dense``, ``EinsumDense``, ``Embedding`` and ``Conv1D/2D/3D``
layers (those inside the zoo's blocks too): each kernel ``W`` is frozen and
the layer computes with ``W + alpha / rank * A @ B``, where only ``A`` and
``B`` train (``B`` starts at zero, so the model starts unchanged). Every
other weight of the model (biases, normalisation, recurrent cells, position
tables) is frozen too, except in the layers named by ``train=`` (a
classification head, say), which train fully and get no adapter.

``save_adapters`` writes only what trained (the ``A``/``B`` matrices and the
``train=`` layers' weights) to a small ``.npz`` file with a fingerprint of
the base model: a SHA-256 over the frozen weights' bytes and the model's
identity (class, registry name and parameters). ``load_adapters`` puts them
on a fresh copy of the same base (``zoo.load`` of the base file, or the
same weights) and refuses any other base. ``merge_lora`` folds the adapters
into the kernels (``W += alpha / rank * A @ B``, as Keras computes it) and
removes them: the model is a plain model again, as fast as the base.

A LoRA model (merged or not) saves with ``zoo.save`` and loads with
``zoo.load`` with the same outputs: Keras saves an adapted layer's kernel
already merged. The freezing is not saved: call ``enable_lora`` or
``load_adapters`` again on a loaded base to go on fine-tuning.

>>> model = zoo.build("transformer_classifier", size="toy")
>>> report = enable_lora(model, rank=2, train=("probabilities",))
>>> report.trainable_params < report.total_params
True
"""

import contextlib
import dataclasses
import hashlib
import io
import json
import math
import os
import pathlib
import uuid
import weakref

import keras
import numpy as np

from zoo import files, keras_compat
from zoo.jsonable import to_jsonable
from zoo.quantize import leaf_layers, select_layers
from zoo.untrusted import quoted

#: The layer classes that have Keras' ``enable_lora``.
ADAPTABLE = (keras.layers.Dense, keras.layers.EinsumDense, keras.layers.Embedding,
             keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
ADAPTER_FORMAT = "zoo-lora-adapters/1"
META_KEY = "meta"
MAX_ADAPTER_BYTES = 1 << 30
MAX_META_CHARS = 1 << 24

# The variables enable_lora froze, per model (merge_lora makes them trainable again).
_FROZEN = weakref.WeakKeyDictionary()


@dataclasses.dataclass(frozen=True)
class LoraReport:
    """What ``enable_lora`` (or ``load_adapters``) did.

    Attributes:
        adapted: ``(layer path, rank)`` for each layer given an adapter.
        trained: paths of the layers that train fully (``train=``).
        skipped: ``(path, reason)`` for adaptable layers left without an
            adapter by ``layers=None`` (a kernel too small for the rank).
        trainable_params: parameters that train now.
        total_params: all the model's parameters (the adapters included).
    """

    adapted: tuple
    trained: tuple
    trainable_params: int
    total_params: int
    skipped: tuple = ()

    @property
    def trainable_fraction(self):
        return self.trainable_params / self.total_params if self.total_params else 0.0

    def summary(self):
        return (f"LoRA on {len(self.adapted)} layers: {self.trainable_params} of "
                f"{self.total_params} parameters train ({self.trainable_fraction:.2%})")


def _size(shape):
    return int(math.prod(int(d) for d in shape))


def _lora_layers(model):
    return [layer for layer in leaf_layers(model) if getattr(layer, "lora_enabled", False)]


def adapter_variables(layer):
    """``(A, B)``: a LoRA-enabled layer's adapter variables (an ``Embedding``
    names them ``lora_embeddings_a/b``, the others ``lora_kernel_a/b``)."""
    if isinstance(layer, keras.layers.Embedding):
        return layer.lora_embeddings_a, layer.lora_embeddings_b
    return layer.lora_kernel_a, layer.lora_kernel_b


def _check_rank(rank, where="rank"):
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or rank <= 0:
        raise ValueError(f"`{where}` must be a positive integer. Received: {where}={rank!r}")
    return int(rank)


def rank_limit(layer):
    """The largest useful rank for ``layer``: its kernel seen as a matrix (all
    axes but the last, by the last) has no more independent directions."""
    shape = tuple(keras_compat.lora_base_variable(layer).shape)
    return min(_size(shape[:-1]), int(shape[-1]))


def enable_lora(model, rank, layers=None, alpha=None, train=()):
    """Give ``model``'s adaptable layers rank-``rank`` LoRA adapters; freeze the rest.

    Args:
        model: a built Keras model (every zoo model is). Changed in place.
        rank: the adapters' rank, a positive integer no larger than any
            chosen layer's kernel allows (``rank_limit``).
        layers: ``None`` (every Dense, EinsumDense and Conv layer; an
            ``Embedding``'s adapter costs vocabulary x rank parameters, so
            tables are adapted only when named here) or a list of layer
            names, paths or fnmatch patterns; a pattern that matches
            nothing is refused, naming the layers available.
        alpha: the scale numerator (``alpha / rank``); default ``rank``.
        train: names, paths or patterns of layers that train fully and get
            no adapter (e.g. ``("probabilities",)``, a classifier's head).

    Returns:
        A ``LoraReport`` (layers adapted, trainable and total parameters).

    Raises:
        ValueError: a bad ``rank`` or ``alpha`` (naming the layer when the
            rank is too large for a layer ``layers`` names; with
            ``layers=None`` such layers are skipped and reported), a model
            already LoRA-enabled, or a pattern that matches nothing.
    """
    rank = _check_rank(rank)
    if alpha is not None and (isinstance(alpha, bool) or not isinstance(alpha, (int, float))
                              or not alpha > 0 or not math.isfinite(alpha)):
        raise ValueError(f"`alpha` must be a positive number or None. Received: alpha={alpha!r}")
    _check_model(model)
    leaves = leaf_layers(model)
    trained = select_layers(leaves, train, what="train=") if train else []
    candidates = [layer for layer in leaves
                  if isinstance(layer, ADAPTABLE) and layer not in trained]
    if layers is None:  # a table's adapter costs vocabulary x rank: name it to adapt it
        candidates = [layer for layer in candidates
                      if not isinstance(layer, keras.layers.Embedding)]
    if not candidates:
        raise ValueError("There is no layer to adapt: the model has no Dense, EinsumDense, "
                         "Embedding or Conv layer outside `train`. Received: "
                         f"train={train!r}")
    chosen = select_layers(candidates, layers, what="LoRA")
    plan, skipped = [], []
    for layer in chosen:
        if getattr(layer, "quantization_mode", None):
            raise ValueError(f"Layer {layer.path!r} is quantized ({layer.quantization_mode}); "
                             f"the zoo adapts float layers only. Received: layer={layer.path!r}")
        limit = rank_limit(layer)
        if rank > limit and layers is None:  # e.g. a one-unit output layer
            skipped.append((layer.path, f"its kernel allows rank {limit} at most"))
            continue
        if rank > limit:
            raise ValueError(f"rank={rank} is larger than layer {layer.path!r} allows (its "
                             f"kernel {tuple(keras_compat.lora_base_variable(layer).shape)} "
                             f"has rank at most {limit}); lower the rank or leave the layer out "
                             f"with `layers`. Received: rank={rank}, layer={layer.path!r}")
        plan.append((layer, rank, alpha))
    if not plan:
        raise ValueError(f"rank={rank} is larger than every adaptable layer allows "
                         f"({'; '.join(f'{p}: {r}' for p, r in skipped)}). Received: rank={rank}")
    return dataclasses.replace(_apply(model, plan, trained), skipped=tuple(skipped))


def _check_model(model):
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(f"LoRA needs a built keras.Model. Received: model={model!r}")
    enabled = _lora_layers(model)
    if enabled:
        raise ValueError(f"LoRA is already enabled on this model ({len(enabled)} layers, e.g. "
                         f"{enabled[0].path!r}); merge_lora first or start from the base "
                         f"model. Received: model={model.name!r}")


def _apply(model, plan, trained):
    """Enable the planned adapters, freeze everything else but ``trained`` layers."""
    for layer, rank, alpha in plan:
        layer.enable_lora(rank, lora_alpha=alpha)
    keep = {id(v) for layer, _, _ in plan for v in adapter_variables(layer)}
    keep |= {id(v) for layer in trained for v in layer.weights if v.trainable}
    frozen = []
    for variable in model.weights:
        if id(variable) not in keep and variable.trainable:
            variable.trainable = False
            frozen.append(variable)
    frozen += [keras_compat.lora_base_variable(layer) for layer, _, _ in plan]
    _FROZEN[model] = frozen
    _reset_compiled_functions(model)
    return _report(model, trained)


def _reset_compiled_functions(model):
    """What trains changed: drop the compiled step functions, as Keras' own
    ``Model.quantize`` does, and give a built optimizer fresh state."""
    model.train_function = None
    model.test_function = None
    model.predict_function = None
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and optimizer.built and model.get_compile_config():
        model.compile_from_config(model.get_compile_config())


def _report(model, trained=()):
    adapted = tuple((layer.path, int(layer.lora_rank)) for layer in _lora_layers(model))
    trainable = sum(_size(v.shape) for v in model.trainable_weights)
    total = sum(_size(v.shape) for v in model.weights)
    return LoraReport(adapted=adapted, trained=tuple(layer.path for layer in trained),
                      trainable_params=trainable, total_params=total)


def lora_report(model):
    """A ``LoraReport`` of ``model`` as it is now."""
    return _report(model)


# ------------------------------------------------------------------ merging

def merge_lora(model):
    """Fold every adapter into its kernel (``W += alpha / rank * A @ B``) and remove
    it, in place: the model is a plain model again (it saves without LoRA).

    The weights ``enable_lora`` froze train again. Returns the merged
    layers' paths.

    Raises:
        ValueError: no layer of the model has LoRA enabled.
    """
    layers = _lora_layers(model) if isinstance(model, keras.Model) else []
    if not layers:
        raise ValueError(f"merge_lora needs a model with LoRA enabled. "
                         f"Received: model={getattr(model, 'name', model)!r}")
    for layer in layers:
        if getattr(layer, "quantization_mode", None):
            raise ValueError(f"Layer {layer.path!r} is quantized; merging adapters into "
                             f"quantized kernels is not supported. Received: "
                             f"layer={layer.path!r}")
    for layer in layers:
        merged = layer.embeddings if isinstance(layer, keras.layers.Embedding) else layer.kernel
        base = keras_compat.lora_base_variable(layer)
        base.assign(keras.ops.cast(merged, base.dtype))
        keras_compat.disable_lora(layer)
    for variable in _FROZEN.pop(model, []):
        variable.trainable = True
    _reset_compiled_functions(model)
    return tuple(layer.path for layer in layers)


# ------------------------------------------------------------------ adapter files

def _base_variables(model):
    """The model's variables but the adapters, in order."""
    lora = {id(v) for layer in _lora_layers(model)
            for v in adapter_variables(layer)}
    return [v for v in model.weights if id(v) not in lora]


def base_fingerprint(model, exclude=()):
    """SHA-256 over the model's identity and its base weights' bytes.

    The identity is the model's class and, for a zoo model, its registry
    name and parameters (for another model, its name); the weights are
    every variable but the adapters and the indices ``exclude`` (of
    ``_base_variables``: the layers that train fully), each as its shape,
    dtype and bytes.
    """
    identity = {"class": type(model).__name__, "zoo_name": getattr(model, "zoo_name", None)}
    if identity["zoo_name"] is not None:
        identity["zoo_config"] = to_jsonable(getattr(model, "zoo_config", None))
    else:
        identity["name"] = model.name
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode())
    skip = set(exclude)
    for index, variable in enumerate(_base_variables(model)):
        if index in skip:
            continue
        value = np.ascontiguousarray(keras.ops.convert_to_numpy(variable))
        digest.update(json.dumps([list(value.shape), str(value.dtype)]).encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def save_adapters(model, path, overwrite=False):
    """Write ``model``'s adapters (and the weights of its ``train=`` layers) to ``path``.

    The file is a NumPy ``.npz`` (no pickles) holding a JSON description
    (format, base fingerprint, each adapted layer's index, path, class, rank
    and alpha) and the arrays. It is written to a temporary file beside
    ``path`` and renamed into place: never half-written; an existing file is
    replaced only with ``overwrite=True``.

    Returns:
        The ``pathlib.Path`` written.

    Raises:
        ValueError: the model has no LoRA adapters, or ``path`` does not end
            in ``.npz``.
        FileExistsError: ``path`` exists and ``overwrite`` is False.
    """
    path = pathlib.Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"Adapters are saved to .npz files. Received: path={quoted(path)}")
    layers = _lora_layers(model) if isinstance(model, keras.Model) else []
    if not layers:
        raise ValueError(f"save_adapters needs a model with LoRA enabled (enable_lora). "
                         f"Received: model={getattr(model, 'name', model)!r}")
    files.check_new_file(path, overwrite=overwrite, what="adapter file")
    leaves = leaf_layers(model)
    arrays, entries = {}, []
    for number, layer in enumerate(layers):
        entries.append({"index": leaves.index(layer), "path": layer.path,
                        "class": type(layer).__name__, "rank": int(layer.lora_rank),
                        "alpha": float(layer.lora_alpha)})
        a, b = adapter_variables(layer)
        arrays[f"a{number}"] = keras.ops.convert_to_numpy(a)
        arrays[f"b{number}"] = keras.ops.convert_to_numpy(b)
    base = _base_variables(model)
    extras = [i for i, variable in enumerate(base) if variable.trainable]
    for i in extras:
        arrays[f"w{i}"] = keras.ops.convert_to_numpy(base[i])
    meta = {"format": ADAPTER_FORMAT, "base_sha256": base_fingerprint(model, extras),
            "zoo_name": getattr(model, "zoo_name", None), "layers": entries,
            "trained": extras, "keras_version": keras.__version__}
    arrays[META_KEY] = np.array(json.dumps(meta))
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")
    try:
        with open(temp, "xb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        files.publish(temp, path, overwrite)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    return path


def _malformed(path, why):
    return ValueError(f"{quoted(path)} is not a zoo adapter file: {why}. Received: "
                      f"path={quoted(path)}")


def _read_adapters(path):
    """The checked description and arrays of an adapter file (read without pickles)."""
    blob = files.read_regular_file(path, MAX_ADAPTER_BYTES)
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except Exception as error:  # BadZipFile, ValueError (pickled arrays), OSError, ...
        raise _malformed(path, f"it cannot be read as a NumPy .npz ({type(error).__name__})") \
            from None
    meta = arrays.pop(META_KEY, None)
    if meta is None or meta.dtype.kind != "U" or meta.shape != () or \
            len(str(meta)) > MAX_META_CHARS:
        raise _malformed(path, f"no {META_KEY!r} description")
    try:
        meta = json.loads(str(meta))
    except ValueError:
        raise _malformed(path, "its description is not JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != ADAPTER_FORMAT:
        raise _malformed(path, f"its format is not {ADAPTER_FORMAT!r}")
    layers, trained = meta.get("layers"), meta.get("trained")
    if not isinstance(meta.get("base_sha256"), str) or not isinstance(layers, list) or \
            not layers or not isinstance(trained, list):
        raise _malformed(path, "its description lacks base_sha256, layers or trained")
    for entry in layers:
        if not isinstance(entry, dict) or not isinstance(entry.get("index"), int) or \
                not isinstance(entry.get("class"), str) or \
                not isinstance(entry.get("alpha"), (int, float)) or \
                isinstance(entry.get("rank"), bool) or not isinstance(entry.get("rank"), int):
            raise _malformed(path, "a layer entry is malformed")
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in trained):
        raise _malformed(path, "the trained weights' indices are not integers")
    for key, value in arrays.items():
        if value.dtype.kind != "f":
            raise _malformed(path, f"array {key!r} holds {value.dtype} values, not floats")
    return meta, arrays


def load_adapters(model, path):
    """Put the adapters saved in ``path`` on ``model``, a fresh copy of their base.

    LoRA is enabled with the stored rank and alpha on the stored layers, the
    adapter matrices (and the ``train=`` layers' weights) are set, and
    everything else is frozen, as ``enable_lora`` leaves it.

    Returns:
        A ``LoraReport``.

    Raises:
        ValueError: the file is not a well-formed adapter file, the model
            already has LoRA, or the adapters belong to another base model
            (its fingerprint, layers or shapes differ).
    """
    meta, arrays = _read_adapters(path)
    _check_model(model)
    base = list(model.weights)
    trained = meta["trained"]
    if any(i < 0 or i >= len(base) for i in trained):
        raise _malformed(path, "a trained weight's index is out of range for this model")
    found = base_fingerprint(model, trained)
    if found != meta["base_sha256"]:
        raise ValueError(f"The adapters in {quoted(path)} were made for another base model "
                         f"(base fingerprint {meta['base_sha256'][:12]}..., this model's is "
                         f"{found[:12]}...); load them onto the model they were trained "
                         f"from. Received: path={quoted(path)}")
    leaves = leaf_layers(model)
    plan, values = [], []
    for number, entry in enumerate(meta["layers"]):
        index = entry["index"]
        layer = leaves[index] if 0 <= index < len(leaves) else None
        if layer is None or type(layer).__name__ != entry["class"] or \
                not isinstance(layer, ADAPTABLE):
            raise _malformed(path, f"layer entry {number} does not name an adaptable layer "
                             "of this model")
        rank = _check_rank(entry["rank"])
        if rank > rank_limit(layer):
            raise _malformed(path, f"rank {rank} is too large for layer {layer.path!r}")
        shape = tuple(keras_compat.lora_base_variable(layer).shape)
        a_shape = (shape[0], rank) if isinstance(layer, keras.layers.Embedding) \
            else shape[:-1] + (rank,)
        expected = {f"a{number}": a_shape, f"b{number}": (rank, shape[-1])}
        for key, wanted in expected.items():
            if key not in arrays or tuple(arrays[key].shape) != tuple(wanted):
                got = tuple(arrays[key].shape) if key in arrays else "missing"
                raise _malformed(path, f"array {key!r} of layer {layer.path!r} should have "
                                 f"shape {tuple(wanted)}, not {got}")
        plan.append((layer, rank, entry["alpha"]))
        values.append((arrays[f"a{number}"], arrays[f"b{number}"]))
    for i in trained:
        key = f"w{i}"
        if key not in arrays or tuple(arrays[key].shape) != tuple(base[i].shape):
            raise _malformed(path, f"array {key!r} is missing or has the wrong shape")
    trained_ids = {id(base[i]) for i in trained}
    trained_layers = [layer for layer in leaves
                      if any(id(v) in trained_ids for v in layer.weights)]
    report = _apply(model, plan, trained_layers)
    for (layer, _, _), pair in zip(plan, values):
        for variable, value in zip(adapter_variables(layer), pair):
            variable.assign(value)
    for i in trained:
        base[i].assign(arrays[f"w{i}"].astype(keras.backend.standardize_dtype(base[i].dtype)))
    return report


__all__ = ["LoraReport", "enable_lora", "merge_lora", "save_adapters", "load_adapters",
           "lora_report", "base_fingerprint", "rank_limit", "adapter_variables"]
