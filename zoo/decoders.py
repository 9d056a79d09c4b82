"""Decoder-only family: next-token language models.

Inputs are token ids with 0 as padding; the model predicts, at every
position, the next token (targets are the inputs shifted left by one, 0
where there is no next token). Generation lives in ``zoo.generation``.
"""

import functools

import keras
import numpy as np
from keras import layers

from zoo import losses, search_spaces, validation
from zoo.layers.masking import PaddingMask
from zoo.layers.transformer import PositionEmbedding, TransformerDecoderBlock
from zoo.model import CODE_LAYER_NAME, ZooModel
from zoo.generation import GptStepper, LstmLmStepper
from zoo.registry import Capabilities, register_model


def compile_language_model(model, learning_rate=1e-3, jit_compile="auto"):
    losses.compile_token_model(model, from_logits=True, learning_rate=learning_rate,
                               jit_compile=jit_compile)


def next_token_targets(tokens):
    """Targets for next-token prediction: ``tokens`` shifted left, 0-filled."""
    tokens = np.asarray(tokens)
    targets = np.zeros_like(tokens)
    targets[:, :-1] = tokens[:, 1:]
    return targets


def lm_example_data(params, n, seed, length=8):
    rng = np.random.default_rng(seed)
    length = min(length, params.get("max_length", length))
    tokens = rng.integers(1, params["vocab_size"], size=(n, length)).astype("int32")
    lengths = rng.integers(2, length + 1, size=n)
    tokens[np.arange(length)[None, :] >= lengths[:, None]] = 0
    return tokens, next_token_targets(tokens)


_TOKENS = {"tokens": "int32 [batch, length], 0 = padding"}
_NEXT_LOGITS = {"logits": "float32 [batch, length, vocab_size], next-token logits"}


@register_model(
    "lstm_lm",
    family="decoder",
    task="language_modeling",
    inputs=_TOKENS,
    outputs=_NEXT_LOGITS,
    description="Recurrent next-token language model: embedding, stacked LSTMs, logits.",
    citation="Mikolov et al., Recurrent neural network based language model, 2010; "
             "Graves, Generating Sequences With Recurrent Neural Networks, 2013.",
    compiler=compile_language_model,
    search_space=functools.partial(search_spaces.recurrent, max_width=512),
    capabilities=Capabilities(input_kinds=("tokens",), generation="language_model", stepper=LstmLmStepper),
    sizes={"toy": {"vocab_size": 12, "embedding_dim": 4, "units": 6, "num_layers": 2}},
    example_data=lm_example_data,
)
def lstm_lm(vocab_size=256, embedding_dim=64, units=256, num_layers=1, dropout=0.0):
    """LSTM language model.

    Args:
        vocab_size: token ids are in ``[0, vocab_size)``; 0 is padding.
        embedding_dim: token embedding width.
        units: LSTM units per layer.
        num_layers: stacked LSTM layers (named ``lm_lstm_<i>``).
        dropout: dropout between layers and before the logits.

    >>> model = zoo.build("lstm_lm", vocab_size=65)
    """
    vocab_size = validation.positive_int("vocab_size", vocab_size)
    embedding_dim = validation.positive_int("embedding_dim", embedding_dim)
    units = validation.positive_int("units", units)
    num_layers = validation.positive_int("num_layers", num_layers)
    dropout = validation.rate("dropout", dropout)
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x = layers.Embedding(vocab_size, embedding_dim, mask_zero=True,
                         name="token_embedding")(tokens)
    for i in range(num_layers):
        # return_state=True so generation can carry the states step to step.
        x = layers.LSTM(units, return_sequences=True, return_state=True,
                        name=f"lm_lstm_{i}")(x)[0]
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout_{i}")(x)
    x = layers.Identity(name=CODE_LAYER_NAME)(x)
    logits = layers.Dense(vocab_size, name="logits")(x)
    return ZooModel(tokens, logits, name="lstm_lm")


@register_model(
    "gpt_decoder",
    family="decoder",
    task="language_modeling",
    inputs={"tokens": "int32 [batch, length <= max_length], 0 = padding"},
    outputs=_NEXT_LOGITS,
    description="Causal Transformer decoder (GPT): token + learned position embedding, "
                "pre-norm blocks with causal self-attention, logits.",
    citation="Radford et al., Improving Language Understanding by Generative "
             "Pre-Training, 2018.",
    compiler=compile_language_model,
    search_space=functools.partial(search_spaces.transformer, max_layers=6),
    capabilities=Capabilities(input_kinds=("tokens",), generation="language_model", stepper=GptStepper),
    sizes={"toy": {"vocab_size": 12, "max_length": 16, "embedding_dim": 8, "num_heads": 2,
         "ff_dim": 12, "num_layers": 2}},
    example_data=lm_example_data,
)
def gpt_decoder(vocab_size=256, max_length=256, embedding_dim=128, num_heads=4, ff_dim=512,
                num_layers=4, dropout=0.1):
    """GPT-style decoder.

    Args:
        vocab_size: token ids are in ``[0, vocab_size)``; 0 is padding.
        max_length: longest sequence (learned positions), prompt plus
            generated tokens.
        embedding_dim: model width; ``num_heads`` must divide it.
        num_heads: attention heads.
        ff_dim: feed-forward hidden width.
        num_layers: decoder blocks.
        dropout: dropout in the blocks.

    >>> model = zoo.build("gpt_decoder", vocab_size=65, max_length=128)
    """
    vocab_size = validation.positive_int("vocab_size", vocab_size)
    max_length = validation.positive_int("max_length", max_length)
    embedding_dim = validation.positive_int("embedding_dim", embedding_dim)
    num_heads = validation.positive_int("num_heads", num_heads)
    if embedding_dim % num_heads:
        raise ValueError(f"`num_heads` must divide embedding_dim={embedding_dim}. "
                         f"Received: num_heads={num_heads}")
    ff_dim = validation.positive_int("ff_dim", ff_dim)
    num_layers = validation.positive_int("num_layers", num_layers)
    dropout = validation.rate("dropout", dropout)
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    mask = PaddingMask(name="padding_mask")(tokens)
    x = layers.Embedding(vocab_size, embedding_dim, name="token_embedding")(tokens)
    x = PositionEmbedding(max_length, name="position_embedding")(x)
    for i in range(num_layers):
        x = TransformerDecoderBlock(num_heads, ff_dim, dropout=dropout,
                                    name=f"decoder_block_{i}")(x, padding_mask=mask)
    x = layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    x = layers.Identity(name=CODE_LAYER_NAME)(x)
    logits = layers.Dense(vocab_size, name="logits")(x)
    return ZooModel(tokens, logits, name="gpt_decoder")
