"""Encoder-only family: sequence, image and token classifiers, and taggers.

Conventions: token id 0 is padding and never changes a prediction; every
model routes its pooled embedding (per-token states for taggers) through a
layer named ``code``; the head is float32 even under a mixed-precision
policy. Two classes get one sigmoid unit, more get a softmax. Taggers
predict ``num_tags + 1`` classes per token: class 0 is padding (targets use
0 at padded positions; it is left out of the loss and the accuracy) and
real tags are ``1 .. num_tags``.
"""

import keras
import numpy as np
from keras import layers

from zoo import losses, search_spaces, validation
from zoo.layers.masking import MaskedGlobalPooling1D, PaddingMask, ZeroMasked
from zoo.layers.transformer import PositionEmbedding, TransformerEncoderBlock
from zoo.model import CODE_LAYER_NAME, ZooModel
from zoo.registry import Capabilities, register_model

INPUT_TYPES = ("tokens", "features")
CELLS = {"simple": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}
POOLINGS = ("last", "mean", "max")


# --- compiling ------------------------------------------------------------------------------


def compile_classifier(model, num_classes=2, learning_rate=1e-3, jit_compile="auto"):
    validation.positive_int("num_classes", num_classes)
    if num_classes == 2:
        loss = keras.losses.BinaryCrossentropy()
        metrics = [keras.metrics.BinaryAccuracy(name="accuracy")]
    else:
        loss = keras.losses.SparseCategoricalCrossentropy()
        metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    losses.compile_model(model, loss=loss, metrics=metrics, learning_rate=learning_rate,
                         jit_compile=jit_compile)


def compile_tagger(model, learning_rate=1e-3, jit_compile="auto"):
    losses.compile_token_model(model, from_logits=False, learning_rate=learning_rate,
                               jit_compile=jit_compile)


# --- shared pieces --------------------------------------------------------------------------


def _check_num_classes(num_classes):
    num_classes = validation.positive_int("num_classes", num_classes)
    if num_classes < 2:
        raise ValueError(f"`num_classes` must be at least 2. Received: num_classes={num_classes}")
    return num_classes


def _check_image_shape(image_shape):
    shape = validation.positive_int_tuple("image_shape", image_shape)
    if len(shape) != 3:
        raise ValueError("`image_shape` must be (height, width, channels). "
                         f"Received: image_shape={image_shape!r}")
    return shape


def _check_heads(embedding_dim, num_heads):
    if embedding_dim % num_heads:
        raise ValueError(f"`num_heads` must divide embedding_dim={embedding_dim}. "
                         f"Received: num_heads={num_heads}")


def _check_odd(name, value):
    value = validation.positive_int(name, value)
    if value % 2 == 0:
        raise ValueError(f"`{name}` must be odd so 'same' padding is symmetric. "
                         f"Received: {name}={value}")
    return value


def _sequence_inputs(input_type, vocab_size, num_features, embedding_dim, mask_zero):
    """(input tensor, embedded sequence, explicit bool mask or None)."""
    validation.choice("input_type", input_type, INPUT_TYPES)
    # Every size is checked, including those the chosen input type ignores.
    vocab_size = validation.positive_int("vocab_size", vocab_size)
    embedding_dim = validation.positive_int("embedding_dim", embedding_dim)
    if num_features is not None:
        num_features = validation.positive_int("num_features", num_features)
    if input_type == "tokens":
        tokens = keras.Input((None,), dtype="int32", name="tokens")
        x = layers.Embedding(vocab_size, embedding_dim, mask_zero=mask_zero,
                             name="token_embedding")(tokens)
        return tokens, x, PaddingMask(name="padding_mask")(tokens)
    features = keras.Input((None, num_features), name="features")
    return features, features, None


def _pool(x, mask, mode):
    if mask is not None:
        return MaskedGlobalPooling1D(mode, name=f"{mode}_pooling")([x, mask])
    pooling = layers.GlobalAveragePooling1D if mode == "mean" else layers.GlobalMaxPooling1D
    return pooling(name=f"{mode}_pooling")(x)


def _classifier_head(pooled, num_classes, dropout, inputs, name):
    code = layers.Identity(name=CODE_LAYER_NAME)(pooled)
    x = layers.Dropout(dropout, name="head_dropout")(code) if dropout else code
    if num_classes == 2:
        outputs = layers.Dense(1, activation="sigmoid", dtype="float32",
                               name="probabilities")(x)
    else:
        outputs = layers.Dense(num_classes, activation="softmax", dtype="float32",
                               name="probabilities")(x)
    return ZooModel(inputs, outputs, name=name)


