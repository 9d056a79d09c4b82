"""Text generation for every seq2seq and decoder-only model: greedy, sampling, beam.

The whole decoding loop runs on the device, as one compiled function per
model and shape: ``keras.ops.while_loop``, compiled by
``zoo.backend_compile`` (``jax.jit`` with the weights passed as arguments,
so later training is seen; ``tf.function`` with XLA; torch eagerly under
``torch.no_grad``). The loop knows no
model: it asks the model's registry entry for its stepper
(``spec.capabilities.stepper``, a ``Stepper`` subclass declared in the
model's own file, next to the builder whose layers it reuses), which reads
the inputs once (``start``: a prompt into a key/value cache, a source
through the encoder) and then feeds one token per row per step (``step``).

Compiled functions are cached per model and per static layout (batch,
strategy, and the prompt/source and new-token lengths rounded up to
buckets), so a second call with the same shapes, or with a prompt of
another length in the same bucket, does not compile again.

Sampling draws its uniform numbers on the host from a NumPy generator
seeded by ``seed`` and passes them in, so a seed gives the same tokens on
every run (and on every backend, up to float round-off in the logits).

>>> import zoo
>>> import numpy as np
>>> model = zoo.build("lstm_seq2seq", size="toy")
>>> ids = zoo.generate(model, np.array([[3, 4, 5]]), max_length=4, strategy="beam")
>>> ids.shape, ids.dtype
((1, 4), dtype('int32'))
"""

import collections
import math
import weakref

import numpy as np
from keras import ops

from zoo import validation
from zoo.backend_compile import compile_inference
from zoo.constants import PAD_ID
from zoo.registry import get_spec, list_models, model_params, spec_of

STRATEGIES = ("greedy", "sample", "beam")
MIN_BUCKET = 8

# model -> {static layout: _Compiled} and model -> its stepper; dropped with the model.
_COMPILED = weakref.WeakKeyDictionary()
_STEPPERS = weakref.WeakKeyDictionary()

# Loop problems, reported on the host after the loop (a compiled loop cannot raise).
_NAN_LOGITS, _NO_FINITE_LOGIT = 1, 2


def bucket(length, cap=None):
    """``length`` rounded up to a power of two (at least 8), at most ``cap``.

    Shapes are rounded so that a new prompt length does not always mean a
    new compilation.

    >>> bucket(3), bucket(9), bucket(200, cap=128)
    (8, 16, 128)
    """
    size = max(MIN_BUCKET, 1 << max(0, int(length) - 1).bit_length())
    return size if cap is None else min(size, cap)


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
    if array.shape[0] == 0:
        raise ValueError(f"`{name}` needs at least one row (an empty batch has nothing to "
                         f"generate from). Received: {name} with shape {array.shape}")
    if array.shape[1] == 0:
        raise ValueError(f"`{name}` needs at least one token per row. "
                         f"Received: {name} with shape {array.shape}")
    bad = array[(array < low) | (array >= vocab_size)]
    if bad.size:
        raise ValueError(
            f"`{name}` ids must be in [{low}, {vocab_size}). Received: a token id {bad[0]}"
        )
    return array.astype("int32")


def check_right_padded(name, tokens, vocab_size):
    """Rows of ids in ``[1, vocab_size)`` followed by 0-padding; returns ``(tokens, lengths)``.

    Rows of different lengths share one batch by padding with 0 at the
    end; a row needs at least one token and no padding before its last one.

    >>> tokens, lengths = check_right_padded("prompt", [[3, 4, 0], [5, 0, 0]], 6)
    >>> lengths.tolist()
    [2, 1]
    """
    tokens = check_token_batch(name, tokens, vocab_size)
    real = tokens != PAD_ID
    lengths = real.sum(axis=1).astype("int32")
    empty = np.flatnonzero(lengths == 0)
    if empty.size:
        raise ValueError(f"Every row of `{name}` needs at least one token (ids >= 1). "
                         f"Received: row {empty[0]} holds only padding (0)")
    inside = np.flatnonzero((real != (np.arange(tokens.shape[1])[None, :] < lengths[:, None]))
                            .any(axis=1))
    if inside.size:
        raise ValueError(f"`{name}` may hold padding (0) only at the end of a row. "
                         f"Received: row {inside[0]} = {tokens[inside[0]].tolist()}")
    return tokens, lengths


