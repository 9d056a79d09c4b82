"""Text generation for every seq2seq and decoder-only model: greedy, sampling, beam.

One decoding loop runs on the host (NumPy) for every backend; each model
kind supplies a *stepper* made of inference sub-models that share the
trained model's layers:

- Recurrent seq2seq (``lstm_seq2seq``, ``gru_seq2seq``, ``attention_seq2seq``):
  the source is encoded once; each step feeds one token and the carried
  recurrent state (plus, with attention, the encoder states computed once).
- ``lstm_lm``: the prompt is read once; each step feeds one token and the
  carried LSTM state.
- Transformers (``transformer_seq2seq``, ``gpt_decoder``): no key/value
  cache. The source is encoded once, and each step re-runs the decoder over
  a fixed-size token buffer (static shapes: one compilation per call
  shape, causal masking makes later buffer slots irrelevant), so a step
  costs the whole buffer: O(buffer) per token.

Sampling draws from a NumPy generator seeded by ``seed``, so a given seed
gives the same output on every run (and backend, up to float round-off in
the logits).
"""

import weakref

import keras
import numpy as np

from zoo import validation
from zoo.constants import PAD_ID
from zoo.layers.masking import PaddingMask
from zoo.registry import get_spec, list_models, spec_of

STRATEGIES = ("greedy", "sample", "beam")

_STEPPER_MODELS = weakref.WeakKeyDictionary()  # model -> {kind: inference sub-models}


def check_token_batch(name, tokens, vocab_size, low=0):
    """A 2-D integer array with ids in ``[low, vocab_size)``, else ValueError."""
    array = np.asarray(tokens)
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"`{name}` must be a 2-D array of integer token ids [batch, length]. "
            f"Received: {name} with shape {array.shape} and dtype {array.dtype}"
        )
    if array.shape[1] == 0:
        raise ValueError(f"`{name}` needs at least one token per row. "
                         f"Received: {name} with shape {array.shape}")
    bad = array[(array < low) | (array >= vocab_size)]
    if bad.size:
        raise ValueError(
            f"`{name}` ids must be in [{low}, {vocab_size}). Received: a token id {bad[0]}"
        )
    return array.astype("int32")


def _cached(model, key, factory):
    per_model = _STEPPER_MODELS.setdefault(model, {})
    if key not in per_model:
        per_model[key] = factory()
    return per_model[key]


def _predict(sub_model, inputs):
    return sub_model.predict_on_batch(inputs)


# --- steppers -------------------------------------------------------------------------------


class _Seq2SeqTokens:
    """Special tokens and vocabularies every seq2seq stepper reads from the config."""

    def __init__(self, model, max_length):
        config = model.zoo_config
        self.start_token = config["start_token"]
        self.stop_token = config["end_token"]
        self.vocab_size = config["target_vocab_size"]
        self.source_vocab_size = config["source_vocab_size"]
        self.banned = [PAD_ID, self.start_token]


