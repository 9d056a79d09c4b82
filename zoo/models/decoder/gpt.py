"""``gpt_decoder``: causal Transformer language model, and its generation stepper.

``GptStepper`` has no key/value cache: each step re-runs the whole model
over a fixed-size buffer (prompt + room for the new tokens); causal masking
makes the empty slots irrelevant.
"""

import functools

import keras
import numpy as np
from keras import layers

from zoo import search_spaces, validation
from zoo.layers import PaddingMask, PositionEmbedding, TransformerDecoderBlock
from zoo.model import CODE_LAYER_NAME, ZooModel
from zoo.models.decoder.common import (LOGITS, REGISTRATION, TOKEN_EMBEDDING, TOKENS,
                                       LanguageModelStepper, capabilities, check_common)
from zoo.registry import register_model


class GptStepper(LanguageModelStepper):
    """The whole model re-reads a fixed-size buffer (prompt + room) per step.

    Reads ``max_length`` (the model's positions) from ``zoo.model_params(model)``.

    Args:
        model: a ``gpt_decoder`` model from ``zoo.build`` or ``zoo.load``.
        max_length: most new tokens per row; prompt plus new tokens must
            fit the model's ``max_length``.

    >>> import zoo
    >>> import numpy as np
    >>> stepper = GptStepper(zoo.build("gpt_decoder", size="toy"), max_length=3)
    >>> logits, state = stepper.start(np.array([[3, 4]], "int32"))
    >>> logits.shape, state["tokens"].shape
    ((1, 12), (1, 5))
    """

    def __init__(self, model, max_length):
        super().__init__(model, max_length)
        self.max_positions = self.params["max_length"]

    def check_inputs(self, prompt):
        prompt = super().check_inputs(prompt)
        if prompt.shape[1] + self.max_length > self.max_positions:
            raise ValueError(
                f"Prompt length + max_length must fit the model's max_length="
                f"{self.max_positions}. Received: a prompt of {prompt.shape[1]} tokens "
                f"and max_length={self.max_length}")
        return prompt

    def start(self, prompt):
        buffer = np.zeros((len(prompt), prompt.shape[1] + self.max_length), "int32")
        buffer[:, :prompt.shape[1]] = prompt
        self.position = prompt.shape[1] - 1
        state = {TOKENS: buffer}
        return self._logits(state), state

    def _logits(self, state):
        return np.asarray(self.predict(self.model, state[TOKENS]))[:, self.position]

    def step(self, state, token):
        self.position += 1
        buffer = state[TOKENS].copy()
        buffer[:, self.position] = token
        state = {TOKENS: buffer}
        return self._logits(state), state


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
    x = PositionEmbedding(max_length, name="position_embedding")(x)
    for i in range(num_layers):
        x = TransformerDecoderBlock(num_heads, ff_dim, dropout=dropout,
                                    name=f"decoder_block_{i}")(x, padding_mask=mask)
    x = layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    x = layers.Identity(name=CODE_LAYER_NAME)(x)
    logits = layers.Dense(vocab_size, name=LOGITS)(x)
    return ZooModel(tokens, logits, name="gpt_decoder")