def _tagger_head(states, num_tags, dropout, inputs, name):
    code = layers.Identity(name=CODE_LAYER_NAME)(states)
    x = layers.Dropout(dropout, name="head_dropout")(code) if dropout else code
    outputs = layers.Dense(num_tags + 1, activation="softmax", dtype="float32",
                           name="tag_probabilities")(x)
    return ZooModel(inputs, outputs, name=name)


def _transformer_stack(x, mask, embedding_dim, num_heads, ff_dim, num_layers, dropout,
                       max_length):
    x = PositionEmbedding(max_length, name="position_embedding")(x)
    if dropout:
        x = layers.Dropout(dropout, name="embedding_dropout")(x)
    for i in range(num_layers):
        x = TransformerEncoderBlock(num_heads, ff_dim, dropout=dropout,
                                    name=f"encoder_block_{i}")(x, padding_mask=mask)
    return layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)


def _check_transformer(embedding_dim, num_heads, ff_dim, num_layers, dropout, max_length):
    embedding_dim = validation.positive_int("embedding_dim", embedding_dim)
    num_heads = validation.positive_int("num_heads", num_heads)
    _check_heads(embedding_dim, num_heads)
    return (embedding_dim, num_heads, validation.positive_int("ff_dim", ff_dim),
            validation.positive_int("num_layers", num_layers),
            validation.rate("dropout", dropout),
            validation.positive_int("max_length", max_length))


# --- example data ---------------------------------------------------------------------------


def _random_tokens(rng, n, length, vocab_size):
    tokens = rng.integers(1, vocab_size, size=(n, length)).astype("int32")
    lengths = rng.integers(2, length + 1, size=n)
    tokens[np.arange(length)[None, :] >= lengths[:, None]] = 0
    return tokens


def sequence_example_data(params, n, seed, length=9):
    rng = np.random.default_rng(seed)
    if params.get("input_type", "tokens") == "tokens":
        x = _random_tokens(rng, n, min(length, params.get("max_length", length)),
                           params["vocab_size"])
    else:
        x = rng.normal(size=(n, length, params["num_features"])).astype("float32")
    y = rng.integers(0, params["num_classes"], size=(n,))
    return x, (y[:, None] if params["num_classes"] == 2 else y).astype("int32")


def image_example_data(params, n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, *params["image_shape"])).astype("float32")
    return x, rng.integers(0, params["num_classes"], size=(n,)).astype("int32")


def tagging_example_data(params, n, seed, length=9):
    rng = np.random.default_rng(seed)
    tokens = _random_tokens(rng, n, min(length, params.get("max_length", length)),
                            params["vocab_size"])
    tags = rng.integers(1, params["num_tags"] + 1, size=tokens.shape).astype("int32")
    return tokens, np.where(tokens == 0, 0, tags)


# --- search spaces --------------------------------------------------------------------------


def _conv_space(hp):
    depth = hp.Int("depth", 1, 3)
    return {
        "filters": tuple(hp.Int(f"filters_{i}", 16, 256, sampling="log") for i in range(depth)),
        "kernel_size": hp.Choice("kernel_size", [3, 5, 7]),
        "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1),
        "learning_rate": hp.Float("learning_rate", 1e-4, 1e-2, sampling="log"),
    }


# --- recurrent ------------------------------------------------------------------------------

_TOKEN_OR_SERIES = {
    "tokens": "int32 [batch, length], 0 = padding (input_type='tokens')",
    "features": "float32 [batch, length, num_features] (input_type='features')",
}
_CLASS_PROBABILITIES = {
    "probabilities": "float32 [batch, 1] (2 classes, sigmoid) or [batch, num_classes] (softmax)"
}


