"""What the classifier family's models share: compiling, inputs, pooling, heads, example data.

Conventions: token id 0 is padding and never changes a prediction; every
model routes its pooled embedding (per-token states for taggers) through a
layer named ``code``; the head is float32 even under a mixed-precision
policy. Two classes get one sigmoid unit, more get a softmax. Taggers
predict ``num_tags + 1`` classes per token: class 0 is padding (targets use
0 at padded positions; it is left out of the loss and the accuracy) and
real tags are ``1 .. num_tags``.
"""

import functools

import keras
import numpy as np
from keras import layers

from zoo import losses, search_spaces, validation
from zoo.layers import (MaskedGlobalPooling1D, PaddingMask, PositionEmbedding,
                        TransformerEncoderBlock)
from zoo.model import CODE_LAYER_NAME, ZooModel
from zoo.registry import Capabilities, register_model

INPUT_TYPES = ("tokens", "features")
POOLINGS = ("last", "mean", "max")

TOKEN_OR_SERIES = {
    "tokens": "int32 [batch, length], 0 = padding (input_type='tokens')",
    "features": "float32 [batch, length, num_features] (input_type='features')",
}
IMAGES = {"images": "float32 [batch, height, width, channels]"}
TOKENS = {"tokens": "int32 [batch, length], 0 = padding"}
BOUNDED_TOKENS = {"tokens": "int32 [batch, length <= max_length], 0 = padding"}
CLASS_PROBABILITIES = {
    "probabilities": "float32 [batch, 1] (2 classes, sigmoid) or [batch, num_classes] (softmax)"
}
TAG_PROBABILITIES = {
    "tag_probabilities": "float32 [batch, length, num_tags + 1]; class 0 = padding"
}


# --- compiling and registering --------------------------------------------------------------

def compile_classifier(model, num_classes=2, learning_rate=1e-3, jit_compile="auto"):
    """Binary cross-entropy for two classes (one sigmoid unit), sparse categorical above."""
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
    """Per-token cross-entropy and accuracy with padding (class 0) left out."""
    losses.compile_token_model(model, from_logits=False, learning_rate=learning_rate,
                               jit_compile=jit_compile)


register_classifier = functools.partial(register_model, family="classifier",
                                        task="classification", compiler=compile_classifier,
                                        outputs=CLASS_PROBABILITIES)
# Every tagger labels the tokens of a token sequence.
register_tagger = functools.partial(register_model, family="classifier", task="tagging",
                                    compiler=compile_tagger, outputs=TAG_PROBABILITIES,
                                    capabilities=Capabilities(input_kinds=("tokens",)))


# --- inputs, pooling, heads -----------------------------------------------------------------

def sequence_inputs(input_type, vocab_size, num_features, embedding_dim, mask_zero):
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


def pool(x, mask, mode):
    """Global ``mean`` or ``max`` pooling over the positions ``mask`` keeps (all if None)."""
    if mask is not None:
        return MaskedGlobalPooling1D(mode, name=f"{mode}_pooling")([x, mask])
    pooling = layers.GlobalAveragePooling1D if mode == "mean" else layers.GlobalMaxPooling1D
    return pooling(name=f"{mode}_pooling")(x)


def _head(features, dropout, width, activation, output_name, inputs, name):
    code = layers.Identity(name=CODE_LAYER_NAME)(features)
    x = layers.Dropout(dropout, name="head_dropout")(code) if dropout else code
    outputs = layers.Dense(width, activation=activation, dtype="float32", name=output_name)(x)
    return ZooModel(inputs, outputs, name=name)


def classifier_head(pooled, num_classes, dropout, inputs, name):
    """``code`` -> dropout -> one sigmoid unit (2 classes) or a softmax; the model."""
    if num_classes == 2:
        return _head(pooled, dropout, 1, "sigmoid", "probabilities", inputs, name)
    return _head(pooled, dropout, num_classes, "softmax", "probabilities", inputs, name)


def tagger_head(states, num_tags, dropout, inputs, name):
    """Per-token ``code`` -> dropout -> softmax over ``num_tags + 1`` (0 = padding)."""
    return _head(states, dropout, num_tags + 1, "softmax", "tag_probabilities", inputs, name)


# --- transformer encoder stack --------------------------------------------------------------

