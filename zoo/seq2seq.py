"""Seq2seq family: recurrent (plain and attentional) and Transformer encoder-decoders.

Token conventions shared by every seq2seq model: id 0 is padding (masked in
the encoder, the decoder, the loss and the metric), ``start_token`` opens
every decoder input and ``end_token`` closes every target. Training uses
teacher forcing: the decoder reads ``[start, y1 .. yn]`` and is scored on
``[y1 .. yn, end]``. Generation (greedy, sampling, beam search) lives in
``zoo.generation`` and relies on the layer names documented per builder.
"""

import functools

import keras
import numpy as np
from keras import layers

from zoo import losses, search_spaces, validation
from zoo.constants import PAD_ID
from zoo.layers.masking import PaddingMask
from zoo.layers.transformer import (PositionEmbedding, TransformerDecoderBlock,
                                    TransformerEncoderBlock)
from zoo.model import CODE_LAYER_NAME, ZooModel
from zoo.generation import RecurrentSeq2SeqStepper, TransformerSeq2SeqStepper
from zoo.registry import Capabilities, register_model


_RNN_LAYERS = {"lstm": layers.LSTM, "gru": layers.GRU}
_STATE_NAMES = {"lstm": ("h", "c"), "gru": ("h",)}


def compile_seq2seq(model, learning_rate=1e-3, jit_compile="auto"):
    losses.compile_token_model(model, from_logits=True, learning_rate=learning_rate,
                               jit_compile=jit_compile)


def _check_special_tokens(target_vocab_size, start_token, end_token):
    for name, value in (("start_token", start_token), ("end_token", end_token)):
        validation.positive_int(name, value)
        if value >= target_vocab_size:
            raise ValueError(
                f"`{name}` must be below target_vocab_size={target_vocab_size} "
                f"(id 0 is padding). Received: {name}={value}"
            )
    if start_token == end_token:
        raise ValueError(
            "`start_token` and `end_token` must differ. "
            f"Received: start_token={start_token}, end_token={end_token}"
        )


ATTENTIONS = ("luong", "bahdanau")


def _check_sizes(source_vocab_size, target_vocab_size, embedding_dim, num_layers, dropout,
                 start_token, end_token):
    source_vocab_size = validation.positive_int("source_vocab_size", source_vocab_size)
    target_vocab_size = validation.positive_int("target_vocab_size", target_vocab_size)
    embedding_dim = validation.positive_int("embedding_dim", embedding_dim)
    num_layers = validation.positive_int("num_layers", num_layers)
    dropout = validation.rate("dropout", dropout)
    _check_special_tokens(target_vocab_size, start_token, end_token)
    return source_vocab_size, target_vocab_size, embedding_dim, num_layers, dropout


def recurrent_seq2seq(cell, source_vocab_size, target_vocab_size, embedding_dim,
                      latent_dim, num_layers, dropout, start_token, end_token, name,
                      attention=None):
    """Encoder-decoder whose final encoder states start the decoder.

    With ``attention`` (``"luong"`` dot-product or ``"bahdanau"`` additive)
    the decoder also attends over every encoder state at every step.

    Layer names are part of the contract used by ``zoo.generation``:
    ``target_embedding``, ``decoder_<cell>_<i>``, ``logits``, the code
    layers ``code_<state>_<i>`` carrying each encoder layer's final states,
    and with attention ``code_memory`` (all encoder states), ``attention``
    and ``attention_combine``.
    """
    source_vocab_size, target_vocab_size, embedding_dim, num_layers, dropout = _check_sizes(
        source_vocab_size, target_vocab_size, embedding_dim, num_layers, dropout,
        start_token, end_token)
    latent_dim = validation.positive_int("latent_dim", latent_dim)
    validation.choice("cell", cell, tuple(_RNN_LAYERS))
    if attention is not None:
        validation.choice("attention", attention, ATTENTIONS)
    rnn = _RNN_LAYERS[cell]
    state_names = _STATE_NAMES[cell]

    source = keras.Input((None,), dtype="int32", name="source_tokens")
    target = keras.Input((None,), dtype="int32", name="target_tokens")

    x = layers.Embedding(source_vocab_size, embedding_dim, mask_zero=True,
                         name="source_embedding")(source)
    context = []
    for i in range(num_layers):
        outputs = rnn(latent_dim, return_sequences=True, return_state=True,
                      name=f"encoder_{cell}_{i}")(x)
        x, states = outputs[0], outputs[1:]
        context.append([
            layers.Identity(name=f"{CODE_LAYER_NAME}_{state}_{i}")(tensor)
            for state, tensor in zip(state_names, states)
        ])
        if dropout and i < num_layers - 1:
            x = layers.Dropout(dropout, name=f"encoder_dropout_{i}")(x)

    y = layers.Embedding(target_vocab_size, embedding_dim, mask_zero=True,
                         name="target_embedding")(target)
    for i in range(num_layers):
        y = rnn(latent_dim, return_sequences=True, return_state=True,
                name=f"decoder_{cell}_{i}")(y, initial_state=context[i])[0]
        if dropout:
            y = layers.Dropout(dropout, name=f"decoder_dropout_{i}")(y)
    if attention is not None:
        memory = layers.Identity(name=f"{CODE_LAYER_NAME}_memory")(x)
        source_mask = PaddingMask(name="source_mask")(source)
        y = attend(y, memory, source_mask, attention, latent_dim)
    logits = layers.Dense(target_vocab_size, name="logits")(y)
    return ZooModel({"source_tokens": source, "target_tokens": target}, logits, name=name)


