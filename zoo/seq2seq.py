"""Seq2seq family: recurrent encoder-decoders, and greedy decoding.

Token conventions shared by every seq2seq model: id 0 is padding (masked in
the encoder, the decoder, the loss and the metric), ``start_token`` opens
every decoder input and ``end_token`` closes every target. Training uses
teacher forcing: the decoder reads ``[start, y1 .. yn]`` and is scored on
``[y1 .. yn, end]``.
"""

import weakref

import keras
import numpy as np
from keras import layers

from zoo import losses, validation
from zoo.model import CODE_LAYER_NAME, ZooModel, code_layers, sub_model
from zoo.registry import register_model

PAD_ID = 0

_RNN_LAYERS = {"lstm": layers.LSTM, "gru": layers.GRU}
_STATE_NAMES = {"lstm": ("h", "c"), "gru": ("h",)}


def compile_seq2seq(model, learning_rate=1e-3, jit_compile="auto"):
    losses.compile_model(
        model,
        loss=losses.MaskedSparseCrossentropy(pad_id=PAD_ID, from_logits=True),
        metrics=[losses.MaskedSparseAccuracy(pad_id=PAD_ID)],
        learning_rate=learning_rate,
        jit_compile=jit_compile,
    )


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


def recurrent_seq2seq(cell, source_vocab_size, target_vocab_size, embedding_dim,
                      latent_dim, num_layers, dropout, start_token, end_token, name):
    """Encoder-decoder whose final encoder states start the decoder.

    Layer names are part of the contract used by ``greedy_decode``:
    ``target_embedding``, ``decoder_<cell>_<i>``, ``logits``, and the code
    layers ``code_<state>_<i>`` carrying each encoder layer's final states.
    """
    source_vocab_size = validation.positive_int("source_vocab_size", source_vocab_size)
    target_vocab_size = validation.positive_int("target_vocab_size", target_vocab_size)
    embedding_dim = validation.positive_int("embedding_dim", embedding_dim)
    latent_dim = validation.positive_int("latent_dim", latent_dim)
    num_layers = validation.positive_int("num_layers", num_layers)
    dropout = validation.rate("dropout", dropout)
    _check_special_tokens(target_vocab_size, start_token, end_token)
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
    logits = layers.Dense(target_vocab_size, name="logits")(y)
    return ZooModel({"source_tokens": source, "target_tokens": target}, logits, name=name)


def _seq2seq_search_space(hp):
    return {
        "embedding_dim": hp.Int("embedding_dim", 16, 256, sampling="log"),
        "latent_dim": hp.Int("latent_dim", 32, 512, sampling="log"),
        "num_layers": hp.Int("num_layers", 1, 3),
        "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1),
        "learning_rate": hp.Float("learning_rate", 1e-4, 1e-2, sampling="log"),
    }


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
    search_space=_seq2seq_search_space,
    toy={"source_vocab_size": 11, "target_vocab_size": 12, "embedding_dim": 4,
         "latent_dim": 6, "num_layers": 2},
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


# model -> (encoder model, one-step decoder model); weights are shared.
_DECODERS = weakref.WeakKeyDictionary()


def _cell_of(model):
    for cell in _RNN_LAYERS:
        if any(layer.name == f"decoder_{cell}_0" for layer in model.layers):
            return cell
    raise ValueError(
        "greedy_decode needs a recurrent seq2seq model built by the zoo "
        f"(layers 'decoder_lstm_0' or 'decoder_gru_0'). Received: model={model.name!r}"
    )


def _decoding_models(model):
    if model in _DECODERS:
        return _DECODERS[model]
    cell = _cell_of(model)
    state_layers = [layer.name for layer in code_layers(model)]
    # Always a dict, even for a single state (one-layer GRU).
    encoder_model = sub_model(model, {name: model.get_layer(name).output for name in state_layers},
                              name=f"{model.name}_encoder")
    num_layers = sum(1 for layer in model.layers if layer.name.startswith(f"decoder_{cell}_"))
    token = keras.Input((1,), dtype="int32", name="token")
    state_inputs = {name: keras.Input(model.get_layer(name).output.shape[1:], name=name)
                    for name in state_layers}
    x = model.get_layer("target_embedding")(token)
    new_states = {}
    per_layer = len(_STATE_NAMES[cell])
    for i in range(num_layers):
        names = state_layers[i * per_layer:(i + 1) * per_layer]
        outputs = model.get_layer(f"decoder_{cell}_{i}")(
            x, initial_state=[state_inputs[name] for name in names])
        x = outputs[0]
        new_states.update(zip(names, outputs[1:]))
    logits = model.get_layer("logits")(x)
    step = keras.Model({"token": token, **state_inputs},
                       {"logits": logits, **new_states}, name=f"{model.name}_decoder_step")
    _DECODERS[model] = (encoder_model, step)
    return encoder_model, step


def check_token_batch(name, tokens, vocab_size):
    """A 2-D integer array with ids in ``[0, vocab_size)``, else ValueError."""
    array = np.asarray(tokens)
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"`{name}` must be a 2-D array of integer token ids [batch, length]. "
            f"Received: {name} with shape {array.shape} and dtype {array.dtype}"
        )
    if array.size and (array.min() < 0 or array.max() >= vocab_size):
        bad = array[(array < 0) | (array >= vocab_size)][0]
        raise ValueError(
            f"`{name}` ids must be in [0, {vocab_size}). Received: a token id {bad}"
        )
    return array.astype("int32")


def greedy_decode(model, source_tokens, max_length):
    """Translate a batch with greedy (arg-max) decoding.

    The source is encoded once; the decoder then carries its recurrent state
    from step to step, so each step costs one token, not the whole prefix.

    Args:
        model: a recurrent seq2seq model from ``zoo.build`` (or loaded).
        source_tokens: int array ``[batch, source_len]``, 0-padded.
        max_length: most tokens to generate per row.

    Returns:
        int32 NumPy array ``[batch, max_length]``: the generated ids, without
        the start token; the end token and everything after it become 0.

    >>> ids = zoo.greedy_decode(model, np.array([[3, 4, 5]]), max_length=5)
    """
    config = getattr(model, "zoo_config", {}) or {}
    if "source_vocab_size" not in config:
        raise ValueError(
            "greedy_decode needs a zoo seq2seq model (its zoo_config names the "
            f"vocabularies and special tokens). Received: model={model.name!r}"
        )
    max_length = validation.positive_int("max_length", max_length)
    source = check_token_batch("source_tokens", source_tokens, config["source_vocab_size"])
    start, end = config["start_token"], config["end_token"]
    encoder_model, step = _decoding_models(model)

    states = encoder_model.predict_on_batch(source)
    batch = source.shape[0]
    token = np.full((batch, 1), start, "int32")
    output = np.zeros((batch, max_length), "int32")
    finished = np.zeros(batch, bool)
    for t in range(max_length):
        result = step.predict_on_batch({"token": token, **states})
        logits = np.asarray(result.pop("logits"))[:, -1, :].copy()
        logits[:, [PAD_ID, start]] = -np.inf  # never emit padding or a new start
        next_token = logits.argmax(axis=-1).astype("int32")
        finished |= next_token == end
        output[:, t] = np.where(finished, PAD_ID, next_token)
        if finished.all():
            break
        token = next_token[:, None]
        states = result
    return output