def pad_to(array, width):
    """``array`` ``[batch, length]`` padded with 0 on the right to ``width`` columns."""
    padded = np.zeros((array.shape[0], width), array.dtype)
    padded[:, :array.shape[1]] = array
    return padded


Prepared = collections.namedtuple("Prepared", ["feeds", "layout"])
Prepared.__doc__ = """What ``Stepper.prepare`` returns: host arrays and the static layout.

``feeds`` is a dict of NumPy arrays whose first axis is the batch (beam
search repeats each row); ``layout`` is a hashable tuple of Python values
fixing every shape the compiled loop sees (part of the cache key)."""


class Stepper:
    """Runs one model a token at a time for ``generate`` (the stepper protocol).

    A generating model declares its stepper in its registration
    (``Capabilities(generation=..., stepper=MyStepper)``). ``generate``
    calls ``MyStepper(model)``, then ``prepare(inputs, max_length)`` on the
    host, and, inside the compiled loop, ``start`` once and ``step`` once per
    new token. Steppers read what they need from ``zoo.model_params(model)``
    (``self.params``) and reach layers through the names their builder
    declares, never by guessing.

    A subclass sets ``vocab_size`` (logits width), ``stop_token`` (the id
    that ends a row by default, or ``None``) and ``banned`` (ids never
    generated), and implements:

    - ``prepare(inputs, max_length)``: checks on the host (ValueError
      naming the value) and returns a ``Prepared(feeds, layout)``;
    - ``start(feeds, layout)``: ``(logits, cache)`` for the first new token;
    - ``step(cache, token, layout)``: ``(logits, cache)`` after feeding
      ``token`` (``[batch]`` int32).

    ``start`` and ``step`` run traced (``keras.ops`` only, static shapes).
    ``logits`` is ``[batch, vocab_size]``; ``cache`` is a dict of tensors
    whose first axis is the batch (beam search reorders rows).

    Args:
        model: a model from ``zoo.build`` or ``zoo.load``.

    >>> import zoo
    >>> stepper = zoo.get_spec("lstm_lm").capabilities.stepper
    >>> issubclass(stepper, zoo.generation.Stepper)
    True
    """

    vocab_size = None
    stop_token = None
    banned = (PAD_ID,)

    def __init__(self, model):
        # No reference to ``model`` is kept: steppers and compiled loops are cached per
        # model in weak dictionaries, and must not keep the model alive.
        self.params = model_params(model)

    def prepare(self, inputs, max_length):
        raise NotImplementedError

    def start(self, feeds, layout):
        raise NotImplementedError

    def step(self, cache, token, layout):
        raise NotImplementedError

    def teacher_forcing(self, inputs, targets):
        """``(model_inputs, positions, targets)`` for ``zoo.score``, else ValueError.

        ``positions`` ``[batch, length]`` says where, on the time axis of
        the model's logits, each target token is predicted; ``targets`` 0
        is not scored.
        """
        raise NotImplementedError

    def run(self, inputs, max_length):
        """``(logits, cache)`` of ``start`` then every ``step``, eagerly, for tests.

        Feeds ``inputs`` (checked by ``prepare``) and then, greedily, the
        arg-max token of each step; returns the ``[batch, max_length,
        vocab_size]`` logits, as NumPy, that the compiled loop chooses from.
        """
        prepared = self.prepare(inputs, max_length)
        feeds = {key: ops.convert_to_tensor(value) for key, value in prepared.feeds.items()}
        logits, cache = self.start(feeds, prepared.layout)
        every = []
        for t in range(max_length):
            logits = _banned_to_minus_inf(ops.cast(logits, "float32"),
                                          ops.convert_to_tensor(self.banned_mask()))
            every.append(ops.convert_to_numpy(logits))
            if t < max_length - 1:
                logits, cache = self.step(cache, ops.cast(ops.argmax(logits, axis=-1), "int32"),
                                          prepared.layout)
        return np.stack(every, axis=1)

    def banned_mask(self):
        """Boolean NumPy ``[vocab_size]``: True for the ids never generated (``banned``)."""
        mask = np.zeros(self.vocab_size, bool)
        mask[list(self.banned)] = True
        return mask


