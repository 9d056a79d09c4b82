"""``zoo run --from FILE.keras [--lora R] [--quantize MODE]``: adapt and shrink a shared model.

``run_task`` calls these: the arguments are checked before the run
directory is claimed; the shared file is loaded with ``zoo.load``'s
checks; a text model reads the new data through the vocabulary its card
stores (``model.keras`` of a ``zoo run`` keeps it), so its token ids keep
their meaning; a different number of classes gets a new head
(``zoo.with_head``); LoRA trains adapters only and the run writes them
alone (``adapters.npz``) beside the merged model; quantization scores the
model again and writes ``model.<mode>.keras``.
"""

import dataclasses
import pathlib

import zoo
from zoo import validation as checks
from zoo.quantize import MODES as QUANTIZE_MODES
from zoo.untrusted import quoted

#: Build parameters that must agree between a shared model and the new data
#: (the rest, such as ``num_classes``, the run adapts or ignores).
MUST_MATCH = ("vocab_size", "max_length", "input_shape", "input_dim", "num_node_features",
              "sequence_length", "source_vocab_size", "target_vocab_size")


@dataclasses.dataclass
class SharedModel:
    """A ``.keras`` file to fine-tune: the model, its registry name and its card's vocabulary."""

    path: str
    model: object
    name: str
    vocabulary: list | None


def check_arguments(model, from_file, lora, quantize, overrides):
    """Refuse a bad combination before any work (one line, naming the value)."""
    if from_file is not None:
        if model is not None:
            raise ValueError("--from FILE.keras fine-tunes the file's own model; leave out "
                             f"--model. Received: --model {model!r} with --from {from_file!r}")
        if overrides:
            raise ValueError("--set changes how a model is built; a --from model is already "
                             f"built. Received: --set {', '.join(sorted(overrides))}")
        path = pathlib.Path(from_file)
        if not path.is_file():
            raise FileNotFoundError(f"--from: no such file {quoted(path)}. "
                                    f"Received: --from {str(from_file)!r}")
    if lora is not None:
        checks.positive_int("lora", lora)
        if from_file is None:
            raise ValueError("--lora adapts a trained model: give it with --from FILE.keras. "
                             f"Received: --lora {lora} without --from")
    if quantize is not None:
        checks.choice("quantize", quantize, QUANTIZE_MODES)


def load_shared(task, from_file):
    """The shared model, checked against the task (``zoo.load``'s checks first)."""
    model = zoo.load(from_file)
    name = zoo.spec_of(model).name
    task.check_model(name)
    card = zoo.read_card(from_file) or {}
    metadata = card.get("metadata") if isinstance(card.get("metadata"), dict) else card
    vocabulary = metadata.get("vocabulary") if isinstance(metadata, dict) else None
    if vocabulary is not None and not (isinstance(vocabulary, list)
                                       and all(isinstance(word, str) for word in vocabulary)):
        raise ValueError(f"--from {quoted(from_file)}: its card's vocabulary is not a list of "
                         f"words. Received: {type(vocabulary).__name__}")
    return SharedModel(path=str(from_file), model=model, name=name, vocabulary=vocabulary)


def prepare(shared, data, lora):
    """``(model to train, metrics entries)``: the shared model checked against the data,
    with a new head if the classes differ, with LoRA adapters if asked."""
    model, config = shared.model, dict(shared.model.zoo_config)
    for key in MUST_MATCH:
        if key in data.build_overrides and key in config:
            want, have = data.build_overrides[key], config[key]
            if _plain(want) != _plain(have):
                raise ValueError(
                    f"--from {quoted(shared.path)} was built with {key}={have!r}; this data "
                    f"needs {key}={want!r} (a text model keeps its vocabulary only where the "
                    f"task reads it: sentiment). Received: {key}={want!r}")
    before = set(id(layer) for layer in model._flatten_layers())
    entries = {"from": {"file": shared.path, "model": shared.name}}
    classes = data.build_overrides.get("num_classes")
    if classes is not None and config.get("num_classes") not in (None, classes):
        model = zoo.with_head(model, classes, freeze_encoder=False)
        entries["from"]["new_head"] = classes
    if lora is not None:
        new = [layer.name for layer in model.layers if id(layer) not in before]
        report = zoo.enable_lora(model, lora, train=tuple(new))
        entries["lora"] = {"rank": lora, "adapted_layers": len(report.adapted),
                           "trainable_params": report.trainable_params,
                           "total_params": report.total_params,
                           "trainable_fraction": round(report.trainable_fraction, 4)}
    return model, entries


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def save_lora(model, out):
    """Write the adapters alone (``adapters.npz``), then fold them into the model."""
    path = pathlib.Path(out) / "adapters.npz"
    zoo.save_adapters(model, path)
    zoo.merge_lora(model)
    return {"adapters_file": path.name, "adapters_bytes": path.stat().st_size}


def quantize_run(model, data, out, mode, scores, card):
    """Quantize the trained model in place, score it again, save it; the metrics entry.

    The sizes compared are of inference files, float and quantized alike: the
    optimizer's trained slots are dropped first (they belong to float weights
    that quantization removes), so the ratio is the weights' alone.
    """
    import tempfile

    _fresh_optimizer(model)
    with tempfile.TemporaryDirectory() as folder:
        float_file = pathlib.Path(folder) / "float.keras"
        zoo.save(model, str(float_file))
        float_bytes = float_file.stat().st_size
    report = zoo.quantize(model, mode)
    after = data.evaluate(model)
    path = pathlib.Path(out) / f"model.{mode}.keras"
    zoo.save(model, str(path), metadata=zoo.to_jsonable({**card, "metrics": after,
                                                         "quantized": mode}))
    return {"mode": mode, "layers": len(report.quantized), "skipped": len(report.skipped),
            "metric": data.metric, "before": scores[data.metric], "after": after[data.metric],
            "test_after": after, "parameter_bytes_before": report.bytes_before,
            "parameter_bytes_after": report.bytes_after, "file": path.name,
            "file_bytes_before": float_bytes, "file_bytes_after": path.stat().st_size}


def _fresh_optimizer(model):
    if model.optimizer is not None:
        model.optimizer = type(model.optimizer).from_config(model.optimizer.get_config())
