"""Export a model for serving, then prove the artefact computes what the model computes.

``export`` wraps Keras' ``Model.export`` for the five formats Keras writes
(``onnx``, ``tf_saved_model``, ``litert``, ``torch``, ``openvino``). After
writing, it loads the artefact with that format's own runtime (onnxruntime,
TensorFlow, the LiteRT interpreter, ``torch.export.load``, OpenVINO), runs it
on the model's example data and reports the largest absolute difference from
Keras' output. With ``check=True`` a difference over the format's tolerance
is an error and nothing is left at the path.

The artefact is written into a private folder beside the target and moved
into place only when it is complete (and checked, with ``check=True``): an
interrupted or refused export leaves nothing half-written at the path. An
existing path is never replaced unless ``overwrite=True``.

What each format needs (``supported`` says it before any work):

- ``litert``: the TensorFlow or torch backend (torch also needs the
  ``litert-torch`` package); ``torch``: the torch backend.
- ``litert`` refuses graph models: the LiteRT runtime's kernels fail on
  the flattened node and edge batches (ONNX, SavedModel and OpenVINO run them).
- ``onnx`` on JAX (jax2onnx) refuses Bidirectional RNNs, ``MaxPooling2D``
  and graph batches (see ``_jax2onnx_gap``); TensorFlow and torch export them.
- ``openvino`` on JAX goes through jax2tf's ``XlaCallModule``, which
  OpenVINO cannot convert; on TensorFlow it cannot convert the
  ``TensorList`` loop of Keras' recurrent layers.
- On torch, Keras traces at fixed shapes: the artefact takes the example
  data's shapes (pass ``input_signature`` for others).

Generation models (``gpt_decoder``, ``lstm_seq2seq``, ...) export their full
forward pass: token ids (and the source, for seq2seq) to next-token logits
at every position. That is the step a server's decoding loop calls; the
key/value cache of ``zoo.generate`` is not part of the artefact.

>>> import zoo, tempfile, os
>>> model = zoo.build("dense_autoencoder_toy")
>>> reason = zoo.export_support(model, "torch")   # None when it can be exported
>>> reason is None or "torch" in reason
True
"""

import contextlib
import dataclasses
import io
import os
import pathlib
import re
import shutil
import time
import uuid
import warnings

import keras
import numpy as np

from zoo import validation

FORMATS = ("onnx", "tf_saved_model", "litert", "torch", "openvino")
#: Largest absolute difference from Keras a format may show (``check=True``).
TOLERANCES = {"onnx": 1e-4, "tf_saved_model": 1e-4, "litert": 1e-3, "torch": 1e-4,
              "openvino": 1e-4}
#: The Python package each format's runtime comes from (the ``export`` extra).
RUNTIMES = {"onnx": ("onnxruntime", "onnxruntime"), "tf_saved_model": ("tensorflow", "tensorflow"),
            "litert": ("ai_edge_litert", "ai-edge-litert"), "torch": ("torch", "torch"),
            "openvino": ("openvino", "openvino")}
#: What Keras' exporter for a format needs besides the runtime, per backend.
CONVERTERS = {("onnx", "tensorflow"): ("tf2onnx", "tf2onnx"),
              ("onnx", "jax"): ("jax2onnx", "jax2onnx"),
              ("onnx", "torch"): ("onnxscript", "onnxscript"),
              ("tf_saved_model", "jax"): ("tensorflow", "tensorflow"),
              ("tf_saved_model", "torch"): ("torch_xla", "torch-xla"),
              ("litert", "tensorflow"): ("tensorflow", "tensorflow"),
              ("litert", "torch"): ("litert_torch", "litert-torch"),
              ("openvino", "jax"): ("tensorflow", "tensorflow")}
#: The file name ending Keras requires for a format (a SavedModel is a folder).
SUFFIXES = {"onnx": ".onnx", "litert": ".tflite", "torch": ".pt2", "openvino": ".xml"}
#: Converters the ``export`` extra leaves out, and why.
NOT_IN_EXTRA = {"litert-torch": "it pins typing-extensions 4.12 against jax2onnx's chex",
                "torch-xla": "it is the XLA build of torch, made for TPUs"}