def _stepper_for(model):
    if model in _STEPPERS:
        return _STEPPERS[model]
    try:
        capabilities = spec_of(model).capabilities
    except ValueError:
        capabilities = None
    if capabilities is None or capabilities.generation is None:
        generators = [name for name in list_models()
                      if get_spec(name).capabilities.generation is not None]
        raise ValueError(
            "zoo.generate (and zoo.score) needs a seq2seq or decoder-only model built by the zoo "
            f"({', '.join(generators)}). "
            f"Received: model={getattr(model, 'name', model)!r}"
        )
    _STEPPERS[model] = capabilities.stepper(model)
    return _STEPPERS[model]


# --- choosing tokens (traced) -----------------------------------------------------------------


def _banned_to_minus_inf(logits, banned_mask):
    return ops.where(banned_mask[None, :], -np.inf, logits)


def _problem(raw_logits, logits):
    """0, or the code of what makes ``logits`` unusable (NaN; no finite logit)."""
    nan = ops.any(ops.isnan(raw_logits))
    none_finite = ops.logical_not(ops.all(ops.any(ops.isfinite(logits), axis=-1)))
    code = ops.where(nan, _NAN_LOGITS, ops.where(none_finite, _NO_FINITE_LOGIT, 0))
    return ops.cast(code, "int32")


def _descending(x):
    return ops.flip(ops.sort(x, axis=-1), axis=-1)


def _sample(logits, draw, options, controls):
    """One token per row from ``softmax(logits / temperature)`` (top-k, top-p), by inverse CDF.

    Scaled as ``(logits - max) / temperature``: the best token gets 0 and
    the others a finite or -inf score, so no temperature (however small or
    large) makes inf - inf = NaN; banned tokens (-inf) stay -inf.
    """
    allowed = ops.isfinite(logits)
    best = ops.max(ops.where(allowed, logits, -np.inf), axis=-1, keepdims=True)
    scaled = ops.where(allowed, (logits - best) / controls["temperature"], -np.inf)
    if options.top_k:
        kth = ops.take(_descending(scaled), controls["top_k"] - 1, axis=1)[:, None]
        scaled = ops.where(scaled < kth, -np.inf, scaled)
    probs = ops.softmax(scaled, axis=-1)
    if options.top_p:
        ordered = _descending(probs)
        before = ops.cumsum(ordered, axis=-1) - ordered
        kept = ops.where(before < controls["top_p"], ordered, np.inf)
        probs = ops.where(probs >= ops.min(kept, axis=-1, keepdims=True), probs, 0.0)
    cumulative = ops.cumsum(probs, axis=-1)
    target = draw[:, None] * cumulative[:, -1:]
    chosen = ops.logical_and(cumulative >= target, probs > 0)
    sampled = ops.argmax(ops.cast(chosen, "int32"), axis=-1)
    # Never a banned token: were round-off to leave no candidate, take the best one.
    return ops.cast(ops.where(ops.any(chosen, axis=-1), sampled, ops.argmax(logits, axis=-1)),
                    "int32")


def _choose(logits, draw, options, controls):
    if options.strategy == "greedy":
        return ops.cast(ops.argmax(logits, axis=-1), "int32")
    return _sample(logits, draw, options, controls)


Options = collections.namedtuple("Options", ["strategy", "top_k", "top_p", "beam_width"])


# --- the decoding loops (traced) -------------------------------------------------------------


