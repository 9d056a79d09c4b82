"""``gpt_decoder``: causal Transformer language model, and its generation stepper.

``GptStepper`` keeps a key/value cache per decoder block: the prompt is read
once (``prefill``), then each step feeds one token per row through the
blocks at that row's position, so a new token costs the same early and late
(up to attending over the cache).
"""

import functools

import keras
from keras import layers, ops

from zoo import search_spaces, validation
from zoo.generation import Prepared, bucket, pad_to
from zoo.layers import (PaddingMask, PositionEmbedding, TransformerDecoderBlock, cache_names,
                        step_blocks)
from zoo.model import CODE_LAYER_NAME, ZooModel
from zoo.models.decoder.common import (LOGITS, REGISTRATION, TOKEN_EMBEDDING, TOKENS,
                                       LanguageModelStepper, capabilities, check_common)
from zoo.registry import register_model

# Layer names reused by generation (saved in every .keras file: never change them).
POSITION_EMBEDDING = "position_embedding"
FINAL_NORM = "final_norm"
LENGTHS = "lengths"


def decoder_block(i):
    """Name of the ``i``-th decoder block."""
    return f"decoder_block_{i}"


class GptStepper(LanguageModelStepper):
    """Prompt read once into a key/value cache; then one token per row per step.

    Reads ``max_length`` (the model's positions) and ``num_layers`` from
    ``zoo.model_params(model)``. Rows of different lengths each continue
    from their own last token (their own positions).

    Args:
        model: a ``gpt_decoder`` model from ``zoo.build`` or ``zoo.load``.

    >>> import zoo
    >>> import numpy as np
    >>> stepper = GptStepper(zoo.build("gpt_decoder", size="toy"))
    >>> stepper.run(np.array([[3, 4], [5, 0]]), max_length=3).shape  # logits per new token
    (2, 3, 12)
    """

    def __init__(self, model):
        super().__init__(model)
        self.max_positions = self.params["max_length"]
        self.blocks = [model.get_layer(decoder_block(i))
                       for i in range(self.params["num_layers"])]
        self.embedding = model.get_layer(TOKEN_EMBEDDING)
        self.positions = model.get_layer(POSITION_EMBEDDING)
        self.final_norm = model.get_layer(FINAL_NORM)
        self.logits = model.get_layer(LOGITS)

    def prepare(self, prompt, max_length):
        tokens, lengths = self.check_prompt(prompt)
        longest = int(lengths.max())
        if longest + max_length > self.max_positions:
            raise ValueError(
                f"Prompt length + max_length must fit the model's max_length="
                f"{self.max_positions}. Received: a prompt of {longest} tokens "
                f"and max_length={max_length}")
        cache_length = min(bucket(longest) + bucket(max_length), self.max_positions)
        width = min(bucket(longest), cache_length)
        tokens = pad_to(tokens[:, :longest], width)
        return Prepared({TOKENS: tokens, LENGTHS: lengths}, (width, cache_length))

    def _next_logits(self, x):
        return self.logits(self.final_norm(x))

    def start(self, feeds, layout):
        width, cache_length = layout
        tokens, lengths = feeds[TOKENS], feeds[LENGTHS]
        x = self.positions(self.embedding(tokens))
        cache = {}
        for i, block in enumerate(self.blocks):
            x, keys, values = block.prefill(x)
            shape = tuple(keys.shape)
            room = ops.zeros(shape[:2] + (cache_length - width, shape[3]), keys.dtype)
            names = cache_names(i)
            cache[names[0]] = ops.concatenate([keys, room], axis=2)
            cache[names[1]] = ops.concatenate([values, room], axis=2)
        last = ops.take_along_axis(x, ops.reshape(lengths - 1, (-1, 1, 1)), axis=1)[:, 0]
        cache["position"] = lengths
        return self._next_logits(last), cache

    def step(self, cache, token, layout):
        position = cache["position"]
        x = self.positions.at(self.embedding(token[:, None]), position)
        x, cache = step_blocks(self.blocks, x, cache, position)
        cache["position"] = position + 1
        return self._next_logits(x[:, 0]), cache


@register_model(
    "gpt_decoder",
    **REGISTRATION,
    inputs={TOKENS: "int32 [batch, length <= max_length], 0 = padding"},
    description="Causal Transformer decoder (GPT): token + learned position embedding, "
                "pre-norm blocks with causal self-attention, logits.",
    citation="Radford et al., Improving Language Understanding by Generative "
             "Pre-Training, 2018.",
    search_space=functools.partial(search_spaces.transformer, max_layers=6),
    capabilities=capabilities(GptStepper),
    sizes={
        "toy": {"vocab_size": 12, "max_length": 16, "embedding_dim": 8, "num_heads": 2,
                "ff_dim": 12, "num_layers": 2},
        "small": {"embedding_dim": 64, "num_heads": 4, "ff_dim": 256, "num_layers": 2,
                  "dropout": 0.0, "learning_rate": 1e-3},
        "bench": {"vocab_size": 256, "max_length": 64, "embedding_dim": 64, "num_heads": 4,
                  "ff_dim": 256, "num_layers": 2, "dropout": 0.0},
    },
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

    >>> import zoo
    >>> import numpy as np
    >>> model = zoo.build("gpt_decoder", size="toy")
    >>> model.predict_on_batch(np.array([[3, 4, 5]])).shape  # next-token logits
    (1, 3, 12)
    """
    vocab_size, embedding_dim, num_layers, dropout = check_common(
        vocab_size, embedding_dim, num_layers, dropout)
    max_length = validation.positive_int("max_length", max_length)
    num_heads = validation.heads("num_heads", num_heads, embedding_dim)
    ff_dim = validation.positive_int("ff_dim", ff_dim)
    tokens = keras.Input((None,), dtype="int32", name=TOKENS)
    mask = PaddingMask(name="padding_mask")(tokens)
    x = layers.Embedding(vocab_size, embedding_dim, name=TOKEN_EMBEDDING)(tokens)
    x = PositionEmbedding(max_length, name=POSITION_EMBEDDING)(x)
    for i in range(num_layers):
        x = TransformerDecoderBlock(num_heads, ff_dim, dropout=dropout,
                                    name=decoder_block(i))(x, padding_mask=mask)
    x = layers.LayerNormalization(epsilon=1e-6, name=FINAL_NORM)(x)
    x = layers.Identity(name=CODE_LAYER_NAME)(x)
    logits = layers.Dense(vocab_size, name=LOGITS)(x)
    return ZooModel(tokens, logits, name="gpt_decoder")