@register_model(
    "rnn_classifier",
    family="classifier",
    task="classification",
    inputs=_TOKEN_OR_SERIES,
    outputs=_CLASS_PROBABILITIES,
    description="Recurrent sequence classifier over token ids (padding masked) or float "
                "series: stacked RNN layers, final state or pooled states, classifier head.",
    citation="Elman, Finding Structure in Time, 1990; Hochreiter & Schmidhuber, Long "
             "Short-Term Memory, 1997; Cho et al., 2014 (GRU); Schuster & Paliwal, 1997 "
             "(bidirectional).",
    compiler=compile_classifier,
    search_space=search_spaces.recurrent,
    capabilities=Capabilities(input_kinds=("tokens", "series")),
    sizes={"toy": {"vocab_size": 20, "embedding_dim": 6, "units": 5, "num_layers": 2}},
    example_data=sequence_example_data,
    presets={
        "lstm_classifier": {"cell": "lstm", "description": "LSTM sequence classifier."},
        "gru_classifier": {"cell": "gru", "description": "GRU sequence classifier."},
        "bilstm_classifier": {"cell": "lstm", "bidirectional": True,
                              "description": "Bidirectional LSTM sequence classifier."},
    },
)
def recurrent_classifier(cell="simple", bidirectional=False, input_type="tokens",
                         vocab_size=20000, num_features=1, embedding_dim=128, units=128,
                         num_layers=1, pooling="last", dropout=0.0, num_classes=2):
    """Recurrent classifier.

    Args:
        cell: ``simple`` (Elman RNN), ``lstm`` or ``gru``.
        bidirectional: read the sequence both ways and concatenate.
        input_type: ``tokens`` (int ids, embedded, 0 masked) or ``features``
            (float series ``[length, num_features]``).
        vocab_size: token ids are in ``[0, vocab_size)`` (tokens only).
        num_features: values per time step (features only).
        embedding_dim: token embedding width (tokens only).
        units: recurrent units per layer (and direction).
        num_layers: stacked recurrent layers.
        pooling: ``last`` (final state), ``mean`` or ``max`` over the
            non-padded states.
        dropout: dropout between layers and before the head.
        num_classes: 2 for a sigmoid head, more for a softmax.

    >>> import zoo
    >>> model = zoo.build("lstm_classifier", vocab_size=5000, num_classes=4)
    """
    validation.choice("cell", cell, tuple(CELLS))
    validation.choice("pooling", pooling, POOLINGS)
    units = validation.positive_int("units", units)
    num_layers = validation.positive_int("num_layers", num_layers)
    dropout = validation.rate("dropout", dropout)
    num_classes = _check_num_classes(num_classes)
    if not isinstance(bidirectional, bool):
        raise ValueError(f"`bidirectional` must be True or False. "
                         f"Received: bidirectional={bidirectional!r}")
    inputs, x, mask = _sequence_inputs(input_type, vocab_size, num_features, embedding_dim,
                                       mask_zero=True)
    for i in range(num_layers):
        last = i == num_layers - 1
        rnn = CELLS[cell](units, return_sequences=not (last and pooling == "last"),
                          name=f"{cell}_{i}")
        if bidirectional:
            rnn = layers.Bidirectional(rnn, name=f"bidirectional_{cell}_{i}")
        x = rnn(x)
        if dropout and not last:
            x = layers.Dropout(dropout, name=f"dropout_{i}")(x)
    if pooling != "last":
        x = _pool(x, mask, pooling)
    name = ("bi" if bidirectional else "") + ("rnn" if cell == "simple" else cell) + "_classifier"
    return _classifier_head(x, num_classes, dropout, inputs, name)


# --- convolutional --------------------------------------------------------------------------


@register_model(
    "cnn1d_classifier",
    family="classifier",
    task="classification",
    inputs=_TOKEN_OR_SERIES,
    outputs=_CLASS_PROBABILITIES,
    description="1D convolutional classifier for local patterns in text or series: "
                "'same' convolutions with padding held at zero, then masked global pooling.",
    citation="Kim, Convolutional Neural Networks for Sentence Classification, EMNLP 2014.",
    compiler=compile_classifier,
    search_space=_conv_space,
    capabilities=Capabilities(input_kinds=("tokens", "series")),
    sizes={"toy": {"vocab_size": 20, "embedding_dim": 6, "filters": (5, 4), "kernel_size": 3}},
    example_data=sequence_example_data,
)
def cnn1d_classifier(input_type="tokens", vocab_size=20000, num_features=1, embedding_dim=128,
                     filters=(128, 128), kernel_size=5, activation="relu", pooling="max",
                     dropout=0.0, num_classes=2):
    """1D CNN classifier.

    Args:
        input_type: ``tokens`` or ``features`` (see ``rnn_classifier``).
        vocab_size: token ids are in ``[0, vocab_size)`` (tokens only).
        num_features: values per time step (features only).
        embedding_dim: token embedding width (tokens only).
        filters: filters of each convolution, in order.
        kernel_size: odd window of every convolution.
        activation: convolution activation.
        pooling: ``max`` or ``mean`` over the non-padded positions.
        dropout: dropout before the head.
        num_classes: 2 for a sigmoid head, more for a softmax.

    >>> model = zoo.build("cnn1d_classifier", vocab_size=5000, filters=(64, 64))
    """
    filters = validation.positive_int_tuple("filters", filters)
    if not filters:
        raise ValueError(f"`filters` needs at least one convolution. Received: filters={filters!r}")
    kernel_size = _check_odd("kernel_size", kernel_size)
    activation = validation.activation("activation", activation)
    validation.choice("pooling", pooling, ("max", "mean"))
    dropout = validation.rate("dropout", dropout)
    num_classes = _check_num_classes(num_classes)
    inputs, x, mask = _sequence_inputs(input_type, vocab_size, num_features, embedding_dim,
                                       mask_zero=False)
    if mask is not None:
        x = ZeroMasked(name="zero_padding_embedding")([x, mask])
    for i, width in enumerate(filters):
        x = layers.Conv1D(width, kernel_size, padding="same", activation=activation,
                          name=f"conv_{i}")(x)
        if mask is not None:
            x = ZeroMasked(name=f"zero_padding_{i}")([x, mask])
    return _classifier_head(_pool(x, mask, pooling), num_classes, dropout, inputs,
                            "cnn1d_classifier")