def check_transformer(embedding_dim, num_heads, ff_dim, num_layers, dropout, max_length):
    """The checked ``(embedding_dim, num_heads, ff_dim, num_layers, dropout, max_length)``."""
    embedding_dim = validation.positive_int("embedding_dim", embedding_dim)
    return (embedding_dim, validation.heads("num_heads", num_heads, embedding_dim),
            validation.positive_int("ff_dim", ff_dim),
            validation.positive_int("num_layers", num_layers),
            validation.rate("dropout", dropout),
            validation.positive_int("max_length", max_length))


def transformer_stack(x, mask, num_heads, ff_dim, num_layers, dropout, max_length,
                      embedding_dropout=None, position_initializer="glorot_uniform"):
    """Learned positions, pre-norm encoder blocks (padding-masked), a final LayerNorm.

    ``dropout`` acts inside the blocks (attention weights, residual branches);
    ``embedding_dropout`` on the embedded tokens (``None``: ``dropout``);
    ``position_initializer`` draws the learned positions.
    """
    embedding_dropout = dropout if embedding_dropout is None else embedding_dropout
    x = PositionEmbedding(max_length, initializer=position_initializer,
                          name="position_embedding")(x)
    if embedding_dropout:
        x = layers.Dropout(embedding_dropout, name="embedding_dropout")(x)
    for i in range(num_layers):
        x = TransformerEncoderBlock(num_heads, ff_dim, dropout=dropout,
                                    name=f"encoder_block_{i}")(x, padding_mask=mask)
    return layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)


def token_transformer(vocab_size, max_length, embedding_dim, num_heads, ff_dim, num_layers,
                      dropout, embedding_dropout=None, position_initializer="glorot_uniform"):
    """Checked token input, embedding, encoder stack: ``(tokens, states, mask, dropout)``.

    ``embedding_dropout`` (``None``: ``dropout``) is checked here too;
    ``position_initializer`` goes to ``transformer_stack``.
    """
    embedding_dim, num_heads, ff_dim, num_layers, dropout, max_length = check_transformer(
        embedding_dim, num_heads, ff_dim, num_layers, dropout, max_length)
    if embedding_dropout is not None:
        embedding_dropout = validation.rate("embedding_dropout", embedding_dropout)
    tokens, x, mask = sequence_inputs("tokens", vocab_size, None, embedding_dim,
                                      mask_zero=False)
    states = transformer_stack(x, mask, num_heads, ff_dim, num_layers, dropout, max_length,
                               embedding_dropout, position_initializer)
    return tokens, states, mask, dropout


# --- example data and search spaces ---------------------------------------------------------

def _random_tokens(rng, n, length, vocab_size):
    tokens = rng.integers(1, vocab_size, size=(n, length)).astype("int32")
    lengths = rng.integers(2, length + 1, size=n)
    tokens[np.arange(length)[None, :] >= lengths[:, None]] = 0
    return tokens


def sequence_example_data(params, n, seed, length=9):
    """Random padded token ids (or float series) and class labels."""
    rng = np.random.default_rng(seed)
    if params.get("input_type", "tokens") == "tokens":
        x = _random_tokens(rng, n, min(length, params.get("max_length", length)),
                           params["vocab_size"])
    else:
        x = rng.normal(size=(n, length, params["num_features"])).astype("float32")
    y = rng.integers(0, params["num_classes"], size=(n,))
    return x, (y[:, None] if params["num_classes"] == 2 else y).astype("int32")


def image_example_data(params, n, seed):
    """Uniform random images and class labels."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, *params["image_shape"])).astype("float32")
    return x, rng.integers(0, params["num_classes"], size=(n,)).astype("int32")


def tagging_example_data(params, n, seed, length=9):
    """Random padded token ids and tags ``1 .. num_tags`` (0 where padded)."""
    rng = np.random.default_rng(seed)
    tokens = _random_tokens(rng, n, min(length, params.get("max_length", length)),
                            params["vocab_size"])
    tags = rng.integers(1, params["num_tags"] + 1, size=tokens.shape).astype("int32")
    return tokens, np.where(tokens == 0, 0, tags)


def conv_search_space(hp):
    """1-3 conv widths (``filters_<i>``), kernel size, dropout, learning rate."""
    return {
        **search_spaces.widths(hp, "filters", 3, 16, 256),
        "kernel_size": hp.Choice("kernel_size", [3, 5, 7]),
        "dropout": search_spaces.dropout(hp),
        "learning_rate": search_spaces.learning_rate(hp),
    }
