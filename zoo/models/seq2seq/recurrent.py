"""Recurrent encoder-decoders: ``lstm_seq2seq`` and its presets (GRU, attention).

One builder, ``recurrent_seq2seq``: the cell (``lstm`` or ``gru``) and the
attention (none, ``luong`` or ``bahdanau``) are parameters. The encoder's
final states start the decoder; with attention the decoder also attends
over every encoder state at every step. ``RecurrentSeq2SeqStepper``
generates: the source is encoded once, then each step feeds one token and
the carried recurrent states (plus, with attention, the encoder states).
"""

import functools

import keras
from keras import layers, ops

from zoo import search_spaces, validation
from zoo.generation import Prepared
from zoo.layers import PaddingMask
from zoo.model import CODE_LAYER_NAME, ZooModel, sub_model
from zoo.models.seq2seq.common import (INPUTS, LOGITS, MEMORY, REGISTRATION,
                                       SOURCE_EMBEDDING, SOURCE_MASK, SOURCE_TOKENS,
                                       TARGET_EMBEDDING, TARGET_TOKENS, Seq2SeqStepper,
                                       check_common)
from zoo.registry import Capabilities, register_model

RNN_LAYERS = {"lstm": layers.LSTM, "gru": layers.GRU}
CELLS = tuple(RNN_LAYERS)
STATE_NAMES = {"lstm": ("h", "c"), "gru": ("h",)}  # the states each cell carries
ATTENTION_SCORES = {"luong": layers.Attention, "bahdanau": layers.AdditiveAttention}
ATTENTIONS = tuple(ATTENTION_SCORES)

# Layer names (saved in every .keras file: never change them).
ATTENTION = "attention"
ATTENTION_CONCAT = "attention_concat"
ATTENTION_COMBINE = "attention_combine"
ATTENTION_LAYERS = (ATTENTION, ATTENTION_COMBINE, ATTENTION_CONCAT)


def encoder_rnn_layer(cell, i):
    """Name of the ``i``-th encoder recurrent layer."""
    return f"encoder_{cell}_{i}"


def decoder_rnn_layer(cell, i):
    """Name of the ``i``-th decoder recurrent layer."""
    return f"decoder_{cell}_{i}"


def state_layer(state, i):
    """Name of the code layer carrying the final ``state`` (h or c) of encoder layer ``i``."""
    return f"{CODE_LAYER_NAME}_{state}_{i}"


def state_layers(cell, num_layers):
    """Names of every carried state, layer by layer: ``code_h_0, code_c_0, ...``."""
    return [state_layer(state, i) for i in range(num_layers) for state in STATE_NAMES[cell]]


def attention_layers(attention, latent_dim):
    """New (score, combine, concat) layers of a Luong-style attentional output."""
    return (ATTENTION_SCORES[attention](name=ATTENTION),
            layers.Dense(latent_dim, activation="tanh", name=ATTENTION_COMBINE),
            layers.Concatenate(name=ATTENTION_CONCAT))


def attend(decoder_states, memory, source_mask, attention_layers):
    """The attentional output ``tanh(W [decoder state; context])``.

    ``attention_layers`` is (score, combine, concat): new ones from
    ``attention_layers()`` or a trained model's (generation).
    """
    score, combine, concat = attention_layers
    attended = score([decoder_states, memory], mask=[None, source_mask])
    return combine(concat([decoder_states, attended]))