#: Example rows the check runs (two: a batch axis that is really a batch).
CHECK_ROWS = 2


class ExportError(ValueError):
    """An export that cannot be made, or an artefact that computes something else."""


@dataclasses.dataclass
class ExportReport:
    """What ``export`` wrote and how closely the artefact follows the model.

    Attributes:
        path: the artefact (a file; a folder for ``tf_saved_model``).
        format: the export format.
        backend: the Keras backend that wrote it.
        runtime: the runtime that ran it for the check.
        max_abs_diff: largest absolute difference from Keras on the example
            data (``None`` when not checked).
        tolerance: the format's tolerance.
        seconds: time to export and check.
        files: every path written (OpenVINO writes ``.xml`` and ``.bin``).
        notes: what a server needs beyond the format's plain runtime.
    """

    path: str
    format: str
    backend: str
    runtime: str
    max_abs_diff: float | None
    tolerance: float
    seconds: float
    files: list
    notes: list = dataclasses.field(default_factory=list)

    @property
    def within_tolerance(self):
        return self.max_abs_diff is not None and self.max_abs_diff <= self.tolerance

    def __str__(self):
        diff = ("not checked" if self.max_abs_diff is None else
                f"max |difference| {self.max_abs_diff:.2e} (tolerance {self.tolerance:.0e}, "
                f"{'ok' if self.within_tolerance else 'OVER'})")
        notes = "".join(f"; {note}" for note in self.notes)
        return (f"{self.format} artefact at {self.path} ({self.backend} backend, run with "
                f"{self.runtime}): {diff}{notes}")


def _has_recurrent_loop(model):
    return any(isinstance(layer, keras.layers.RNN) for layer in model._flatten_layers())


def _takes_graph_batches(model):
    from zoo.models.graph.layers.batching import FlattenBatch

    return any(isinstance(layer, FlattenBatch) for layer in model._flatten_layers())


def _jax2onnx_gap(model):
    """What jax2onnx (0.17) cannot convert in ``model``, or ``None``."""
    layers = list(model._flatten_layers())
    if any(isinstance(layer, keras.layers.Bidirectional) for layer in layers):
        return "cannot convert a reversed scan (the backward half of a Bidirectional RNN)"
    if any(isinstance(layer, keras.layers.MaxPooling2D) for layer in layers):
        return ("writes MaxPooling2D as an ONNX MaxPool with a 4-D kernel, which onnxruntime "
                "refuses")
    if _takes_graph_batches(model):
        return ("cannot reshape the flat node batch back to [graphs, nodes, features] (a "
                "symbolic size that is not an axis of the reshaped tensor)")
    return None


def export_support(model, format):
    """Why ``model`` cannot be exported to ``format`` on this backend, or ``None``.

    Checks the format name, what the backend can write, and whether the
    converter and runtime are installed.

    Raises:
        ValueError: ``format`` is not one of ``FORMATS``.
    """
    validation.choice("format", format, FORMATS)
    backend = keras.backend.backend()
    if format == "litert" and backend not in ("tensorflow", "torch"):
        return f"LiteRT export needs the TensorFlow or torch backend (this is {backend})"
    if format == "litert" and _takes_graph_batches(model):
        return ("the LiteRT runtime cannot run graph batches (its RESHAPE, SELECT_V2 and "
                "UNSORTED_SEGMENT_SUM kernels fail to prepare on the flattened nodes and edges): "
                "export graph models to ONNX, SavedModel or OpenVINO")
    if format == "torch" and backend != "torch":
        return f"torch export needs the torch backend (this is {backend})"
    if format == "onnx" and backend == "jax":
        reason = _jax2onnx_gap(model)
        if reason:
            return f"jax2onnx {reason}: export on the TensorFlow or torch backend"
    if format == "openvino" and backend == "jax":
        return ("OpenVINO cannot convert the XlaCallModule that JAX models become: export on "
                "the TensorFlow or torch backend")
    if format == "openvino" and backend == "tensorflow" and _has_recurrent_loop(model):
        return ("OpenVINO cannot convert the TensorList loop of Keras' recurrent layers on "
                "TensorFlow: export on the torch backend")
    for module, package in (CONVERTERS.get((format, backend), (None, None)), RUNTIMES[format]):
        if module and not _importable(module):
            if package in NOT_IN_EXTRA:
                return (f"{format} export on {backend} needs {package}, which the export "
                        f"extra leaves out ({NOT_IN_EXTRA[package]}): pip install {package}, "
                        f"or export on another backend")
            return (f"{format} export on {backend} needs the {package!r} package: "
                    f"pip install 'encoder-zoo[export]'")
    return None