@register_model(
    "cnn2d_classifier",
    family="classifier",
    task="classification",
    inputs={"images": "float32 [batch, height, width, channels]"},
    outputs=_CLASS_PROBABILITIES,
    description="2D convolutional image classifier: conv + max-pool stages, global "
                "average pooling, classifier head.",
    citation="LeCun et al., Gradient-Based Learning Applied to Document Recognition, 1998.",
    compiler=compile_classifier,
    search_space=_conv_space,
    capabilities=Capabilities(input_kinds=("images",)),
    sizes={"toy": {"image_shape": (8, 8, 1), "filters": (4, 6), "num_classes": 3}},
    example_data=image_example_data,
)
def cnn2d_classifier(image_shape=(28, 28, 1), filters=(32, 64), kernel_size=3,
                     activation="relu", dropout=0.0, num_classes=10):
    """2D CNN classifier.

    Args:
        image_shape: ``(height, width, channels)``.
        filters: filters of each conv stage (each halves the resolution).
        kernel_size: convolution window.
        activation: convolution activation.
        dropout: dropout before the head.
        num_classes: 2 for a sigmoid head, more for a softmax.

    >>> model = zoo.build("cnn2d_classifier", image_shape=(32, 32, 3))
    """
    image_shape = _check_image_shape(image_shape)
    filters = validation.positive_int_tuple("filters", filters)
    kernel_size = validation.positive_int("kernel_size", kernel_size)
    activation = validation.activation("activation", activation)
    dropout = validation.rate("dropout", dropout)
    num_classes = _check_num_classes(num_classes)
    if 2 ** len(filters) > min(image_shape[:2]):
        raise ValueError(f"{len(filters)} conv stages halve {image_shape[:2]} below one pixel. "
                         f"Received: filters={filters!r}")
    images = keras.Input(image_shape, name="images")
    x = images
    for i, width in enumerate(filters):
        x = layers.Conv2D(width, kernel_size, padding="same", activation=activation,
                          name=f"conv_{i}")(x)
        x = layers.MaxPooling2D(name=f"pool_{i}")(x)
    x = layers.GlobalAveragePooling2D(name="mean_pooling")(x)
    return _classifier_head(x, num_classes, dropout, images, "cnn2d_classifier")


# --- transformers ---------------------------------------------------------------------------