class RecurrentSeq2SeqStepper(Seq2SeqStepper):
    """Encoder once; then one token + carried states (+ attention memory) per step.

    Reads ``cell``, ``num_layers`` and ``attention`` from
    ``zoo.model_params(model)`` and reuses the layers named above.

    Args:
        model: a recurrent seq2seq model from ``zoo.build`` or ``zoo.load``.

    >>> import zoo
    >>> import numpy as np
    >>> model = zoo.build("attention_seq2seq", size="toy")
    >>> RecurrentSeq2SeqStepper(model).run(np.array([[3, 4, 5]]), max_length=3).shape
    (1, 3, 12)
    """

    def __init__(self, model):
        super().__init__(model)
        params = self.params
        self.cell = params["cell"]
        self.state_names = state_layers(self.cell, params["num_layers"])
        self.attention = params["attention"]
        code = self.state_names + ([MEMORY] if self.attention else [])
        self.encoder = sub_model(model, {n: model.get_layer(n).output for n in code},
                                 name=f"{model.name}_encoder")
        self.embedding = model.get_layer(TARGET_EMBEDDING)
        self.rnns = [model.get_layer(decoder_rnn_layer(self.cell, i))
                     for i in range(params["num_layers"])]
        self.attention_layers = [model.get_layer(n) for n in ATTENTION_LAYERS] \
            if self.attention else None
        self.logits = model.get_layer(LOGITS)

    def prepare(self, source, max_length):
        return Prepared({SOURCE_TOKENS: self.bucketed_source(source)}, ())

    def start(self, feeds, layout):
        source = feeds[SOURCE_TOKENS]
        encoded = self.encoder(source)
        cache = {n: encoded[n] for n in self.state_names}
        if self.attention:
            cache.update({MEMORY: encoded[MEMORY], SOURCE_MASK: ops.not_equal(source, 0)})
        return self.step(cache, self.start_tokens(ops.shape(source)[0]), layout)

    def step(self, cache, token, layout):
        x = self.embedding(token[:, None])
        cache = dict(cache)
        for i, rnn in enumerate(self.rnns):
            names = [state_layer(state, i) for state in STATE_NAMES[self.cell]]
            outputs = rnn(x, initial_state=[cache[n] for n in names])
            x = outputs[0]
            cache.update(zip(names, outputs[1:]))
        if self.attention:
            x = attend(x, cache[MEMORY], cache[SOURCE_MASK], self.attention_layers)
        return self.logits(x)[:, -1], cache