def _importable(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _example_data(model, data):
    if data is not None:
        return data
    from zoo.registry import spec_of

    try:
        spec = spec_of(model)
    except (TypeError, ValueError) as error:
        raise ExportError("export needs example data for a model the registry does not "
                          f"know: pass `data=`. ({error})") from None
    x, _ = spec.example_data(model.zoo_config, CHECK_ROWS, seed=0)
    return x


def _numpy_tree(data):
    return keras.tree.map_structure(lambda v: np.asarray(keras.ops.convert_to_numpy(v)), data)


def _static_signature(data, free_batch=False):
    """A fixed-shape signature from the example data (what Keras traces on torch;
    LiteRT too, with a free batch axis: its graphs cannot resize a free length)."""
    def spec(value, name=None):
        shape = tuple(value.shape)
        if free_batch and shape:
            shape = (None,) + shape[1:]
        return keras.InputSpec(shape=shape, dtype=str(value.dtype), name=name)

    if isinstance(data, dict):
        return [{key: spec(value, key) for key, value in data.items()}]
    return [spec(data)]


def export(model, path, format="onnx", *, data=None, check=True, verify=True, overwrite=False,
           input_signature=None, tolerance=None):
    """Write ``model`` to ``path`` as a ``format`` artefact and verify it with its runtime.

    Args:
        model: a Keras model (any zoo model, or one loaded with ``zoo.load``).
        path: where the artefact goes (a folder for ``tf_saved_model``;
            for ``openvino`` the ``.xml``, with the ``.bin`` beside it).
        format: one of ``FORMATS``.
        data: example inputs for the check (default: the registry's example
            data for the model, ``CHECK_ROWS`` rows).
        check: raise ``ExportError`` and write nothing when the artefact
            differs from Keras by more than the tolerance.
        verify: run the artefact at all (``False``: export only).
        overwrite: replace an existing ``path``.
        input_signature: passed to ``Model.export`` (default: Keras' own,
            with a free batch axis; fixed example shapes on torch).
        tolerance: override the format's entry in ``TOLERANCES``.

    Returns:
        An ``ExportReport``.

    Raises:
        ValueError: an unknown format; ``ExportError`` (a ``ValueError``):
            a format this backend or installation cannot produce, a failed
            conversion, or (``check=True``) a difference over the tolerance.
        FileExistsError: ``path`` exists and ``overwrite`` is false.
    """
    started = time.perf_counter()
    reason = export_support(model, format)
    if reason:
        raise ExportError(f"Cannot export {model.name!r} to {format}: {reason}.")
    tolerance = TOLERANCES[format] if tolerance is None else validation.positive_float(
        "tolerance", tolerance)
    target = pathlib.Path(path)
    suffix = SUFFIXES.get(format)
    if suffix and target.suffix != suffix:
        raise ValueError(f"A {format} artefact's path must end with {suffix!r}. "
                         f"Received: path={str(path)!r}")
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True to replace it. "
                              f"Received: path={str(path)!r}")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"The folder of {target} does not exist. "
                                f"Received: path={str(path)!r}")
    data = _numpy_tree(_example_data(model, data))
    backend = keras.backend.backend()
    if input_signature is None and (backend == "torch" or format == "litert"):
        input_signature = _static_signature(data)
    expected = [np.asarray(keras.ops.convert_to_numpy(out))
                for out in keras.tree.flatten(model(data, training=False))]
    workdir = target.parent / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial"
    workdir.mkdir()
    try:
        staged = workdir / target.name
        _keras_export(model, staged, format, input_signature)
        diff, notes = None, []
        if verify:
            got = _run_artefact(staged, format, data, notes)
            diff = _max_difference(expected, got, format)
            if check and diff > tolerance:
                raise ExportError(
                    f"The {format} artefact of {model.name!r} differs from Keras by {diff:.3g}, "
                    f"over the tolerance {tolerance:.0e}; nothing was written at {target}.")
        files = _move_into_place(workdir, target, overwrite)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return ExportReport(path=str(target), format=format, backend=backend,
                        runtime=RUNTIMES[format][1], max_abs_diff=diff, tolerance=tolerance,
                        seconds=round(time.perf_counter() - started, 2), files=files,
                        notes=notes)