class RecurrentSeq2SeqStepper(_Seq2SeqTokens):
    """Encoder once; then one token + carried state (+ attention memory) per step."""

    def __init__(self, model, max_length):
        super().__init__(model, max_length)
        self.encoder, self.decoder, self.state_names, self.attention = _cached(
            model, "recurrent_seq2seq", lambda: self._build(model))

    @staticmethod
    def _build(model):
        from zoo.model import code_layers, sub_model
        from zoo.seq2seq import attend

        cell = "lstm" if any(l.name == "decoder_lstm_0" for l in model.layers) else "gru"
        names = [layer.name for layer in code_layers(model)]
        attention = "code_memory" in names
        state_names = [n for n in names if n != "code_memory"]
        encoder = sub_model(model, {n: model.get_layer(n).output for n in names},
                            name=f"{model.name}_encoder")
        token = keras.Input((1,), dtype="int32", name="token")
        states = {n: keras.Input(model.get_layer(n).output.shape[1:], name=n)
                  for n in state_names}
        x = model.get_layer("target_embedding")(token)
        per_layer = 2 if cell == "lstm" else 1
        new_states = {}
        for i in range(len(state_names) // per_layer):
            layer_states = state_names[i * per_layer:(i + 1) * per_layer]
            outputs = model.get_layer(f"decoder_{cell}_{i}")(
                x, initial_state=[states[n] for n in layer_states])
            x = outputs[0]
            new_states.update(zip(layer_states, outputs[1:]))
        inputs = {"token": token, **states}
        if attention:
            memory_tensor = model.get_layer("code_memory").output
            memory = keras.Input(memory_tensor.shape[1:], name="code_memory")
            source = keras.Input((None,), dtype="int32", name="source_tokens")
            mask = PaddingMask(name="step_source_mask")(source)
            latent = model.get_layer("attention_combine").units
            x = attend(x, memory, mask, None, latent, layer_of=model.get_layer)
            inputs.update(code_memory=memory, source_tokens=source)
        logits = model.get_layer("logits")(x)
        decoder = keras.Model(inputs, {"logits": logits, **new_states},
                              name=f"{model.name}_decoder_step")
        return encoder, decoder, state_names, attention

    def check_inputs(self, source):
        return check_token_batch("source_tokens", source, self.source_vocab_size)

    def start(self, source):
        encoded = _predict(self.encoder, source)
        state = {n: encoded[n] for n in self.state_names}
        if self.attention:
            state.update(code_memory=encoded["code_memory"], source_tokens=source)
        return self.step(state, np.full(len(source), self.start_token, "int32"))

    def step(self, state, token):
        result = _predict(self.decoder, {"token": token[:, None], **state})
        new_state = dict(state)
        new_state.update({n: result[n] for n in self.state_names})
        return np.asarray(result["logits"])[:, -1], new_state


class TransformerSeq2SeqStepper(_Seq2SeqTokens):
    """Encoder once; the decoder re-reads a fixed-size target buffer per step."""

    def __init__(self, model, max_length):
        super().__init__(model, max_length)
        config = model.zoo_config
        self.max_source_length = config["max_source_length"]
        if max_length + 1 > config["max_target_length"]:
            raise ValueError(
                f"`max_length` + 1 (the start token) must fit max_target_length="
                f"{config['max_target_length']}. Received: max_length={max_length}")
        self.width = max_length + 1
        self.encoder, self.decoder = _cached(model, "transformer_seq2seq",
                                             lambda: self._build(model))

    @staticmethod
    def _build(model):
        from zoo.model import sub_model

        encoder = sub_model(model, model.get_layer("code_memory").output,
                            name=f"{model.name}_encoder")
        target = keras.Input((None,), dtype="int32", name="target_tokens")
        memory = keras.Input(model.get_layer("code_memory").output.shape[1:],
                             name="code_memory")
        source = keras.Input((None,), dtype="int32", name="source_tokens")
        y = model.get_layer("target_embedding")(target)
        y = model.get_layer("target_positions")(y)
        target_mask = PaddingMask(name="step_target_mask")(target)
        source_mask = PaddingMask(name="step_source_mask")(source)
        i = 0
        while any(layer.name == f"decoder_block_{i}" for layer in model.layers):
            y = model.get_layer(f"decoder_block_{i}")(
                y, context=memory, padding_mask=target_mask, context_mask=source_mask)
            i += 1
        logits = model.get_layer("logits")(model.get_layer("decoder_norm")(y))
        decoder = keras.Model({"target_tokens": target, "code_memory": memory,
                               "source_tokens": source}, logits,
                              name=f"{model.name}_decoder")
        return encoder, decoder

    def check_inputs(self, source):
        source = check_token_batch("source_tokens", source, self.source_vocab_size)
        if source.shape[1] > self.max_source_length:
            raise ValueError(f"The source is longer than max_source_length="
                             f"{self.max_source_length}. Received: source_tokens with "
                             f"{source.shape[1]} tokens per row")
        return source

    def start(self, source):
        buffer = np.zeros((len(source), self.width), "int32")
        buffer[:, 0] = self.start_token
        state = {"target_tokens": buffer, "source_tokens": source,
                 "code_memory": _predict(self.encoder, source)}
        self.position = 0
        return self._logits(state), state

    def _logits(self, state):
        return np.asarray(_predict(self.decoder, state))[:, self.position]

    def step(self, state, token):
        self.position += 1
        buffer = state["target_tokens"].copy()
        buffer[:, self.position] = token
        state = {**state, "target_tokens": buffer}
        return self._logits(state), state


class LstmLmStepper:
    """Prompt read once; then one token + carried LSTM states per step."""

    def __init__(self, model, max_length):
        self.vocab_size = model.zoo_config["vocab_size"]
        self.start_token = None
        self.stop_token = None
        self.banned = [PAD_ID]
        self.step_model, self.state_shapes = _cached(model, "lstm_lm",
                                                     lambda: self._build(model))

    @staticmethod
    def _build(model):
        tokens = keras.Input((None,), dtype="int32", name="tokens")
        x = model.get_layer("token_embedding")(tokens)
        inputs, outputs, shapes = {"tokens": tokens}, {}, {}
        i = 0
        while any(layer.name == f"lm_lstm_{i}" for layer in model.layers):
            layer = model.get_layer(f"lm_lstm_{i}")
            names = (f"h_{i}", f"c_{i}")
            for n in names:
                inputs[n] = keras.Input((layer.units,), name=n)
                shapes[n] = layer.units
            x, h, c = layer(x, initial_state=[inputs[n] for n in names])
            outputs.update(zip(names, (h, c)))
            i += 1
        outputs["logits"] = model.get_layer("logits")(x)
        return keras.Model(inputs, outputs, name=f"{model.name}_step"), shapes

    def check_inputs(self, prompt):
        return check_token_batch("prompt", prompt, self.vocab_size, low=1)

    def start(self, prompt):
        state = {n: np.zeros((len(prompt), units), "float32")
                 for n, units in self.state_shapes.items()}
        return self._run(state, prompt)

    def _run(self, state, tokens):
        result = _predict(self.step_model, {"tokens": tokens, **state})
        return np.asarray(result["logits"])[:, -1], {n: result[n] for n in self.state_shapes}

    def step(self, state, token):
        return self._run(state, token[:, None])


class GptStepper:
    """The decoder re-reads a fixed-size buffer (prompt + room) per step."""

    def __init__(self, model, max_length):
        self.model = model
        self.vocab_size = model.zoo_config["vocab_size"]
        self.max_positions = model.zoo_config["max_length"]
        self.max_length = max_length
        self.start_token = None
        self.stop_token = None
        self.banned = [PAD_ID]

    def check_inputs(self, prompt):
        prompt = check_token_batch("prompt", prompt, self.vocab_size, low=1)
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
        state = {"tokens": buffer}
        return self._logits(state), state

    def _logits(self, state):
        return np.asarray(_predict(self.model, state["tokens"]))[:, self.position]

    def step(self, state, token):
        self.position += 1
        buffer = state["tokens"].copy()
        buffer[:, self.position] = token
        state = {"tokens": buffer}
        return self._logits(state), state


def _stepper_for(model, max_length):
    try:
        capabilities = spec_of(model).capabilities
    except ValueError:
        capabilities = None
    if capabilities is None or capabilities.generation is None:
        generators = [name for name in list_models()
                      if get_spec(name).capabilities.generation is not None]
        raise ValueError(
            "zoo.generate needs a seq2seq or decoder-only model built by the zoo "
            f"({', '.join(generators)}). "
            f"Received: model={getattr(model, 'name', model)!r}"
        )
    return capabilities.stepper(model, max_length)


# --- the decoding loop ----------------------------------------------------------------------


def _log_softmax(logits):
    logits = logits.astype("float64")
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _choose(logits, strategy, temperature, top_k, rng):
    if strategy == "greedy":
        return logits.argmax(axis=-1).astype("int32")
    scaled = logits.astype("float64") / temperature
    if top_k is not None and top_k < scaled.shape[-1]:
        kth = np.sort(scaled, axis=-1)[:, -top_k][:, None]
        scaled = np.where(scaled < kth, -np.inf, scaled)
    probs = np.exp(_log_softmax(scaled))
    cumulative = probs.cumsum(axis=-1)
    draws = rng.random(len(probs))[:, None] * cumulative[:, -1:]
    return np.minimum((cumulative < draws).sum(axis=-1), probs.shape[-1] - 1).astype("int32")


def _finish(ids, stop_token):
    """Stop token and everything after it -> padding."""
    if stop_token is None:
        return ids
    stopped = np.cumsum(ids == stop_token, axis=1) > 0
    return np.where(stopped, PAD_ID, ids).astype("int32")


def generate(model, inputs, max_length, strategy="greedy", temperature=1.0, top_k=None,
             beam_width=4, seed=None, stop_token="default"):
    """Generate token ids with any seq2seq or decoder-only zoo model.

    Args:
        model: a model from ``zoo.build`` or ``zoo.load`` whose registry
            entry is a seq2seq or decoder-only model.
        inputs: int array ``[batch, length]``: the 0-padded source for
            seq2seq models; the prompt (no padding, ids >= 1) for
            decoder-only models.
        max_length: most new tokens per row.
        strategy: ``"greedy"`` (arg-max), ``"sample"`` (from the softmax of
            ``logits / temperature``, optionally only the ``top_k`` best),
            or ``"beam"`` (beam search keeping ``beam_width`` hypotheses by
            total log-probability).
        temperature: > 0; only for ``"sample"``.
        top_k: keep the k most likely tokens when sampling (None: all).
        beam_width: hypotheses kept by ``"beam"``.
        seed: integer seed for ``"sample"``; the same seed gives the same
            output.
        stop_token: id that ends a row (``"default"``: the model's
            ``end_token`` for seq2seq, none for language models; ``None``:
            never stop early).

    Returns:
        int32 NumPy array ``[batch, max_length]`` of new tokens (no start
        token, no prompt). The stop token and everything after it are 0.

    Raises:
        ValueError: ``max_length`` <= 0, an unknown strategy, a bad
            ``temperature``/``top_k``/``beam_width``, token ids outside the
            vocabulary, or a prompt/source longer than the model allows.

    >>> ids = zoo.generate(model, source, max_length=10, strategy="beam", beam_width=4)
    """
    max_length = validation.positive_int("max_length", max_length)
    validation.choice("strategy", strategy, STRATEGIES)
    stepper = _stepper_for(model, max_length)
    batch = stepper.check_inputs(inputs)
    if strategy == "sample":
        validation.positive_float("temperature", temperature)
        if top_k is not None:
            validation.positive_int("top_k", top_k)
    if strategy == "beam":
        beam_width = validation.positive_int("beam_width", beam_width)
    if seed is not None:
        validation.non_negative_int("seed", seed)
    if stop_token == "default":
        stop_token = stepper.stop_token
    elif stop_token is not None:
        validation.non_negative_int("stop_token", stop_token)
        if stop_token >= stepper.vocab_size:
            raise ValueError(f"`stop_token` must be below the vocabulary size "
                             f"{stepper.vocab_size}. Received: stop_token={stop_token}")

    if strategy == "beam":
        return _beam_search(stepper, batch, max_length, beam_width, stop_token)
    rng = np.random.default_rng(seed)
    output = np.zeros((len(batch), max_length), "int32")
    finished = np.zeros(len(batch), bool)
    logits, state = stepper.start(batch)
    for t in range(max_length):
        logits = np.array(logits, "float64")
        logits[:, stepper.banned] = -np.inf
        token = _choose(logits, strategy, temperature, top_k, rng)
        output[:, t] = np.where(finished, PAD_ID, token)
        if stop_token is not None:
            finished |= token == stop_token
        if finished.all() or t == max_length - 1:
            break
        logits, state = stepper.step(state, token)
    return _finish(output, stop_token)


def _beam_search(stepper, batch, max_length, width, stop_token):
    size = len(batch)
    logits, state = stepper.start(np.repeat(batch, width, axis=0))
    scores = np.full((size, width), -np.inf)
    scores[:, 0] = 0.0  # all beams start identical: keep one alive
    sequences = np.zeros((size, width, 0), "int32")
    finished = np.zeros((size, width), bool)
    for t in range(max_length):
        logits = np.array(logits, "float64")
        logits[:, stepper.banned] = -np.inf  # renormalise over the allowed tokens
        log_probs = _log_softmax(logits).reshape(size, width, -1)
        vocab = log_probs.shape[-1]
        # A finished hypothesis only continues with padding, at no cost.
        log_probs[finished] = -np.inf
        log_probs[finished, PAD_ID] = 0.0
        candidates = (scores[..., None] + log_probs).reshape(size, width * vocab)
        best = np.argsort(-candidates, axis=1, kind="stable")[:, :width]
        beam, token = best // vocab, (best % vocab).astype("int32")
        scores = np.take_along_axis(candidates, best, axis=1)
        sequences = np.concatenate(
            [np.take_along_axis(sequences, beam[..., None], axis=1), token[..., None]], axis=2)
        finished = np.take_along_axis(finished, beam, axis=1)
        if stop_token is not None:
            finished |= token == stop_token
        if finished.all() or t == max_length - 1:
            break
        rows = (np.arange(size)[:, None] * width + beam).reshape(-1)
        state = {key: np.take(value, rows, axis=0) for key, value in state.items()}
        logits, state = stepper.step(state, token.reshape(-1))
    best_beam = scores.argmax(axis=1)
    output = np.zeros((size, max_length), "int32")
    chosen = sequences[np.arange(size), best_beam]
    output[:, :chosen.shape[1]] = chosen
    return _finish(output, stop_token)


def greedy_decode(model, source_tokens, max_length):
    """Greedy decoding for seq2seq models: ``generate(..., strategy="greedy")``."""
    return generate(model, source_tokens, max_length, strategy="greedy")