@register_model(
    "transformer_classifier",
    family="classifier",
    task="classification",
    inputs={"tokens": "int32 [batch, length <= max_length], 0 = padding"},
    outputs=_CLASS_PROBABILITIES,
    description="Transformer encoder classifier: token + learned position embedding, "
                "pre-norm encoder blocks with padding-masked self-attention, masked mean "
                "pooling, classifier head.",
    citation="Vaswani et al., Attention Is All You Need, NeurIPS 2017; Devlin et al., "
             "BERT, NAACL 2019.",
    compiler=compile_classifier,
    search_space=search_spaces.transformer,
    capabilities=Capabilities(input_kinds=("tokens",)),
    sizes={"toy": {"vocab_size": 20, "max_length": 16, "embedding_dim": 8, "num_heads": 2,
         "ff_dim": 12, "num_layers": 2}},
    example_data=sequence_example_data,
)
def transformer_classifier(vocab_size=20000, max_length=256, embedding_dim=128, num_heads=4,
                           ff_dim=256, num_layers=2, dropout=0.1, pooling="mean",
                           num_classes=2):
    """Transformer encoder classifier.

    Args:
        vocab_size: token ids are in ``[0, vocab_size)``; 0 is padding.
        max_length: longest input (learned positions).
        embedding_dim: model width; ``num_heads`` must divide it.
        num_heads: attention heads.
        ff_dim: feed-forward hidden width.
        num_layers: encoder blocks.
        dropout: dropout in blocks and before the head.
        pooling: ``mean`` or ``max`` over the non-padded tokens.
        num_classes: 2 for a sigmoid head, more for a softmax.

    >>> model = zoo.build("transformer_classifier", vocab_size=5000, num_heads=8)
    """
    embedding_dim, num_heads, ff_dim, num_layers, dropout, max_length = _check_transformer(
        embedding_dim, num_heads, ff_dim, num_layers, dropout, max_length)
    validation.choice("pooling", pooling, ("mean", "max"))
    num_classes = _check_num_classes(num_classes)
    tokens, x, mask = _sequence_inputs("tokens", vocab_size, None, embedding_dim,
                                       mask_zero=False)
    x = _transformer_stack(x, mask, embedding_dim, num_heads, ff_dim, num_layers, dropout,
                           max_length)
    return _classifier_head(_pool(x, mask, pooling), num_classes, dropout, tokens,
                            "transformer_classifier")