@contextlib.contextmanager
def _frozen_torch_variables(model):
    """Keras' torch tracing bakes weights in as constants, which torch refuses for
    tensors that require a gradient: switch that off for the export only."""
    if keras.backend.backend() != "torch":
        yield
        return
    import torch

    saved = [(v.value, v.value.requires_grad) for v in model.variables
             if isinstance(v.value, torch.Tensor)]
    try:
        for value, _ in saved:
            value.requires_grad_(False)
        with torch.no_grad():
            yield
    finally:
        for value, flag in saved:
            value.requires_grad_(flag)


@contextlib.contextmanager
def _without_activity_regularizers(model):
    """An activity regularizer (``sparse_autoencoder``'s code) adds a training loss
    on every call; traced for export, the loss is a dangling node that tf2onnx
    cannot fetch. Inference does not need it: off for the export only."""
    saved = [(layer, layer.activity_regularizer) for layer in model._flatten_layers()
             if getattr(layer, "activity_regularizer", None) is not None]
    try:
        for layer, _ in saved:
            layer.activity_regularizer = None
        yield
    finally:
        for layer, regularizer in saved:
            layer.activity_regularizer = regularizer


def _tf2onnx_erfc():
    """Teach tf2onnx TensorFlow's ``Erfc`` (Keras' exact GELU on TensorFlow emits it;
    tf2onnx 1.17 has no handler): ``erfc(x) = 1 - erf(x)``, both ONNX operators."""
    from tf2onnx import utils
    from tf2onnx.handler import tf_op

    if "Erfc" in _CONVERTER_RULES:
        return

    @tf_op("Erfc")
    class Erfc:  # noqa: F841  (registered by the decorator)
        @classmethod
        def version_9(cls, ctx, node, **kwargs):
            dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.input[0]))
            node.type = "Erf"
            one = ctx.make_const(utils.make_name(f"{node.name}_one"), np.array(1, dtype))
            sub = ctx.insert_new_node_on_output("Sub", node.output[0],
                                                name=utils.make_name(f"{node.name}_erfc"))
            ctx.replace_inputs(sub, [one.output[0], node.output[0]])
            ctx.copy_shape(node.output[0], sub.output[0])
            ctx.set_dtype(sub.output[0], ctx.get_dtype(node.output[0]))

    _CONVERTER_RULES.add("Erfc")


_CONVERTER_RULES = set()


def _torch_onnx_ravel():
    """Teach torch's TorchScript ONNX exporter ``aten::ravel`` (Keras' ``ops.take`` on
    torch flattens its indices with it; opset 20 has no rule): a Reshape to ``[-1]``."""
    if "ravel" in _CONVERTER_RULES:
        return
    import torch

    def ravel(g, x):
        return g.op("Reshape", x, g.op("Constant", value_t=torch.tensor([-1])))

    torch.onnx.register_custom_op_symbolic("aten::ravel", ravel, 9)
    _CONVERTER_RULES.add("ravel")


