"""``lstm_lm``: recurrent next-token language model, and its generation stepper.

``LstmLmStepper`` reads the prompt once (rows of different lengths masked),
then feeds one token and the carried LSTM states per step.
"""

import functools

import keras
from keras import layers, ops

from zoo import search_spaces, validation
from zoo.generation import Prepared, bucket, pad_to
from zoo.model import CODE_LAYER_NAME, ZooModel
from zoo.models.decoder.common import (INPUTS, LOGITS, REGISTRATION, TOKEN_EMBEDDING, TOKENS,
                                       LanguageModelStepper, capabilities, check_common)
from zoo.registry import register_model


def lstm_layer(i):
    """Name of the ``i``-th LSTM layer (saved in every .keras file: never change it)."""
    return f"lm_lstm_{i}"


class LstmLmStepper(LanguageModelStepper):
    """Prompt read once; then one token + carried LSTM states per step.

    Reads ``num_layers`` and ``units`` from ``zoo.model_params(model)``.

    Args:
        model: an ``lstm_lm`` model from ``zoo.build`` or ``zoo.load``.

    >>> import zoo
    >>> import numpy as np
    >>> stepper = LstmLmStepper(zoo.build("lstm_lm", size="toy"))
    >>> stepper.run(np.array([[3, 4]]), max_length=3).shape  # logits per new token
    (1, 3, 12)
    """

    def __init__(self, model):
        super().__init__(model)
        self.units = self.params["units"]
        self.embedding = model.get_layer(TOKEN_EMBEDDING)
        self.lstms = [model.get_layer(lstm_layer(i)) for i in range(self.params["num_layers"])]
        self.logits = model.get_layer(LOGITS)

    def prepare(self, prompt, max_length):
        tokens, lengths = self.check_prompt(prompt)
        longest = int(lengths.max())
        width = bucket(longest)
        return Prepared({TOKENS: pad_to(tokens[:, :longest], width)}, (width,))

    def _run(self, tokens, states):
        """The LSTMs over ``tokens`` from ``states``; padding (0) keeps a row's states."""
        x = self.embedding(tokens)
        mask = ops.not_equal(tokens, 0)
        new_states = {}
        for i, lstm in enumerate(self.lstms):
            x, h, c = lstm(x, mask=mask, initial_state=[states[f"h_{i}"], states[f"c_{i}"]])
            new_states.update({f"h_{i}": h, f"c_{i}": c})
        return self.logits(h), new_states

    def start(self, feeds, layout):
        tokens = feeds[TOKENS]
        zeros = ops.zeros((ops.shape(tokens)[0], self.units), self.lstms[0].compute_dtype)
        return self._run(tokens, {f"{state}_{i}": zeros for i in range(len(self.lstms))
                                  for state in ("h", "c")})

    def step(self, cache, token, layout):
        return self._run(token[:, None], cache)


@register_model(
    "lstm_lm",
    **REGISTRATION,
    inputs=INPUTS,
    description="Recurrent next-token language model: embedding, stacked LSTMs, logits.",
    citation="Mikolov et al., Recurrent neural network based language model, 2010; "
             "Graves, Generating Sequences With Recurrent Neural Networks, 2013.",
    search_space=functools.partial(search_spaces.recurrent, max_width=512),
    capabilities=capabilities(LstmLmStepper),
    sizes={
        "toy": {"vocab_size": 12, "embedding_dim": 4, "units": 6, "num_layers": 2},
        "small": {"embedding_dim": 32, "units": 128, "learning_rate": 5e-3},
    },
)
def lstm_lm(vocab_size=256, embedding_dim=64, units=256, num_layers=1, dropout=0.0):
    """LSTM language model.

    Args:
        vocab_size: token ids are in ``[0, vocab_size)``; 0 is padding.
        embedding_dim: token embedding width.
        units: LSTM units per layer.
        num_layers: stacked LSTM layers (named ``lstm_layer(i)``).
        dropout: dropout between layers and before the logits.

    >>> import zoo
    >>> model = zoo.build("lstm_lm", size="toy")
    >>> model.output_shape
    (None, None, 12)
    """
    vocab_size, embedding_dim, num_layers, dropout = check_common(
        vocab_size, embedding_dim, num_layers, dropout)
    units = validation.positive_int("units", units)
    tokens = keras.Input((None,), dtype="int32", name=TOKENS)
    x = layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name=TOKEN_EMBEDDING)(tokens)
    for i in range(num_layers):
        # return_state=True so generation can carry the states step to step.
        x = layers.LSTM(units, return_sequences=True, return_state=True,
                        name=lstm_layer(i))(x)[0]
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout_{i}")(x)
    x = layers.Identity(name=CODE_LAYER_NAME)(x)
    logits = layers.Dense(vocab_size, name=LOGITS)(x)
    return ZooModel(tokens, logits, name="lstm_lm")
