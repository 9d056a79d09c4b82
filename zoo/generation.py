"""Text generation for every seq2seq and decoder-only model: greedy, sampling, beam.

One decoding loop runs on the host (NumPy) for every backend. It knows no
model: it asks the model's registry entry for its stepper
(``spec.capabilities.stepper``, a ``Stepper`` subclass declared in the
model's own file, next to the builder whose layers it reuses) and drives
it one token at a time. Sampling draws from a NumPy generator seeded by
``seed``, so a given seed gives the same output on every run (and backend,
up to float round-off in the logits).

>>> import zoo
>>> import numpy as np
>>> model = zoo.build("lstm_seq2seq", size="toy")
>>> ids = zoo.generate(model, np.array([[3, 4, 5]]), max_length=4, strategy="beam")
>>> ids.shape, ids.dtype
((1, 4), dtype('int32'))
"""

import weakref

import numpy as np

from zoo import validation
from zoo.constants import PAD_ID
from zoo.registry import get_spec, list_models, model_params, spec_of

STRATEGIES = ("greedy", "sample", "beam")

_INFERENCE_MODELS = weakref.WeakKeyDictionary()  # model -> {stepper class: built models}


def check_token_batch(name, tokens, vocab_size, low=0):
    """A 2-D integer array with ids in ``[low, vocab_size)``, else ValueError.

    >>> import zoo
    >>> from zoo.generation import check_token_batch
    >>> check_token_batch("prompt", [[3, 4]], vocab_size=5).dtype
    dtype('int32')
    """
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


class Stepper:
    """Runs one model a token at a time for ``generate`` (the stepper protocol).

    A generating model declares its stepper in its registration
    (``Capabilities(generation=..., stepper=MyStepper)``); ``generate``
    calls ``MyStepper(model, max_length)``, then ``check_inputs`` once,
    ``start`` once and ``step`` once per new token. Steppers read what they
    need from ``zoo.model_params(model)`` (``self.params``) and reach layers
    through the names their builder declares, never by guessing.

    A subclass sets ``vocab_size`` (logits width), ``stop_token`` (the id
    that ends a row by default, or ``None``) and ``banned`` (ids never
    generated), and implements:

    - ``check_inputs(inputs)``: the checked int32 batch, else ValueError;
    - ``start(inputs)``: ``(logits, state)`` for the first new token;
    - ``step(state, token)``: ``(logits, state)`` after feeding ``token``.

    ``logits`` is ``[batch, vocab_size]``; ``state`` is a dict of arrays
    whose first axis is the batch (beam search reorders rows). Inference
    sub-models come from ``build()``, which ``inference_models()`` calls
    once per model.

    Args:
        model: a model from ``zoo.build`` or ``zoo.load``.
        max_length: most new tokens per row.

    >>> import zoo
    >>> stepper = zoo.get_spec("lstm_lm").capabilities.stepper
    >>> issubclass(stepper, zoo.generation.Stepper)
    True
    """

    vocab_size = None
    stop_token = None
    banned = (PAD_ID,)

    def __init__(self, model, max_length):
        self.model = model
        self.max_length = max_length
        self.params = model_params(model)

    def build(self):
        """The inference sub-models this stepper runs (sharing the model's layers)."""
        return None

    def inference_models(self):
        """``build()``'s result, built once per model and stepper class."""
        per_model = _INFERENCE_MODELS.setdefault(self.model, {})
        if type(self) not in per_model:
            per_model[type(self)] = self.build()
        return per_model[type(self)]

    @staticmethod
    def predict(sub_model, inputs):
        """One forward pass of ``sub_model`` on host arrays."""
        return sub_model.predict_on_batch(inputs)

    def check_inputs(self, inputs):
        raise NotImplementedError

    def start(self, inputs):
        raise NotImplementedError

    def step(self, state, token):
        raise NotImplementedError


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
    # Scaled as (logits - max) / temperature: the best token gets 0 and the
    # others a finite or -inf score, so no temperature (however small or
    # large) makes inf - inf = NaN; banned tokens (-inf) stay -inf.
    allowed = np.isfinite(logits)
    shifted = logits - np.where(allowed, logits, -np.inf).max(axis=-1, keepdims=True)
    with np.errstate(over="ignore", under="ignore"):
        scaled = np.where(allowed, shifted / temperature, -np.inf)
    if top_k is not None and top_k < scaled.shape[-1]:
        kth = np.sort(scaled, axis=-1)[:, -top_k][:, None]
        scaled = np.where(scaled < kth, -np.inf, scaled)
    probs = np.exp(_log_softmax(scaled))
    cumulative = probs.cumsum(axis=-1)
    draws = rng.random(len(probs))[:, None] * cumulative[:, -1:]
    return np.minimum((cumulative < draws).sum(axis=-1), probs.shape[-1] - 1).astype("int32")


def _checked_logits(logits, banned, step):
    """Host float64 logits with the banned ids at -inf; NaN logits are refused."""
    logits = np.array(logits, "float64")
    if np.isnan(logits).any():
        raise ValueError("The model produced NaN logits (its weights or its inputs hold NaN "
                         "or inf), so no token can be chosen. "
                         f"Received: NaN logits at generation step {step}")
    logits[:, list(banned)] = -np.inf
    if not np.isfinite(logits).any(axis=-1).all():
        raise ValueError("Every token the model may generate has logit -inf. "
                         f"Received: no finite logit at generation step {step}")
    return logits


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
        temperature: a finite number > 0; only for ``"sample"`` (it is
            checked whatever the strategy: NaN, 0, negative or infinite
            values are refused).
        top_k: keep the k most likely tokens when sampling (None: all; a
            positive integer, all tokens when it exceeds the vocabulary).
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

    >>> import zoo
    >>> import numpy as np
    >>> model = zoo.build("gpt_decoder", size="toy")
    >>> zoo.generate(model, np.array([[3, 4]]), max_length=5, strategy="sample",
    ...              seed=0).shape
    (1, 5)
    """
    max_length = validation.positive_int("max_length", max_length)
    validation.choice("strategy", strategy, STRATEGIES)
    stepper = _stepper_for(model, max_length)
    batch = stepper.check_inputs(inputs)
    temperature = validation.positive_float("temperature", temperature)
    if top_k is not None:
        top_k = validation.positive_int("top_k", top_k)
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
        logits = _checked_logits(logits, stepper.banned, t)
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
        logits = _checked_logits(logits, stepper.banned, t)  # renormalised over the allowed
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