def _keras_export(model, staged, format, input_signature):
    if format == "onnx" and keras.backend.backend() == "tensorflow":
        _tf2onnx_erfc()
    if format == "onnx" and keras.backend.backend() == "torch":
        _torch_onnx_ravel()
    with _frozen_torch_variables(model), _without_activity_regularizers(model), \
            warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            model.export(str(staged), format=format, verbose=False,
                         input_signature=input_signature)
        except Exception as error:  # the converters raise anything; one line says which
            raise ExportError(f"Keras could not export {model.name!r} to {format} on "
                              f"{keras.backend.backend()}: {_one_line(error)}") from error


def _one_line(error):
    text = " ".join(str(error).replace("\x1b[1m", "").replace("\x1b[0m", "").split())
    text = text or type(error).__name__
    return (text[:300] + "...") if len(text) > 300 else text


def _move_into_place(workdir, target, overwrite):
    moved = []
    for entry in sorted(workdir.iterdir()):
        destination = target.parent / entry.name
        if destination.exists():
            if not overwrite:
                raise FileExistsError(f"{destination} exists; pass overwrite=True to replace "
                                      f"it. Received: path={str(target)!r}")
            if destination.is_dir() and not destination.is_symlink():
                old = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:8]}.old")
                os.replace(destination, old)
                os.replace(entry, destination)
                shutil.rmtree(old, ignore_errors=True)
                moved.append(str(destination))
                continue
        os.replace(entry, destination)
        moved.append(str(destination))
    return moved


def _max_difference(expected, got, format):
    got = [np.asarray(value) for value in got]
    if len(got) != len(expected):
        raise ExportError(f"The {format} artefact returns {len(got)} outputs; the model "
                          f"returns {len(expected)}.")
    worst = 0.0
    for want, have in zip(expected, got):
        if want.shape != have.shape:
            raise ExportError(f"The {format} artefact returns shape {have.shape}; the model "
                              f"returns {want.shape}.")
        if want.size:
            worst = max(worst, float(np.max(np.abs(want.astype("float64") -
                                                   have.astype("float64")))))
    return worst


def _flat_inputs(data):
    if isinstance(data, dict):
        return list(data.keys()), [data[key] for key in sorted(data)]
    return None, [data]


def _run_artefact(path, format, data, notes):
    runner = {"onnx": _run_onnx, "tf_saved_model": _run_saved_model, "litert": _run_litert,
              "torch": _run_torch, "openvino": _run_openvino}[format]
    try:
        return runner(path, data, notes)
    except ExportError:
        raise
    except Exception as error:
        raise ExportError(f"The {format} artefact was written but its runtime could not run "
                          f"it: {_one_line(error)}") from error


def _feed_by_name(names, data):
    """Map the runtime's input names to the example arrays: by name when they
    match the model's input names, else in Keras' flattening order."""
    keys, flat = _flat_inputs(data)
    if keys is not None and set(names) <= set(keys):
        return {name: data[name] for name in names}
    if keys is not None:
        stripped = {name: name.split(":")[0] for name in names}
        if set(stripped.values()) <= set(keys):
            return {name: data[stripped[name]] for name in names}
    if len(names) != len(flat):
        raise ExportError(f"The artefact takes {len(names)} inputs ({', '.join(names)}); the "
                          f"model takes {len(flat)}.")
    return dict(zip(names, flat))


def _run_onnx(path, data, notes):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [node.name for node in session.get_inputs()]
    return session.run(None, _feed_by_name(names, data))


def _run_saved_model(path, data, notes):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # keep it: `serve` refers to its variables
    inputs = keras.tree.map_structure(tf.constant, data)
    return [value.numpy() for value in keras.tree.flatten(loaded.serve(inputs))]


def _run_litert(path, data, notes):
    from ai_edge_litert.interpreter import Interpreter

    try:
        return _invoke_litert(_litert_interpreter(Interpreter, path), data)
    except RuntimeError as error:
        if "Select TensorFlow op" not in str(error):
            raise
    # Keras' recurrent loop converts to Select TF ops: the artefact needs the Flex
    # delegate, which TensorFlow's own interpreter links (an app must link it too).
    import tensorflow as tf

    notes.append("needs the Flex delegate (Select TF ops)")
    return _invoke_litert(tf.lite.Interpreter(model_path=str(path)), data)