def _checked(raw, banned_mask):
    raw = ops.cast(raw, "float32")
    logits = _banned_to_minus_inf(raw, banned_mask)
    return logits, _problem(raw, logits)


def _sampling_loop(stepper, options, layout, feeds, controls):
    banned = controls["banned"]
    raw, cache = stepper.start(feeds, layout)
    logits, problem = _checked(raw, banned)
    token = _choose(logits, controls["draws"][0], options, controls)
    batch = ops.shape(token)[0]
    output = ops.zeros((batch, ops.shape(controls["draws"])[0]), "int32")
    output = ops.slice_update(output, (0, 0), token[:, None])
    finished = ops.equal(token, controls["stop_token"])
    failed_at = ops.cast(ops.where(problem > 0, 0, -1), "int32")

    def cond(t, token, cache, output, finished, problem, failed_at):
        return ops.logical_and(
            ops.logical_and(t < controls["max_length"], ops.logical_not(ops.all(finished))),
            problem == 0)

    def body(t, token, cache, output, finished, problem, failed_at):
        raw, cache = stepper.step(cache, token, layout)
        logits, problem = _checked(raw, banned)
        token = _choose(logits, ops.take(controls["draws"], t, axis=0), options, controls)
        token = ops.where(finished, PAD_ID, token)
        output = ops.slice_update(output, (0, t), token[:, None])
        finished = ops.logical_or(finished, ops.equal(token, controls["stop_token"]))
        failed_at = ops.where(problem > 0, t, failed_at)
        return t + 1, token, cache, output, finished, problem, failed_at

    state = ops.while_loop(cond, body, (ops.convert_to_tensor(1, "int32"), token, cache,
                                        output, finished, problem, failed_at))
    return state[3], state[5], state[6], state[0]


def _beam_loop(stepper, options, layout, feeds, controls):
    """Beam search over ``batch * width`` rows (the feeds repeat each row ``width`` times)."""
    width, banned = options.beam_width, controls["banned"]
    raw, cache = stepper.start(feeds, layout)
    rows = ops.shape(raw)[0]
    size = rows // width
    vocab = ops.shape(raw)[-1]
    steps = ops.shape(controls["draws"])[0]
    # All beams start identical: keep one alive.
    scores = ops.tile(ops.convert_to_tensor([[0.0] + [-np.inf] * (width - 1)], "float32"),
                      (size, 1))
    sequences = ops.zeros((size, width, steps), "int32")
    finished = ops.zeros((size, width), "bool")
    pad_only = ops.where(ops.arange(vocab) == PAD_ID, 0.0, -np.inf)

    def advance(t, raw, cache, scores, sequences, finished):
        logits, problem = _checked(raw, banned)  # renormalised over the allowed
        log_probs = ops.reshape(ops.log_softmax(logits, axis=-1), (size, width, vocab))
        # A finished hypothesis only continues with padding, at no cost.
        log_probs = ops.where(finished[..., None], pad_only, log_probs)
        candidates = ops.reshape(scores[..., None] + log_probs, (size, width * vocab))
        scores, best = ops.top_k(candidates, width, sorted=True)
        beam, token = best // vocab, ops.cast(best % vocab, "int32")
        sequences = ops.take_along_axis(sequences, beam[..., None], axis=1)
        sequences = ops.slice_update(sequences, (0, 0, t), token[..., None])
        finished = ops.logical_or(ops.take_along_axis(finished, beam, axis=1),
                                  ops.equal(token, controls["stop_token"]))
        source_rows = ops.reshape(ops.arange(size, dtype="int32")[:, None] * width
                                  + ops.cast(beam, "int32"), (-1,))
        cache = {key: ops.take(value, source_rows, axis=0) for key, value in cache.items()}
        return token, cache, scores, sequences, finished, problem

    token, cache, scores, sequences, finished, problem = advance(
        0, raw, cache, scores, sequences, finished)
    failed_at = ops.cast(ops.where(problem > 0, 0, -1), "int32")

    def cond(t, token, cache, scores, sequences, finished, problem, failed_at):
        return ops.logical_and(
            ops.logical_and(t < controls["max_length"], ops.logical_not(ops.all(finished))),
            problem == 0)

    def body(t, token, cache, scores, sequences, finished, problem, failed_at):
        raw, cache = stepper.step(cache, ops.reshape(token, (-1,)), layout)
        token, cache, scores, sequences, finished, problem = advance(
            t, raw, cache, scores, sequences, finished)
        failed_at = ops.where(problem > 0, t, failed_at)
        return t + 1, token, cache, scores, sequences, finished, problem, failed_at

    state = ops.while_loop(cond, body, (ops.convert_to_tensor(1, "int32"), token, cache,
                                        scores, sequences, finished, problem, failed_at))
    scores, sequences = state[3], state[4]
    best = ops.argmax(scores, axis=1)
    output = ops.take_along_axis(sequences, best[:, None, None], axis=1)[:, 0]
    return output, state[6], state[7], state[0]