def attend(decoder_states, memory, source_mask, attention, latent_dim, layer_of=None):
    """Luong-style attentional output: tanh(W [decoder state; context])."""
    if layer_of is None:
        score = layers.Attention if attention == "luong" else layers.AdditiveAttention
        attention_layer = score(name="attention")
        combine = layers.Dense(latent_dim, activation="tanh", name="attention_combine")
        concat = layers.Concatenate(name="attention_concat")
    else:  # reuse a trained model's layers (generation)
        attention_layer, combine, concat = (layer_of(n) for n in
                                            ("attention", "attention_combine",
                                             "attention_concat"))
    attended = attention_layer([decoder_states, memory], mask=[None, source_mask])
    return combine(concat([decoder_states, attended]))


def _random_token_rows(rng, n, length, vocab_size, low):
    """Rows of ids in [low, vocab_size), each padded with 0 after a random length."""
    tokens = rng.integers(low, vocab_size, size=(n, length))
    lengths = rng.integers(1, length + 1, size=n)
    tokens[np.arange(length)[None, :] >= lengths[:, None]] = PAD_ID
    return tokens.astype("int32"), lengths


def seq2seq_example_data(params, n, seed, source_length=7, target_length=6):
    """Random (inputs, targets) in the teacher-forcing layout."""
    rng = np.random.default_rng(seed)
    low = max(params["start_token"], params["end_token"]) + 1
    source, _ = _random_token_rows(rng, n, source_length, params["source_vocab_size"], 1)
    body, lengths = _random_token_rows(rng, n, target_length, params["target_vocab_size"], low)
    return teacher_forcing(body, lengths, params["start_token"], params["end_token"], source)


def teacher_forcing(body, lengths, start_token, end_token, source):
    """Decoder inputs ``[start, y..]`` and targets ``[y.., end]`` from padded ``body``."""
    n, width = body.shape
    decoder_input = np.zeros((n, width + 1), "int32")
    target = np.zeros((n, width + 1), "int32")
    decoder_input[:, 0] = start_token
    decoder_input[:, 1:] = body
    target[:, :width] = body
    target[np.arange(n), lengths] = end_token
    return {"source_tokens": source, "target_tokens": decoder_input}, target


@register_model(
    "lstm_seq2seq",
    family="seq2seq",
    task="sequence_to_sequence",
    inputs={
        "source_tokens": "int32 [batch, source_len], 0 = padding",
        "target_tokens": "int32 [batch, target_len], decoder input starting with start_token",
    },
    outputs={"logits": "float32 [batch, target_len, target_vocab_size], next-token logits"},
    description=(
        "LSTM encoder whose final states [h, c] are the context vector that "
        "initialises an LSTM decoder, trained with teacher forcing. "
        "zoo.encoder(model) gives the states; zoo.greedy_decode() translates."
    ),
    citation="Sutskever, Vinyals & Le, Sequence to Sequence Learning with Neural "
             "Networks, NeurIPS 2014; F. Chollet, A ten-minute introduction to "
             "sequence-to-sequence learning in Keras, 2017.",
    compiler=compile_seq2seq,
    search_space=functools.partial(search_spaces.recurrent, width_name="latent_dim",
                                   max_width=512),
    capabilities=Capabilities(input_kinds=("token_pairs",), generation="seq2seq", stepper=RecurrentSeq2SeqStepper),
    sizes={"toy": {"source_vocab_size": 11, "target_vocab_size": 12, "embedding_dim": 4,
         "latent_dim": 6, "num_layers": 2}},
    example_data=seq2seq_example_data,
)
def lstm_seq2seq(source_vocab_size=100, target_vocab_size=100, embedding_dim=64,
                 latent_dim=256, num_layers=1, dropout=0.0, start_token=1, end_token=2):
    """LSTM encoder-decoder.

    Args:
        source_vocab_size, target_vocab_size: token ids are in ``[0, size)``;
            0 is padding.
        embedding_dim: width of both token embeddings.
        latent_dim: LSTM units (the context vector is ``[h, c]`` per layer).
        num_layers: stacked LSTM layers in the encoder and in the decoder.
        dropout: dropout between stacked layers and before the logits.
        start_token, end_token: ids that open decoder inputs and close targets.

    >>> import zoo
    >>> model = zoo.build("lstm_seq2seq", source_vocab_size=13, target_vocab_size=13)
    """
    return recurrent_seq2seq("lstm", source_vocab_size, target_vocab_size, embedding_dim,
                             latent_dim, num_layers, dropout, start_token, end_token,
                             name="lstm_seq2seq")


