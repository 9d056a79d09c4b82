"""Transfer learning: a new classifier head on a zoo model's encoder, and its block features.

``with_head(model, num_classes)`` takes a classifier, a tagger, an
autoencoder or a graph model and returns a new compiled ``ZooModel`` whose
output is a fresh head over the model's code: the tensor of the layer named
``code`` (``zoo.encoder``), which every builder routes its representation
through (the pooled vector that feeds a classifier's head, an
autoencoder's bottleneck, a VAE's posterior mean, a graph encoder's node or
graph embeddings). ``features(model)`` maps the inputs to every block's
output on the way to that code, like timm's ``features_only``.

Blocks are found structurally: the layers on the path from the inputs to
the code whose class is one of ``BLOCK_TYPES`` (recurrent layers, 1D/2D/3D
convolutions, dense layers, Transformer blocks, message-passing layers,
global pooling and graph readouts), in graph order, then the code layers.
"""

import collections

import keras

from zoo import keras_compat, validation
from zoo.layers import MaskedGlobalPooling1D, TransformerDecoderBlock, TransformerEncoderBlock
from zoo.model import ZooModel, code_layers, encoder, sub_model
from zoo.models.classifier.common import compile_classifier, compile_tagger
from zoo.models.graph.common import compile_graph_classifier
from zoo.models.graph.layers import GraphReadout, MessagePassing, SplitBatch
from zoo.models.graph.model import GraphModel
from zoo.registry import spec_of
from zoo.untrusted import quoted

#: Layer classes whose outputs ``features`` returns (when they lie between
#: the inputs and the code).
BLOCK_TYPES = (
    keras.layers.RNN, keras.layers.Bidirectional,
    keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D, keras.layers.Dense,
    TransformerEncoderBlock, TransformerDecoderBlock, MessagePassing,
    keras.layers.GlobalAveragePooling1D, keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalAveragePooling3D, keras.layers.GlobalMaxPooling1D,
    keras.layers.GlobalMaxPooling2D, keras.layers.GlobalMaxPooling3D,
    MaskedGlobalPooling1D, GraphReadout,
)

#: What ``with_head`` puts on each kind of code (``zoo_config["head"]`` of the result).
HEAD_KINDS = ("per_sample", "per_token", "per_node", "per_graph")

SUPPORTED = ("sequence and image classifiers, taggers, autoencoders (dense, conv, denoising, "
             "variational, LSTM) and graph models (node, graph and link)")


def _refreeze(model):
    """Set ``trainable=False`` again on every frozen layer of ``model``.

    Keras restores ``trainable: false`` from a config on a layer but not on
    the sublayers of a composite one (a Transformer block, a GIN MLP), whose
    variables would then train again after ``zoo.load``; the setter reaches
    them (each one, found through every level of nesting).
    """
    for layer in model.layers:
        if not layer.trainable:
            for sublayer in keras_compat.sublayers(layer):
                sublayer.trainable = False


@keras.saving.register_keras_serializable(package="zoo")
class TransferModel(ZooModel):
    """The ``ZooModel`` that ``with_head`` returns: frozen layers stay frozen when loaded.

    Args:
        inputs, outputs, zoo_name, zoo_config: as for ``ZooModel``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _refreeze(self)


@keras.saving.register_keras_serializable(package="zoo")
class TransferGraphModel(GraphModel):
    """``TransferModel`` for graph encoders: a ``GraphModel`` (it checks graph batches).

    Args:
        inputs, outputs, zoo_name, zoo_config: as for ``ZooModel``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _refreeze(self)


def _name(model):
    return quoted(getattr(model, "zoo_name", None) or getattr(model, "name", model))


def _check_model(model, function):
    if not isinstance(model, keras.Model):
        raise ValueError(f"`model` must be a keras.Model built by zoo.build or loaded by "
                         f"zoo.load. Received: model={model!r}")
    try:
        generation = spec_of(model).capabilities.generation
    except ValueError:
        generation = None  # not a registered zoo model: judged by its layers alone
    if generation is not None:
        raise ValueError(f"{function} supports {SUPPORTED}; model {_name(model)} generates "
                         f"({generation}): it has no single encoder representation. "
                         f"Received: model={_name(model)}")
    layers = code_layers(model)
    if not layers:
        raise ValueError(f"{function} needs a model with a code layer (a layer named 'code'); "
                         f"model {_name(model)} has none. Received: model={_name(model)}")
    return layers


