"""Quantize a model's weights (``zoo.quantize``), in a way ``zoo.save`` / ``zoo.load`` keep.

``quantize(model, "int8")`` runs Keras' ``Model.quantize`` on the model's
``Dense``, ``EinsumDense`` and ``Embedding`` layers (those inside the zoo's
own blocks too, such as a Transformer block's attention projections and
feed-forward layers) and returns a ``QuantizeReport``: which layers were
quantized, which were left and why, and the parameter bytes before and
after. It works **in place**, as Keras does: the float weights are gone
afterwards. To keep the float model, save it first (``zoo.save``) and
quantize a ``zoo.load``-ed copy.

Why the zoo does more than ``model.quantize``: Keras records a layer's
quantized dtype policy in its own config, but a layer that a custom layer
creates in its ``build`` (the projections of the zoo's Transformer blocks)
is rebuilt from the custom layer's config, in float. Reloaded with plain
Keras, such a file fails ("Layer 'key' expected 2 variables, but received
0"), the class of bug of keras-hub#1705 and keras#21378. So ``zoo.save``
writes the path and mode of every quantized layer into the model card
(``quantization_record``), and ``zoo.load`` quantizes those layers of the
freshly built model again (``restore_quantization``) before the stored
int8 weights are loaded into them: the reloaded model computes exactly
what the saved one did, on any backend.

>>> model = zoo.build("dense_autoencoder_toy")
>>> report = quantize(model, "int8")
>>> report.bytes_after < report.bytes_before
True
"""

import dataclasses
import fnmatch
import re
import warnings

import keras

from zoo import keras_compat
from zoo.untrusted import quoted

#: The modes ``quantize`` accepts. Keras also has ``float8`` (scaled float8
#: *training*: every weight stays float32, nothing is smaller) and ``gptq`` /
#: ``awq`` (they need calibration data and a layer structure); the zoo
#: refuses those.
MODES = ("int8", "int4")
#: The layer classes Keras quantizes (exactly these classes, not subclasses).
QUANTIZABLE = (keras.layers.Dense, keras.layers.EinsumDense, keras.layers.Embedding)
#: The key of the model card that records the quantized layers.
CARD_KEY = "quantization"
MAX_RECORDED_LAYERS = 100_000


@dataclasses.dataclass(frozen=True)
class QuantizeReport:
    """What ``quantize`` did.

    Attributes:
        mode: the quantization mode (``"int8"``, ``"int4"``).
        quantized: the paths of the layers quantized (``layer.path``).
        skipped: ``(path, reason)`` for each Dense/EinsumDense/Embedding-like
            layer left in float.
        bytes_before: bytes of all the model's variables before (each
            variable's size times its dtype's item size).
        bytes_after: the same, after.
    """

    mode: str
    quantized: tuple
    skipped: tuple
    bytes_before: int
    bytes_after: int

    @property
    def ratio(self):
        """``bytes_after / bytes_before``."""
        return self.bytes_after / self.bytes_before if self.bytes_before else 1.0

    def summary(self):
        """One line: mode, layer counts and sizes."""
        return (f"{self.mode}: {len(self.quantized)} layers quantized, {len(self.skipped)} left; "
                f"{self.bytes_before} -> {self.bytes_after} bytes ({self.ratio:.0%})")


def parameter_bytes(model):
    """Bytes of all ``model``'s variables: each one's size times its dtype's item size."""
    total = 0
    for variable in model.weights:
        size = 1
        for dim in variable.shape:
            size *= int(dim)
        total += size * _itemsize(variable.dtype)
    return total