_RECURRENT_INPUTS = {
    "source_tokens": "int32 [batch, source_len], 0 = padding",
    "target_tokens": "int32 [batch, target_len], decoder input starting with start_token",
}
_LOGITS = {"logits": "float32 [batch, target_len, target_vocab_size], next-token logits"}


@register_model(
    "gru_seq2seq",
    family="seq2seq",
    task="sequence_to_sequence",
    inputs=_RECURRENT_INPUTS,
    outputs=_LOGITS,
    description="GRU encoder whose final state is the context vector that initialises a "
                "GRU decoder, trained with teacher forcing.",
    citation="Cho et al., Learning Phrase Representations using RNN Encoder-Decoder for "
             "Statistical Machine Translation, EMNLP 2014.",
    compiler=compile_seq2seq,
    search_space=functools.partial(search_spaces.recurrent, width_name="latent_dim",
                                   max_width=512),
    capabilities=Capabilities(input_kinds=("token_pairs",), generation="seq2seq", stepper=RecurrentSeq2SeqStepper),
    sizes={"toy": {"source_vocab_size": 11, "target_vocab_size": 12, "embedding_dim": 4,
         "latent_dim": 6, "num_layers": 2}},
    example_data=seq2seq_example_data,
)
def gru_seq2seq(source_vocab_size=100, target_vocab_size=100, embedding_dim=64,
                latent_dim=256, num_layers=1, dropout=0.0, start_token=1, end_token=2):
    """GRU encoder-decoder.

    Args:
        source_vocab_size, target_vocab_size: token ids are in ``[0, size)``;
            0 is padding.
        embedding_dim: width of both token embeddings.
        latent_dim: GRU units (the context vector is ``h`` per layer).
        num_layers: stacked GRU layers in the encoder and in the decoder.
        dropout: dropout between stacked layers and before the logits.
        start_token, end_token: ids that open decoder inputs and close targets.

    >>> model = zoo.build("gru_seq2seq", source_vocab_size=13, target_vocab_size=13)
    """
    return recurrent_seq2seq("gru", source_vocab_size, target_vocab_size, embedding_dim,
                             latent_dim, num_layers, dropout, start_token, end_token,
                             name="gru_seq2seq")


@register_model(
    "attention_seq2seq",
    family="seq2seq",
    task="sequence_to_sequence",
    inputs=_RECURRENT_INPUTS,
    outputs=_LOGITS,
    description="Recurrent encoder returning all its states; the decoder attends over them "
                "at every step (Luong dot-product or Bahdanau additive scores), so long "
                "inputs do not squeeze through one vector.",
    citation="Bahdanau, Cho & Bengio, Neural Machine Translation by Jointly Learning to "
             "Align and Translate, ICLR 2015; Luong, Pham & Manning, Effective Approaches "
             "to Attention-based Neural Machine Translation, EMNLP 2015.",
    compiler=compile_seq2seq,
    search_space=functools.partial(search_spaces.recurrent, width_name="latent_dim",
                                   max_width=512),
    capabilities=Capabilities(input_kinds=("token_pairs",), generation="seq2seq", stepper=RecurrentSeq2SeqStepper),
    sizes={"toy": {"source_vocab_size": 11, "target_vocab_size": 12, "embedding_dim": 4,
         "latent_dim": 6, "num_layers": 2}},
    example_data=seq2seq_example_data,
)
def attention_seq2seq(source_vocab_size=100, target_vocab_size=100, embedding_dim=64,
                      latent_dim=256, num_layers=1, dropout=0.0, cell="lstm",
                      attention="luong", start_token=1, end_token=2):
    """Attentional recurrent encoder-decoder.

    Args:
        source_vocab_size, target_vocab_size: token ids are in ``[0, size)``;
            0 is padding.
        embedding_dim: width of both token embeddings.
        latent_dim: recurrent units and attentional output width.
        num_layers: stacked recurrent layers in the encoder and in the decoder.
        dropout: dropout between stacked layers.
        cell: ``lstm`` or ``gru``.
        attention: ``luong`` (dot-product) or ``bahdanau`` (additive) scores.
        start_token, end_token: ids that open decoder inputs and close targets.

    >>> model = zoo.build("attention_seq2seq", attention="bahdanau")
    """
    return recurrent_seq2seq(cell, source_vocab_size, target_vocab_size, embedding_dim,
                             latent_dim, num_layers, dropout, start_token, end_token,
                             name="attention_seq2seq", attention=attention)