def _code_tensor(model):
    """The single code tensor of ``model`` (``with_head`` refuses several parts)."""
    layers = _check_model(model, "with_head")
    if len(layers) != 1 or len(layers[0].output.shape) not in (2, 3):
        parts = ", ".join(layer.name for layer in layers)
        raise ValueError(f"with_head supports {SUPPORTED}; model {_name(model)} has a code of "
                         f"several parts or an unexpected rank ({parts}). "
                         f"Received: model={_name(model)}")
    return layers[0].output


def _clone(model):
    """An independent copy of ``model``: same layers (by name), copied weights."""
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    return clone


def _head_kind(model, encoder_model):
    code = encoder_model.outputs[0]
    if isinstance(model, GraphModel):
        readout = any(isinstance(layer, GraphReadout) for layer in encoder_model.layers)
        return "per_graph" if readout else "per_node"
    return "per_token" if len(code.shape) == 3 else "per_sample"


def with_head(model, num_classes, freeze_encoder=True, dropout=0.0, name=None):
    """A new compiled classifier on ``model``'s encoder (its ``code``), with a fresh head.

    The head follows the conventions of the zoo's own models of that
    kind: one row per sample (classifiers, autoencoders): one sigmoid unit
    with binary cross-entropy for 2 classes, a softmax with sparse
    categorical cross-entropy above (output ``probabilities``); one row
    per token (taggers): a softmax over ``num_classes + 1`` where class 0
    is padding and real tags are ``1 .. num_classes`` (output
    ``tag_probabilities``, padding left out of the loss); one row per node
    or per graph (graph models, readout or not): a softmax over
    ``num_classes`` whatever their number, label -1 = unlabelled (output
    ``node_probabilities`` or ``graph_probabilities``, shaped like the
    graph classifiers' ``[1, N or G, num_classes]``). Accuracy is the
    metric throughout.

    ``model`` itself is never changed: the new model is built on a copy of
    it (same layer names, copied weights), so training the new model, with
    its encoder frozen or not, leaves ``model``'s weights and trainable
    flags as they were. The encoder keeps its layer names, so
    ``zoo.encoder(new)`` and ``features(new)`` work on the result.

    The result has no registry entry (``zoo.spec_of(new)`` raises): its
    ``zoo_name`` is ``None`` and its ``zoo_config`` describes it:
    ``{"base_name", "base_config", "head", "num_classes", "freeze_encoder",
    "dropout"}`` (``zoo.get_spec(new.zoo_config["base_name"])`` is the spec
    of the model it came from). It saves with ``zoo.save`` and loads with
    ``zoo.load`` like any zoo model; frozen layers stay frozen.

    Args:
        model: a zoo model (``zoo.build`` or ``zoo.load``) with one code
            tensor: a classifier, tagger, autoencoder or graph model.
        num_classes: classes of the new head, an integer >= 2.
        freeze_encoder: make every encoder layer non-trainable (``False``:
            fine-tune them with the head).
        dropout: dropout on the code before the head, in [0, 1).
        name: name of the new model (default ``<model name>_head``).

    Returns:
        A compiled ``TransferModel`` (a ``ZooModel``), or for graph models a
        ``TransferGraphModel`` (a ``GraphModel``).

    Raises:
        ValueError: ``num_classes`` is not an integer >= 2, or ``model``
            has no single code to put a head on (seq2seq models, language
            models, models without a ``code`` layer).

    >>> import zoo
    >>> from zoo.transfer import with_head
    >>> classifier = with_head(zoo.build("dense_autoencoder", size="toy"), num_classes=3)
    >>> classifier.output_shape, classifier.zoo_config["head"]
    ((None, 3), 'per_sample')
    """
    num_classes = validation.num_classes("num_classes", num_classes)
    freeze_encoder = validation.boolean("freeze_encoder", freeze_encoder)
    dropout = validation.rate("dropout", dropout)
    if name is not None and not isinstance(name, str):
        raise ValueError(f"`name` must be a string or None. Received: name={name!r}")
    _code_tensor(model)  # refuses what has no single code before anything is copied
    base = _clone(model)
    base_encoder = encoder(base)
    kind = _head_kind(base, base_encoder)
    code = base_encoder.outputs[0]
    x = keras.layers.Dropout(dropout, name="transfer_head_dropout")(code) if dropout else code
    if kind == "per_sample":
        binary = num_classes == 2
        outputs = keras.layers.Dense(1 if binary else num_classes,
                                     activation="sigmoid" if binary else "softmax",
                                     dtype="float32", name="probabilities")(x)
    elif kind == "per_token":
        outputs = keras.layers.Dense(num_classes + 1, activation="softmax", dtype="float32",
                                     name="tag_probabilities")(x)
    else:
        inputs = {tensor.name: tensor for tensor in base.inputs}
        reference = inputs["graph_sizes" if kind == "per_graph" else "node_features"]
        x = keras.layers.Dense(num_classes, activation="softmax", dtype="float32",
                               name="classifier")(x)
        level = "graph" if kind == "per_graph" else "node"
        outputs = SplitBatch(name=f"{level}_probabilities", dtype="float32")([x, reference])
    inputs = sub_model(base, outputs, name="inputs_of_head").inputs
    inputs = inputs[0] if len(inputs) == 1 else {tensor.name: tensor for tensor in inputs}
    model_class = TransferGraphModel if isinstance(base, GraphModel) else TransferModel
    config = {"base_name": getattr(model, "zoo_name", None),
              "base_config": dict(getattr(model, "zoo_config", None) or {}),
              "head": kind, "num_classes": num_classes, "freeze_encoder": freeze_encoder,
              "dropout": dropout}
    new = model_class(inputs, outputs, name=name or f"{model.name}_head", zoo_config=config)
    encoder_layers = {id(layer) for layer in base_encoder.layers}
    for layer in new.layers:
        if id(layer) in encoder_layers and not isinstance(layer, keras.layers.InputLayer):
            layer.trainable = not freeze_encoder
    if kind == "per_sample":
        compile_classifier(new, num_classes=num_classes)
    elif kind == "per_token":
        compile_tagger(new)
    else:
        compile_graph_classifier(new)
    return new