# --- compiling and caching -------------------------------------------------------------------


class _Compiled:
    """One model's decoding loop for one static layout, compiled once per backend."""

    def __init__(self, model, loop):
        self.traces = 0
        self.last_steps = 0  # tokens the last call generated per row before every row stopped

        def traced(feeds, controls):
            self.traces += 1
            return loop(feeds, controls)

        self.function = compile_inference(model, traced)

    def __call__(self, feeds, controls):
        feeds = {key: ops.convert_to_tensor(value) for key, value in feeds.items()}
        controls = {key: ops.convert_to_tensor(value) for key, value in controls.items()}
        return [ops.convert_to_numpy(x) for x in self.function(feeds, controls)]


LoopInfo = collections.namedtuple("LoopInfo", ["traces", "last_steps"])


def compiled_loops(model):
    """The compiled decoding loops ``generate`` keeps for ``model``: ``{layout: LoopInfo}``.

    Each entry is one static layout (batch, strategy, buckets), how many
    times its function was traced (a call with a known layout traces
    nothing new on JAX and TensorFlow) and how many steps its last call ran
    (fewer than ``max_length`` when every row stopped early).

    >>> import zoo
    >>> import numpy as np
    >>> model = zoo.build("lstm_lm", size="toy")
    >>> _ = zoo.generate(model, np.array([[3, 4]]), max_length=3)
    >>> _ = zoo.generate(model, np.array([[5, 6, 7]]), max_length=3)  # same buckets
    >>> len(compiled_loops(model))
    1
    """
    return {layout: LoopInfo(compiled.traces, compiled.last_steps)
            for layout, compiled in _COMPILED.get(model, {}).items()}


def _compiled(model, stepper, options, shapes, layout):
    key = (type(stepper).__name__, options, shapes, layout)
    per_model = _COMPILED.setdefault(model, {})
    if key not in per_model:
        loop = _beam_loop if options.strategy == "beam" else _sampling_loop

        def bound(feeds, controls):
            return loop(stepper, options, layout, feeds, controls)

        per_model[key] = _Compiled(model, bound)
    return per_model[key]


# --- the public entry points ------------------------------------------------------------------


def _finish(ids, stop_token):
    """Stop token and everything after it -> padding."""
    if stop_token is None:
        return ids
    stopped = np.cumsum(ids == stop_token, axis=1) > 0
    return np.where(stopped, PAD_ID, ids).astype("int32")


