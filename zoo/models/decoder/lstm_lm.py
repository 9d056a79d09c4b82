"""``lstm_lm``: recurrent next-token language model, and its generation stepper.

``LstmLmStepper`` reads the prompt once, then feeds one token and the
carried LSTM states per step.
"""

import functools

import keras
import numpy as np
from keras import layers

from zoo import search_spaces, validation
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
        max_length: most new tokens per row.

    >>> import zoo
    >>> import numpy as np
    >>> stepper = LstmLmStepper(zoo.build("lstm_lm", size="toy"), max_length=3)
    >>> logits, state = stepper.start(np.array([[3, 4]], "int32"))
    >>> logits.shape, sorted(state)
    ((1, 12), ['c_0', 'c_1', 'h_0', 'h_1'])
    """

    def __init__(self, model, max_length):
        super().__init__(model, max_length)
        self.units = self.params["units"]
        self.state_names = [f"{state}_{i}" for i in range(self.params["num_layers"])
                            for state in ("h", "c")]
        self.step_model = self.inference_models()

    def build(self):
        model = self.model
        tokens = keras.Input((None,), dtype="int32", name=TOKENS)
        x = model.get_layer(TOKEN_EMBEDDING)(tokens)
        inputs, outputs = {TOKENS: tokens}, {}
        for i in range(self.params["num_layers"]):
            names = (f"h_{i}", f"c_{i}")
            inputs.update({n: keras.Input((self.units,), name=n) for n in names})
            x, h, c = model.get_layer(lstm_layer(i))(
                x, initial_state=[inputs[n] for n in names])
            outputs.update(zip(names, (h, c)))
        outputs[LOGITS] = model.get_layer(LOGITS)(x)
        return keras.Model(inputs, outputs, name=f"{model.name}_step")

    def start(self, prompt):
        state = {n: np.zeros((len(prompt), self.units), "float32") for n in self.state_names}
        return self._run(state, prompt)

    def _run(self, state, tokens):
        result = self.predict(self.step_model, {TOKENS: tokens, **state})
        return np.asarray(result[LOGITS])[:, -1], {n: result[n] for n in self.state_names}

    def step(self, state, token):
        return self._run(state, token[:, None])


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