def features(model):
    """A functional model from ``model``'s inputs to every block's output, by name.

    The blocks are the layers between the inputs and the code whose class
    is one of ``BLOCK_TYPES`` (each recurrent layer, convolution, dense
    layer, Transformer block or message-passing layer, then the global
    pooling or graph readout), in graph order, followed by the code layers
    (``code``, or ``code_*`` for a code of several parts): the last entry
    is what ``zoo.encoder(model)`` returns. Keys are layer names; the
    values keep each layer's own shape (``[batch, ...]``; a graph model's
    node states are ``[num_nodes, channels]`` over the whole batch of
    graphs, its readout ``[num_graphs, channels]``).

    The feature model shares its weights with ``model`` (like
    ``zoo.encoder``): it is a view, not a copy.

    Args:
        model: a zoo model with a ``code`` layer; seq2seq models and
            language models are refused, as by ``with_head``.

    Returns:
        A ``keras.Model`` (a ``GraphModel`` for graph models, which takes a
        whole ``zoo.batch_graphs`` batch) whose output is an ordered dict
        ``{layer name: tensor}``.

    Raises:
        ValueError: ``model`` has no code layer or generates.

    >>> import zoo
    >>> from zoo.transfer import features
    >>> list(features(zoo.build("cnn2d_classifier", size="toy")).output)
    ['conv_0', 'conv_1', 'mean_pooling', 'code']
    """
    codes = _check_model(model, "features")
    code_ids = {id(layer) for layer in codes}
    path = sub_model(model, {layer.name: layer.output for layer in codes},
                     name=f"{model.name}_path")
    outputs = collections.OrderedDict()
    for layer in path.layers:
        if isinstance(layer, BLOCK_TYPES) and id(layer) not in code_ids:
            outputs[layer.name] = layer.output
    for layer in codes:
        outputs[layer.name] = layer.output
    if isinstance(model, GraphModel):
        # A GraphModel checks the batch and drops the fields it does not take.
        inputs = sub_model(model, outputs, name=f"{model.name}_features").inputs
        return GraphModel({tensor.name: tensor for tensor in inputs}, outputs,
                          name=f"{model.name}_features")
    return sub_model(model, outputs, name=f"{model.name}_features")


__all__ = ["BLOCK_TYPES", "HEAD_KINDS", "TransferGraphModel", "TransferModel", "features",
           "with_head"]