def _top_p(value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not math.isfinite(value) or not 0 < value <= 1:
        raise ValueError(f"`top_p` must be a number in (0, 1]. Received: top_p={value!r}")
    return float(value)


def _as_float32(temperature):
    """``temperature`` as a float32 the loop can divide by: clipped to float32's
    finite positive range (5e-324 acts as the smallest normal float32, still
    picking only the best tokens; 1e300 as the largest, still near-uniform)."""
    limits = np.finfo(np.float32)
    return np.float32(min(max(temperature, float(limits.tiny)), float(limits.max)))


def _raise_problem(problem, failed_at):
    if problem == _NAN_LOGITS:
        raise ValueError("The model produced NaN logits (its weights or its inputs hold NaN "
                         "or inf), so no token can be chosen. "
                         f"Received: NaN logits at generation step {failed_at}")
    raise ValueError("Every token the model may generate has logit -inf. "
                     f"Received: no finite logit at generation step {failed_at}")


def generate(model, inputs, max_length, strategy="greedy", temperature=1.0, top_k=None,
             top_p=None, beam_width=4, seed=None, stop_token="default"):
    """Generate token ids with any seq2seq or decoder-only zoo model.

    Args:
        model: a model from ``zoo.build`` or ``zoo.load`` whose registry
            entry is a seq2seq or decoder-only model.
        inputs: int array ``[batch, length]``: the 0-padded source for
            seq2seq models; the prompts for decoder-only models (ids >= 1,
            rows of different lengths padded with 0 at the end).
        max_length: most new tokens per row.
        strategy: ``"greedy"`` (arg-max), ``"sample"`` (from the softmax of
            ``logits / temperature``, optionally only the ``top_k`` best
            and/or the smallest set whose probability reaches ``top_p``),
            or ``"beam"`` (beam search keeping ``beam_width`` hypotheses by
            total log-probability).
        temperature: a finite number > 0; only for ``"sample"`` (it is
            checked whatever the strategy: NaN, 0, negative or infinite
            values are refused).
        top_k: keep the k most likely tokens when sampling (None: all; a
            positive integer, all tokens when it exceeds the vocabulary).
        top_p: nucleus sampling: keep the most likely tokens whose
            probabilities sum to at least ``top_p``, in (0, 1] (None: all).
        beam_width: hypotheses kept by ``"beam"``.
        seed: integer seed for ``"sample"``; the same seed gives the same
            output.
        stop_token: id that ends a row (``"default"``: the model's
            ``end_token`` for seq2seq, none for language models; ``None``:
            never stop early). The loop ends when every row has stopped.

    Returns:
        int32 NumPy array ``[batch, max_length]`` of new tokens (no start
        token, no prompt). The stop token and everything after it are 0.

    Raises:
        ValueError: ``max_length`` <= 0, an unknown strategy, a bad
            ``temperature``/``top_k``/``top_p``/``beam_width``, an empty
            batch, token ids outside the vocabulary, or a prompt/source
            longer than the model allows.

    >>> import zoo
    >>> import numpy as np
    >>> model = zoo.build("gpt_decoder", size="toy")
    >>> zoo.generate(model, np.array([[3, 4]]), max_length=5, strategy="sample",
    ...              seed=0).shape
    (1, 5)
    """
    max_length = validation.positive_int("max_length", max_length)
    validation.choice("strategy", strategy, STRATEGIES)
    stepper = _stepper_for(model)
    temperature = validation.positive_float("temperature", temperature)
    if top_k is not None:
        top_k = validation.positive_int("top_k", top_k)
    if top_p is not None:
        top_p = _top_p(top_p)
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
    prepared = stepper.prepare(inputs, max_length)
    feeds = prepared.feeds
    batch = len(next(iter(feeds.values())))
    steps = bucket(max_length)
    sampling = strategy == "sample"
    options = Options(strategy, sampling and top_k is not None and top_k < stepper.vocab_size,
                      sampling and top_p is not None and top_p < 1.0,
                      beam_width if strategy == "beam" else 0)
    if strategy == "beam":
        feeds = {key: np.repeat(value, beam_width, axis=0) for key, value in feeds.items()}
    draws = np.zeros((steps, batch), "float32")
    if sampling:
        draws[:max_length] = np.random.default_rng(seed).random((max_length, batch))
    controls = {
        "max_length": np.int32(max_length),
        "stop_token": np.int32(-1 if stop_token is None else stop_token),
        "temperature": _as_float32(temperature),
        "top_k": np.int32(min(top_k or stepper.vocab_size, stepper.vocab_size)),
        "top_p": np.float32(top_p or 1.0),
        "draws": draws,
        "banned": stepper.banned_mask(),
    }
    compiled = _compiled(model, stepper, options, (batch, steps), tuple(prepared.layout))
    output, problem, failed_at, steps = compiled(feeds, controls)
    compiled.last_steps = int(steps)
    if problem:
        _raise_problem(int(problem), int(failed_at))
    return _finish(np.asarray(output, "int32")[:, :max_length], stop_token)


Scores = collections.namedtuple(
    "Scores", ["log_likelihood", "token_log_probs", "lengths", "perplexity"])
Scores.__doc__ = """What ``zoo.score`` returns (NumPy arrays, float64).

``log_likelihood`` ``[batch]``: the sum of the scored tokens' log-probabilities;
``token_log_probs`` ``[batch, length]``: each target token's log-probability
(0 at padding); ``lengths`` ``[batch]``: tokens scored per row;
``perplexity`` ``[batch]``: ``exp(-log_likelihood / lengths)``."""


def score(model, inputs, targets=None, batch_size=64):
    """Log-likelihood of ``targets`` given ``inputs`` under any seq2seq or decoder-only model.

    One teacher-forced pass of the whole model per ``batch_size`` rows; the
    probabilities are the model's full softmax (no token excluded), so
    ``perplexity`` is the usual one.

    Args:
        model: a seq2seq or decoder-only model from ``zoo.build`` or ``zoo.load``.
        inputs: int ``[batch, length]``: the 0-padded source for seq2seq
            models; the prompts (ids >= 1, 0-padded at the end) for
            decoder-only models.
        targets: int ``[batch, length]``, 0-padded at the end: the target
            ids (without the start token; include the end token to score
            it) for seq2seq models; the continuations of the prompts for
            decoder-only models, where ``None`` scores every prompt token
            after the first given the ones before it.
        batch_size: rows per forward pass.

    Returns:
        ``Scores(log_likelihood, token_log_probs, lengths, perplexity)``.

    Raises:
        ValueError: a model that does not generate, token ids outside the
            vocabulary, padding inside a row, an empty batch, batches of
            different sizes, or sequences longer than the model allows.

    >>> import zoo
    >>> import numpy as np
    >>> model = zoo.build("gpt_decoder", size="toy")
    >>> scores = zoo.score(model, np.array([[3, 4], [5, 0]]), np.array([[6, 7], [8, 0]]))
    >>> scores.token_log_probs.shape, scores.lengths.tolist()
    ((2, 2), [2, 1])
    """
    batch_size = validation.positive_int("batch_size", batch_size)
    stepper = _stepper_for(model)
    model_inputs, positions, targets = stepper.teacher_forcing(inputs, targets)
    scored = np.zeros(targets.shape, "float64")
    rows = len(targets)
    for begin in range(0, rows, batch_size):
        chunk = slice(begin, begin + batch_size)
        logits = model.predict_on_batch(
            {key: value[chunk] for key, value in model_inputs.items()}
            if isinstance(model_inputs, dict) else model_inputs[chunk])
        logits = np.asarray(ops.convert_to_numpy(logits), "float64")
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        picked = np.take_along_axis(log_probs, positions[chunk][..., None], axis=1)
        scored[chunk] = np.take_along_axis(picked, targets[chunk][..., None], axis=2)[..., 0]
    scored = np.where(targets != PAD_ID, scored, 0.0)
    lengths = (targets != PAD_ID).sum(axis=1)
    log_likelihood = scored.sum(axis=1)
    return Scores(log_likelihood, scored, lengths, np.exp(-log_likelihood / lengths))


def greedy_decode(model, source_tokens, max_length):
    """Greedy decoding for seq2seq models: ``generate(..., strategy="greedy")``."""
    return generate(model, source_tokens, max_length, strategy="greedy")