@register_model(
    "transformer_seq2seq",
    family="seq2seq",
    task="sequence_to_sequence",
    inputs={
        "source_tokens": "int32 [batch, source_len <= max_source_length], 0 = padding",
        "target_tokens": "int32 [batch, target_len <= max_target_length], starts with "
                         "start_token",
    },
    outputs=_LOGITS,
    description="Transformer encoder-decoder: token + learned position embeddings, "
                "pre-norm encoder blocks, decoder blocks with causal self-attention and "
                "cross-attention over the encoder states.",
    citation="Vaswani et al., Attention Is All You Need, NeurIPS 2017.",
    compiler=compile_seq2seq,
    search_space=search_spaces.transformer,
    capabilities=Capabilities(input_kinds=("token_pairs",), generation="seq2seq", stepper=TransformerSeq2SeqStepper),
    sizes={"toy": {"source_vocab_size": 11, "target_vocab_size": 12, "embedding_dim": 8,
         "num_heads": 2, "ff_dim": 12, "num_layers": 1, "max_source_length": 16,
         "max_target_length": 16}},
    example_data=seq2seq_example_data,
)
def transformer_seq2seq(source_vocab_size=100, target_vocab_size=100, max_source_length=128,
                        max_target_length=128, embedding_dim=128, num_heads=4, ff_dim=256,
                        num_layers=2, dropout=0.1, start_token=1, end_token=2):
    """Transformer encoder-decoder.

    Args:
        source_vocab_size, target_vocab_size: token ids are in ``[0, size)``;
            0 is padding.
        max_source_length, max_target_length: longest inputs (learned positions).
        embedding_dim: model width; ``num_heads`` must divide it.
        num_heads: attention heads.
        ff_dim: feed-forward hidden width.
        num_layers: encoder blocks and decoder blocks.
        dropout: dropout in the blocks.
        start_token, end_token: ids that open decoder inputs and close targets.

    Layer names used by ``zoo.generation``: ``code_memory`` (encoder
    states) and ``source_mask``; the decoder is everything after them.

    >>> model = zoo.build("transformer_seq2seq", source_vocab_size=13, target_vocab_size=13)
    """
    source_vocab_size, target_vocab_size, embedding_dim, num_layers, dropout = _check_sizes(
        source_vocab_size, target_vocab_size, embedding_dim, num_layers, dropout,
        start_token, end_token)
    num_heads = validation.positive_int("num_heads", num_heads)
    if embedding_dim % num_heads:
        raise ValueError(f"`num_heads` must divide embedding_dim={embedding_dim}. "
                         f"Received: num_heads={num_heads}")
    ff_dim = validation.positive_int("ff_dim", ff_dim)
    max_source_length = validation.positive_int("max_source_length", max_source_length)
    max_target_length = validation.positive_int("max_target_length", max_target_length)

    source = keras.Input((None,), dtype="int32", name="source_tokens")
    target = keras.Input((None,), dtype="int32", name="target_tokens")
    source_mask = PaddingMask(name="source_mask")(source)
    target_mask = PaddingMask(name="target_mask")(target)

    x = layers.Embedding(source_vocab_size, embedding_dim, name="source_embedding")(source)
    x = PositionEmbedding(max_source_length, name="source_positions")(x)
    for i in range(num_layers):
        x = TransformerEncoderBlock(num_heads, ff_dim, dropout=dropout,
                                    name=f"encoder_block_{i}")(x, padding_mask=source_mask)
    memory = layers.LayerNormalization(epsilon=1e-6, name="encoder_norm")(x)
    memory = layers.Identity(name=f"{CODE_LAYER_NAME}_memory")(memory)

    y = layers.Embedding(target_vocab_size, embedding_dim, name="target_embedding")(target)
    y = PositionEmbedding(max_target_length, name="target_positions")(y)
    for i in range(num_layers):
        y = TransformerDecoderBlock(num_heads, ff_dim, dropout=dropout, cross_attention=True,
                                    name=f"decoder_block_{i}")(
            y, context=memory, padding_mask=target_mask, context_mask=source_mask)
    y = layers.LayerNormalization(epsilon=1e-6, name="decoder_norm")(y)
    logits = layers.Dense(target_vocab_size, name="logits")(y)
    return ZooModel({"source_tokens": source, "target_tokens": target}, logits,
                    name="transformer_seq2seq")