def _itemsize(dtype):
    dtype = keras.backend.standardize_dtype(dtype)
    if dtype == "bool":
        return 1
    bits = re.search(r"(\d+)", dtype)
    return max(1, int(bits.group(1)) // 8) if bits else 4


def leaf_layers(model):
    """Every layer of ``model`` without sublayers, each once, in order."""
    return [layer for layer in keras_compat.sublayers(model, include_self=False)
            if len(keras_compat.sublayers(layer)) == 1]


def _quantizable_looking(layer):
    return isinstance(layer, QUANTIZABLE)


def _matches(layer, patterns):
    path = layer.path or layer.name
    return any(fnmatch.fnmatchcase(layer.name, p) or fnmatch.fnmatchcase(path, p)
               for p in patterns)


def select_layers(candidates, layers, what="quantize"):
    """The candidates matched by ``layers`` (names, paths or fnmatch patterns;
    ``None``: all); a pattern that matches none of them is refused."""
    if layers is None:
        return list(candidates)
    if isinstance(layers, str):
        layers = [layers]
    if not isinstance(layers, (list, tuple)) or not all(isinstance(p, str) for p in layers):
        raise TypeError(f"`layers` must be a list of layer names or patterns, or None. "
                        f"Received: layers={layers!r}")
    for pattern in layers:
        if not any(_matches(layer, [pattern]) for layer in candidates):
            names = ", ".join(layer.path or layer.name for layer in candidates) or "none"
            raise ValueError(f"The pattern {pattern!r} matches no layer that {what} can "
                             f"use (those are: {names}). Received: layers={list(layers)!r}")
    return [layer for layer in candidates if _matches(layer, layers)]


def quantize(model, mode="int8", layers=None):
    """Quantize ``model``'s Dense, EinsumDense and Embedding weights, in place.

    Args:
        model: a built Keras model (every zoo model is).
        mode: ``"int8"`` (per-output-channel scales; outputs within about
            1% of float) or ``"int4"`` (packed two per byte, coarser).
        layers: ``None`` (every quantizable layer) or a list of layer names,
            paths (``"encoder_block_0/attention/query"``) or fnmatch
            patterns; a pattern that matches nothing is refused.

    Returns:
        A ``QuantizeReport``.

    Raises:
        ValueError: an unknown mode, a model already quantized, a model
            with nothing to quantize, or a pattern that matches nothing.

    The model is changed in place (Keras quantizes layers in place); its
    compiled train/predict functions are rebuilt on next use. ``zoo.save``
    and ``zoo.load`` keep the quantized weights (see the module notes).

    >>> model = zoo.build("dense_autoencoder_toy")
    >>> report = quantize(model, "int8")
    >>> report.mode, len(report.quantized) > 0, report.ratio < 1
    ('int8', True, True)
    """
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"Unknown quantization mode {mode!r}; the zoo supports "
                         f"{', '.join(MODES)}. Received: mode={mode!r}")
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(f"quantize needs a built keras.Model. Received: model={model!r}")
    leaves = leaf_layers(model)
    already = [layer.path for layer in leaves if getattr(layer, "quantization_mode", None)]
    if already:
        raise ValueError(f"The model is already quantized ({len(already)} layers, e.g. "
                         f"{already[0]!r} in mode {_mode_of(leaves, already[0])!r}); quantize "
                         f"a float model. Received: mode={mode!r}")
    looking = [layer for layer in leaves if _quantizable_looking(layer)]
    if not looking:
        kinds = sorted({type(layer).__name__ for layer in leaves if layer.weights})
        raise ValueError(f"There is nothing to quantize: the model has no Dense, EinsumDense or "
                         f"Embedding layer. Received: a model of {', '.join(kinds) or 'no'} "
                         "layers with weights")
    chosen = select_layers(looking, layers)
    skipped = {layer.path: "not selected by `layers`" for layer in looking if layer not in chosen}
    for layer in chosen:
        reason = _why_not(layer, mode)
        if reason:
            skipped[layer.path] = reason
    todo = {id(layer) for layer in chosen if layer.path not in skipped}
    if not todo:
        raise ValueError(f"There is nothing to quantize: every candidate layer was left "
                         f"({'; '.join(f'{p}: {r}' for p, r in skipped.items())}). "
                         f"Received: mode={mode!r}, layers={layers!r}")
    before = parameter_bytes(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.quantize(mode, filters=lambda layer: id(layer) in todo)
    for record in caught:  # Keras' warnings but "X has no quantize method" and deprecations
        if "does not have a `quantize` method" not in str(record.message) and not issubclass(
                record.category, (DeprecationWarning, PendingDeprecationWarning)):
            warnings.warn(str(record.message), record.category, stacklevel=2)
    quantized = []
    for layer in chosen:
        if id(layer) not in todo:
            continue
        if getattr(layer, "quantization_mode", None) == mode:
            quantized.append(layer.path)
        else:
            skipped[layer.path] = "Keras left it unquantized"
    return QuantizeReport(mode=mode, quantized=tuple(quantized),
                          skipped=tuple(sorted(skipped.items())),
                          bytes_before=before, bytes_after=parameter_bytes(model))


def _mode_of(leaves, path):
    for layer in leaves:
        if layer.path == path:
            return layer.quantization_mode
    return None


def _why_not(layer, mode):
    """Why Keras would not quantize ``layer`` in ``mode`` (``None``: it will)."""
    if type(layer) not in QUANTIZABLE:
        return (f"a subclass ({type(layer).__name__}) of {type(layer).__mro__[1].__name__}; "
                "Keras quantizes only the built-in classes themselves")
    if getattr(layer, "lora_enabled", False):
        return "LoRA is enabled on it (merge_lora first)"
    if keras.backend.standardize_dtype(layer.compute_dtype) == "float16" and mode == "int8":
        return "its compute dtype is float16, which Keras refuses for int8"
    return None


# ----------------------------------------------------------- saving and loading

def quantization_record(model):
    """``{layer path: mode}`` for every quantized layer of ``model`` (``zoo.save``
    writes it into the model card), or ``None`` when none is quantized."""
    record = {}
    for layer in leaf_layers(model):
        mode = getattr(layer, "quantization_mode", None)
        if mode:
            record[layer.path] = {"mode": mode, "policy": layer.dtype_policy.name}
    return record or None


def restore_quantization(model, record):
    """Quantize again the layers of a freshly deserialized ``model`` that ``record``
    (from a model card, untrusted) says were quantized, so that the stored
    quantized weights fit them; layers whose own config already made them
    quantized are left as they are.

    Raises:
        ValueError: the record is malformed, names a layer the model does
            not have, or a layer or mode the zoo does not quantize.
    """
    if record is None:
        return
    if not isinstance(record, dict) or len(record) > MAX_RECORDED_LAYERS:
        raise ValueError(f"the model card's {CARD_KEY!r} must map layer paths to modes. "
                         f"Received: a {type(record).__name__}")
    by_path = {}
    for layer in leaf_layers(model):
        by_path.setdefault(layer.path, []).append(layer)
    todo = {}
    for path, entry in record.items():
        mode = entry.get("mode") if isinstance(entry, dict) else None
        if not isinstance(mode, str) or mode not in MODES:
            raise ValueError(f"the model card's {CARD_KEY!r} gives layer {quoted(path)} an "
                             f"unsupported mode. Received: {quoted(repr(mode))}")
        found = by_path.get(path, [])
        if len(found) != 1:
            raise ValueError(f"the model card's {CARD_KEY!r} names layer {quoted(path)}, which "
                             f"the model {'does not have' if not found else 'has twice'}. "
                             f"Received: {quoted(path)}")
        layer = found[0]
        if type(layer) not in QUANTIZABLE:
            raise ValueError(f"the model card's {CARD_KEY!r} names layer {quoted(path)}, a "
                             f"{type(layer).__name__}, which the zoo does not quantize. "
                             f"Received: {quoted(path)}")
        current = getattr(layer, "quantization_mode", None)
        if current == mode:
            continue
        if current is not None:
            raise ValueError(f"layer {quoted(path)} is {current} in the config but {mode} in "
                             f"the model card. Received: {quoted(repr(mode))}")
        todo.setdefault(mode, set()).add(id(layer))
    for mode, ids in todo.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "InputLayer has no quantize method", ...
            model.quantize(mode, filters=lambda layer, ids=ids: id(layer) in ids)


__all__ = ["MODES", "QuantizeReport", "quantize", "parameter_bytes", "quantization_record",
           "restore_quantization"]