def _invoke_litert(interpreter, data):
    details = interpreter.get_input_details()
    feed = _feed_by_name([d["name"] for d in details], data)
    for detail in details:
        value = np.asarray(feed[detail["name"]], dtype=detail["dtype"])
        if tuple(detail["shape"]) != value.shape:
            interpreter.resize_tensor_input(detail["index"], value.shape)
    interpreter.allocate_tensors()
    for detail in interpreter.get_input_details():
        interpreter.set_tensor(detail["index"],
                               np.asarray(feed[detail["name"]], dtype=detail["dtype"]))
    interpreter.invoke()
    outputs = sorted(interpreter.get_output_details(), key=lambda d: d["index"])
    return [interpreter.get_tensor(d["index"]) for d in outputs]


def _litert_interpreter(Interpreter, path):
    """The LiteRT interpreter without its default XNNPack delegate, which cannot
    resize graphs whose node and edge counts vary (graph models)."""
    try:
        from ai_edge_litert.interpreter import OpResolverType
    except ImportError:
        return Interpreter(model_path=str(path))
    plain = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    return Interpreter(model_path=str(path), experimental_op_resolver_type=plain)


def _run_torch(path, data, notes):
    import torch

    module = torch.export.load(str(path)).module()
    inputs = keras.tree.map_structure(torch.from_numpy, data)
    with torch.no_grad():
        out = module(inputs)
    return [value.detach().cpu().numpy() for value in keras.tree.flatten(out)]


def _run_openvino(path, data, notes):
    import openvino

    # f32: on CPUs with bf16 units OpenVINO would otherwise compute in bf16.
    compiled = openvino.Core().compile_model(str(path), "CPU",
                                             {"INFERENCE_PRECISION_HINT": "f32"})
    names = [port.get_any_name() for port in compiled.inputs]
    feed = _feed_by_name(names, data)
    result = compiled([feed[name] for name in names])
    return [result[port] for port in _signature_outputs(compiled.outputs)]


def _signature_outputs(ports):
    """The model's outputs among an OpenVINO model's ports. Converted from a
    TensorFlow graph it also lists some shape scalars; the real outputs carry
    the SavedModel signature's names ``Identity``, ``Identity_1``, ..."""
    named = {}
    for port in ports:
        for name in port.get_names():
            match = re.fullmatch(r"Identity(?:_(\d+))?:0", name)
            if match:
                named[int(match.group(1) or 0)] = port
    return [named[i] for i in sorted(named)] if named else list(ports)


def export_cell(model, format, folder, data=None):
    """One cell of the export matrix: try ``format`` for ``model`` into ``folder``.

    Returns:
        A dict: ``format``, ``backend``, ``status`` (``"works"``: exported and
        within the tolerance; ``"refused"``: ``export_support`` says why;
        ``"over"``: exported but over the tolerance; ``"fails"``: the
        conversion or its runtime failed), ``max_abs_diff``, ``reason``,
        ``notes`` and ``seconds``.
    """
    cell = {"format": format, "backend": keras.backend.backend(), "status": "works",
            "max_abs_diff": None, "reason": None, "notes": [], "seconds": None}
    reason = export_support(model, format)
    if reason:
        cell.update(status="refused", reason=reason)
        return cell
    name = "artefact" + SUFFIXES.get(format, "")
    started = time.perf_counter()
    try:
        report = export(model, pathlib.Path(folder) / name, format, data=data, check=False)
    except ExportError as error:
        cell.update(status="fails", reason=str(error))
    else:
        cell.update(max_abs_diff=report.max_abs_diff, notes=report.notes,
                    status="works" if report.within_tolerance else "over")
    cell["seconds"] = round(time.perf_counter() - started, 2)
    return cell