@register_model(
    "lstm_seq2seq",
    **REGISTRATION,
    inputs=INPUTS,
    description=(
        "LSTM encoder whose final states [h, c] are the context vector that "
        "initialises an LSTM decoder, trained with teacher forcing. "
        "zoo.encoder(model) gives the states; zoo.greedy_decode() translates."
    ),
    citation="Sutskever, Vinyals & Le, Sequence to Sequence Learning with Neural "
             "Networks, NeurIPS 2014; F. Chollet, A ten-minute introduction to "
             "sequence-to-sequence learning in Keras, 2017.",
    search_space=functools.partial(search_spaces.recurrent, width_name="latent_dim",
                                   max_width=512),
    capabilities=Capabilities(input_kinds=("token_pairs",), generation="seq2seq",
                              stepper=RecurrentSeq2SeqStepper),
    sizes={
        "toy": {"source_vocab_size": 11, "target_vocab_size": 12, "embedding_dim": 4,
                "latent_dim": 6, "num_layers": 2},
        "small": {"embedding_dim": 32, "latent_dim": 128, "num_layers": 1, "dropout": 0.0,
                  "learning_rate": 3e-3},
        "bench": {"source_vocab_size": 100, "target_vocab_size": 100, "embedding_dim": 32,
                  "latent_dim": 128, "dropout": 0.0},
    },
    presets={
        "gru_seq2seq": {
            "cell": "gru",
            "description": "GRU encoder whose final state is the context vector that "
                           "initialises a GRU decoder, trained with teacher forcing.",
            "citation": "Cho et al., Learning Phrase Representations using RNN "
                        "Encoder-Decoder for Statistical Machine Translation, EMNLP 2014.",
            "sizes": {"bench": None},
        },
        "attention_seq2seq": {
            "attention": "luong",
            "description": "Recurrent encoder returning all its states; the decoder attends "
                           "over them at every step (Luong dot-product or Bahdanau additive "
                           "scores), so long inputs do not squeeze through one vector.",
            "citation": "Bahdanau, Cho & Bengio, Neural Machine Translation by Jointly "
                        "Learning to Align and Translate, ICLR 2015; Luong, Pham & Manning, "
                        "Effective Approaches to Attention-based Neural Machine Translation, "
                        "EMNLP 2015.",
            "sizes": {"bench": None},
        },
    },
)
def recurrent_seq2seq(source_vocab_size=100, target_vocab_size=100, embedding_dim=64,
                      latent_dim=256, num_layers=1, dropout=0.0, cell="lstm", attention=None,
                      start_token=1, end_token=2):
    """Recurrent encoder-decoder whose final encoder states start the decoder.

    Args:
        source_vocab_size, target_vocab_size: token ids are in ``[0, size)``;
            0 is padding.
        embedding_dim: width of both token embeddings.
        latent_dim: recurrent units (the context is ``[h, c]`` per LSTM
            layer, ``h`` per GRU layer) and the attentional output width.
        num_layers: stacked recurrent layers in the encoder and in the decoder.
        dropout: dropout between stacked layers and before the logits.
        cell: ``lstm`` or ``gru``.
        attention: ``None``, ``luong`` (dot-product) or ``bahdanau``
            (additive): the decoder attends over every encoder state.
        start_token, end_token: ids that open decoder inputs and close targets.

    Layers reused by generation: ``target_embedding``,
    ``decoder_rnn_layer(cell, i)``, ``logits``, the code layers
    ``state_layer(state, i)`` carrying each encoder layer's final states,
    and with attention ``code_memory`` (all encoder states) and
    ``ATTENTION_LAYERS``.

    >>> import zoo
    >>> model = zoo.build("attention_seq2seq", size="toy", attention="bahdanau", cell="gru")
    >>> model.output_shape
    (None, None, 12)
    """
    source_vocab_size, target_vocab_size, embedding_dim, num_layers, dropout = check_common(
        source_vocab_size, target_vocab_size, embedding_dim, num_layers, dropout,
        start_token, end_token)
    latent_dim = validation.positive_int("latent_dim", latent_dim)
    validation.choice("cell", cell, CELLS)
    if attention is not None:
        validation.choice("attention", attention, ATTENTIONS)
    rnn = RNN_LAYERS[cell]

    source = keras.Input((None,), dtype="int32", name=SOURCE_TOKENS)
    target = keras.Input((None,), dtype="int32", name=TARGET_TOKENS)

    x = layers.Embedding(source_vocab_size, embedding_dim, mask_zero=True,
                         name=SOURCE_EMBEDDING)(source)
    context = []
    for i in range(num_layers):
        outputs = rnn(latent_dim, return_sequences=True, return_state=True,
                      name=encoder_rnn_layer(cell, i))(x)
        x, states = outputs[0], outputs[1:]
        context.append([layers.Identity(name=state_layer(state, i))(tensor)
                        for state, tensor in zip(STATE_NAMES[cell], states)])
        if dropout and i < num_layers - 1:
            x = layers.Dropout(dropout, name=f"encoder_dropout_{i}")(x)

    y = layers.Embedding(target_vocab_size, embedding_dim, mask_zero=True,
                         name=TARGET_EMBEDDING)(target)
    for i in range(num_layers):
        y = rnn(latent_dim, return_sequences=True, return_state=True,
                name=decoder_rnn_layer(cell, i))(y, initial_state=context[i])[0]
        if dropout:
            y = layers.Dropout(dropout, name=f"decoder_dropout_{i}")(y)
    if attention is not None:
        memory = layers.Identity(name=MEMORY)(x)
        source_mask = PaddingMask(name=SOURCE_MASK)(source)
        y = attend(y, memory, source_mask, attention_layers(attention, latent_dim))
    logits = layers.Dense(target_vocab_size, name=LOGITS)(y)
    name = "attention_seq2seq" if attention is not None else f"{cell}_seq2seq"
    return ZooModel({SOURCE_TOKENS: source, TARGET_TOKENS: target}, logits, name=name)