@register_model(
    "vit_classifier",
    family="classifier",
    task="classification",
    inputs={"images": "float32 [batch, height, width, channels]"},
    outputs=_CLASS_PROBABILITIES,
    description="Vision Transformer: non-overlapping patches embedded linearly, learned "
                "positions, Transformer encoder blocks, mean pooling, classifier head.",
    citation="Dosovitskiy et al., An Image is Worth 16x16 Words, ICLR 2021.",
    compiler=compile_classifier,
    search_space=search_spaces.transformer,
    capabilities=Capabilities(input_kinds=("images",)),
    sizes={"toy": {"image_shape": (8, 8, 1), "patch_size": 4, "embedding_dim": 8, "num_heads": 2,
         "ff_dim": 12, "num_layers": 1, "num_classes": 3}},
    example_data=image_example_data,
)
def vit_classifier(image_shape=(28, 28, 1), patch_size=4, embedding_dim=64, num_heads=4,
                   ff_dim=128, num_layers=4, dropout=0.1, num_classes=10):
    """Vision Transformer classifier.

    Args:
        image_shape: ``(height, width, channels)``; ``patch_size`` must
            divide height and width.
        patch_size: side of the square patches.
        embedding_dim: model width; ``num_heads`` must divide it.
        num_heads: attention heads.
        ff_dim: feed-forward hidden width.
        num_layers: encoder blocks.
        dropout: dropout in blocks and before the head.
        num_classes: 2 for a sigmoid head, more for a softmax.

    >>> model = zoo.build("vit_classifier", image_shape=(32, 32, 3), patch_size=8)
    """
    image_shape = _check_image_shape(image_shape)
    patch_size = validation.positive_int("patch_size", patch_size)
    if image_shape[0] % patch_size or image_shape[1] % patch_size:
        raise ValueError(f"`patch_size` must divide the image size {image_shape[:2]}. "
                         f"Received: patch_size={patch_size}")
    num_patches = (image_shape[0] // patch_size) * (image_shape[1] // patch_size)
    embedding_dim, num_heads, ff_dim, num_layers, dropout, _ = _check_transformer(
        embedding_dim, num_heads, ff_dim, num_layers, dropout, num_patches)
    num_classes = _check_num_classes(num_classes)
    images = keras.Input(image_shape, name="images")
    x = layers.Conv2D(embedding_dim, patch_size, strides=patch_size,
                      name="patch_embedding")(images)
    x = layers.Reshape((num_patches, embedding_dim), name="patch_sequence")(x)
    x = _transformer_stack(x, None, embedding_dim, num_heads, ff_dim, num_layers, dropout,
                           num_patches)
    x = layers.GlobalAveragePooling1D(name="mean_pooling")(x)
    return _classifier_head(x, num_classes, dropout, images, "vit_classifier")


# --- taggers --------------------------------------------------------------------------------

_TAG_OUTPUTS = {"tag_probabilities": "float32 [batch, length, num_tags + 1]; class 0 = padding"}


@register_model(
    "lstm_tagger",
    family="classifier",
    task="tagging",
    inputs={"tokens": "int32 [batch, length], 0 = padding"},
    outputs=_TAG_OUTPUTS,
    description="Token tagger (named-entity style): embedding, (bi)LSTM states, one "
                "label per token; padding is masked out of the loss and the accuracy.",
    citation="Huang, Xu & Yu, Bidirectional LSTM-CRF Models for Sequence Tagging, 2015 "
             "(without the CRF).",
    compiler=compile_tagger,
    search_space=search_spaces.recurrent,
    capabilities=Capabilities(input_kinds=("tokens",)),
    sizes={"toy": {"vocab_size": 20, "embedding_dim": 6, "units": 5, "num_tags": 4}},
    example_data=tagging_example_data,
)
def lstm_tagger(vocab_size=20000, embedding_dim=128, units=128, num_layers=1,
                bidirectional=True, dropout=0.0, num_tags=9):
    """LSTM tagger.

    Args:
        vocab_size: token ids are in ``[0, vocab_size)``; 0 is padding.
        embedding_dim: token embedding width.
        units: LSTM units per layer and direction.
        num_layers: stacked LSTM layers.
        bidirectional: read both ways (the usual choice for tagging).
        dropout: dropout between layers and before the head.
        num_tags: real tags, numbered ``1 .. num_tags`` (0 marks padding).

    >>> model = zoo.build("lstm_tagger", vocab_size=5000, num_tags=9)
    """
    units = validation.positive_int("units", units)
    num_layers = validation.positive_int("num_layers", num_layers)
    dropout = validation.rate("dropout", dropout)
    num_tags = validation.positive_int("num_tags", num_tags)
    tokens, x, _ = _sequence_inputs("tokens", vocab_size, None, embedding_dim, mask_zero=True)
    for i in range(num_layers):
        rnn = layers.LSTM(units, return_sequences=True, name=f"lstm_{i}")
        if bidirectional:
            rnn = layers.Bidirectional(rnn, name=f"bidirectional_lstm_{i}")
        x = rnn(x)
        if dropout and i < num_layers - 1:
            x = layers.Dropout(dropout, name=f"dropout_{i}")(x)
    return _tagger_head(x, num_tags, dropout, tokens, "lstm_tagger")


@register_model(
    "transformer_tagger",
    family="classifier",
    task="tagging",
    inputs={"tokens": "int32 [batch, length <= max_length], 0 = padding"},
    outputs=_TAG_OUTPUTS,
    description="Token tagger on a Transformer encoder: per-token states of padding-masked "
                "self-attention blocks, one label per token.",
    citation="Vaswani et al., 2017; Devlin et al., BERT, 2019 (token classification).",
    compiler=compile_tagger,
    search_space=search_spaces.transformer,
    capabilities=Capabilities(input_kinds=("tokens",)),
    sizes={"toy": {"vocab_size": 20, "max_length": 16, "embedding_dim": 8, "num_heads": 2,
         "ff_dim": 12, "num_layers": 1, "num_tags": 4}},
    example_data=tagging_example_data,
)
def transformer_tagger(vocab_size=20000, max_length=256, embedding_dim=128, num_heads=4,
                       ff_dim=256, num_layers=2, dropout=0.1, num_tags=9):
    """Transformer tagger.

    Args:
        vocab_size: token ids are in ``[0, vocab_size)``; 0 is padding.
        max_length: longest input (learned positions).
        embedding_dim: model width; ``num_heads`` must divide it.
        num_heads: attention heads.
        ff_dim: feed-forward hidden width.
        num_layers: encoder blocks.
        dropout: dropout in blocks and before the head.
        num_tags: real tags, numbered ``1 .. num_tags`` (0 marks padding).

    >>> model = zoo.build("transformer_tagger", vocab_size=5000, num_tags=9)
    """
    embedding_dim, num_heads, ff_dim, num_layers, dropout, max_length = _check_transformer(
        embedding_dim, num_heads, ff_dim, num_layers, dropout, max_length)
    num_tags = validation.positive_int("num_tags", num_tags)
    tokens, x, mask = _sequence_inputs("tokens", vocab_size, None, embedding_dim,
                                       mask_zero=False)
    x = _transformer_stack(x, mask, embedding_dim, num_heads, ff_dim, num_layers, dropout,
                           max_length)
    return _tagger_head(x, num_tags, dropout, tokens, "transformer_tagger")
