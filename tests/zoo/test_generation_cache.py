"""The key/value cache and the compiled decoding loop of ``zoo.generate``, and ``zoo.score``.

Every stepper's cached path (the prompt or source read once, then one token
per step) must give the logits the whole model gives on the whole sequence
(1e-5), for prompts of different lengths in one batch too.
"""

import functools
import gc
import weakref

import keras
import numpy as np
import pytest

import zoo
from zoo.generation import compiled_loops

GENERATIVE = [name for name in zoo.list_models()
              if zoo.get_spec(name).capabilities.generation is not None]
LANGUAGE_MODELS = [name for name in GENERATIVE
                   if zoo.get_spec(name).capabilities.generation == "language_model"]


def _fresh(name):
    keras.utils.set_random_seed(5)
    return zoo.build(name, size="toy")


@functools.lru_cache(maxsize=None)
def _model(name):
    """One toy model per name and test process: its compiled loops serve every test
    that leaves its weights alone (tests that change them or count compilations use
    ``_fresh``)."""
    return _fresh(name)


def _seq2seq(model):
    return zoo.spec_of(model).capabilities.generation == "seq2seq"


def _inputs(model):
    if _seq2seq(model):
        return np.array([[3, 4, 5, 6, 0], [7, 8, 0, 0, 0], [9, 3, 4, 0, 0]], "int32")
    return np.array([[3, 4, 5], [6, 0, 0], [7, 8, 0]], "int32")  # three lengths


def _full_model_logits(model, inputs, ids):
    """The logits the whole model gives, teacher-forced with ``ids``, at each new token."""
    if _seq2seq(model):
        start = np.full((len(inputs), 1), zoo.model_params(model)["start_token"], "int32")
        return np.asarray(model.predict_on_batch(
            {"source_tokens": inputs, "target_tokens": np.concatenate([start, ids[:, :-1]], 1)}))
    rows = []
    for prompt, row in zip(inputs, ids):
        prompt = prompt[prompt > 0]
        full = np.asarray(model.predict_on_batch(np.concatenate([prompt, row])[None]))[0]
        rows.append(full[len(prompt) - 1:-1])
    return np.stack(rows)


@pytest.mark.parametrize("name", GENERATIVE)
def test_cached_steps_give_the_whole_model_logits(name):
    model = _model(name)
    inputs = _inputs(model)
    stepper = zoo.get_spec(name).capabilities.stepper(model)
    cached = stepper.run(inputs, max_length=6)
    ids = cached.argmax(-1).astype("int32")
    full = _full_model_logits(model, inputs, ids)
    allowed = np.isfinite(cached)
    np.testing.assert_allclose(cached[allowed], full[allowed], atol=1e-5, rtol=1e-5)
    # The compiled loop chooses the same greedy ids as the eager steps.
    np.testing.assert_array_equal(zoo.generate(model, inputs, 6, stop_token=None), ids)


@pytest.mark.parametrize("name", LANGUAGE_MODELS)
def test_each_prompt_row_continues_as_it_would_alone(name):
    model = _model(name)
    inputs = _inputs(model)
    together = zoo.generate(model, inputs, 5)
    for row, prompt in zip(together, inputs):
        alone = zoo.generate(model, prompt[prompt > 0][None], 5)
        np.testing.assert_array_equal(row, alone[0])


def test_a_second_call_with_the_same_shapes_does_not_compile_again():
    model = _fresh("gpt_decoder")
    zoo.generate(model, np.array([[3, 4]]), 5)
    zoo.generate(model, np.array([[5, 6, 7]]), 6)  # the same buckets (8, 8)
    zoo.generate(model, np.array([[5, 6, 7]]), 6, strategy="sample", seed=1)
    loops = compiled_loops(model)
    assert len(loops) == 2, loops  # one greedy layout, one sampling layout
    if keras.backend.backend() in ("jax", "tensorflow"):
        assert {info.traces for info in loops.values()} == {1}, loops
    zoo.generate(model, np.array([[5, 6, 7]] * 2), 6)  # a new batch size: a new layout
    assert len(compiled_loops(model)) == 3


def test_weights_changed_after_a_call_are_used_by_the_next_call():
    model = _fresh("gpt_decoder")
    prompt = np.array([[3, 4]])
    zoo.generate(model, prompt, 4)
    logits = model.get_layer("logits")
    kernel, bias = logits.get_weights()
    forced = np.full_like(bias, -10.0)
    forced[7] = 10.0
    logits.set_weights([np.zeros_like(kernel), forced])
    np.testing.assert_array_equal(zoo.generate(model, prompt, 4), [[7, 7, 7, 7]])


def test_the_loop_ends_when_every_row_has_stopped():
    model = _fresh("gpt_decoder")
    prompts = np.array([[3, 4], [5, 6]])
    ids = zoo.generate(model, prompts, 8, stop_token=None)
    (info,) = compiled_loops(model).values()
    assert info.last_steps == 8
    # Stop at the second row's third token: the first row may stop sooner or run on.
    stop = int(ids[1, 2])
    first_stop = [int(np.argmax(row == stop)) if (row == stop).any() else 8 for row in ids]
    stopped = zoo.generate(model, prompts, 8, stop_token=stop)
    (info,) = compiled_loops(model).values()  # the same layout: stop_token is not compiled in
    assert info.last_steps == min(max(first_stop) + 1, 8)
    for row, free, at in zip(stopped, ids, first_stop):
        np.testing.assert_array_equal(row[:at], free[:at])
        assert (row[at:] == 0).all()
    zoo.generate(model, prompts[1:], 8, stop_token=stop)  # the second row alone
    (alone,) = [info for key, info in compiled_loops(model).items() if key[2] == (1, 8)]
    assert alone.last_steps == first_stop[1] + 1 <= 3  # (batch, new-token bucket) = (1, 8)


@pytest.mark.parametrize("name", ["gpt_decoder", "attention_seq2seq"])
def test_beam_width_1_is_greedy_and_top_p_keeps_the_nucleus(name):
    model = _model(name)
    inputs = _inputs(model)
    greedy = zoo.generate(model, inputs, 6, stop_token=None)
    np.testing.assert_array_equal(
        zoo.generate(model, inputs, 6, strategy="beam", beam_width=1, stop_token=None), greedy)
    # A nucleus smaller than the best token's probability holds only that token.
    np.testing.assert_array_equal(
        zoo.generate(model, inputs, 6, strategy="sample", top_p=1e-6, seed=3, stop_token=None),
        greedy)
    # top_p=1 keeps every token: the same draws as no top_p.
    np.testing.assert_array_equal(
        zoo.generate(model, inputs, 6, strategy="sample", top_p=1.0, seed=3),
        zoo.generate(model, inputs, 6, strategy="sample", seed=3))


def test_top_p_samples_only_from_the_nucleus():
    model = _model("lstm_lm")
    prompt = np.array([[3, 4]] * 64)
    stepper = zoo.get_spec("lstm_lm").capabilities.stepper(model)
    logits = stepper.run(prompt[:1], max_length=1)[0, 0]
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    order = np.argsort(-probs)
    nucleus = set(order[:np.searchsorted(np.cumsum(probs[order]), 0.5) + 1].tolist())
    first = zoo.generate(model, prompt, 1, strategy="sample", top_p=0.5, seed=0)[:, 0]
    assert set(first.tolist()) <= nucleus
    free = zoo.generate(model, prompt, 1, strategy="sample", seed=0)[:, 0]
    assert not set(free.tolist()) <= nucleus or len(nucleus) == 1


@pytest.mark.parametrize("value", [0, -0.5, 1.5, float("nan"), "0.9", True])
def test_top_p_outside_0_1_is_refused(value):
    model = _model("lstm_lm")
    with pytest.raises(ValueError, match=rf"Received: top_p={value!r}$"):
        zoo.generate(model, np.array([[3]]), 2, strategy="sample", top_p=value)


@pytest.mark.parametrize("prompt,match", [
    (np.zeros((0, 3), "int32"), r"Received: prompt with shape \(0, 3\)$"),
    (np.array([[0, 3]]), r"Received: row 0 = \[0, 3\]$"),
    (np.array([[3, 4], [0, 0]]), r"Received: row 1 holds only padding \(0\)$"),
])
def test_empty_batches_and_misplaced_padding_are_refused(prompt, match):
    with pytest.raises(ValueError, match=match):
        zoo.generate(_model("gpt_decoder"), prompt, 2)


def test_nan_weights_are_reported_with_the_step():
    model = _fresh("gpt_decoder")
    layer = model.get_layer("logits")
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel, np.full_like(bias, np.nan)])
    with pytest.raises(ValueError, match=r"Received: NaN logits at generation step 0$"):
        zoo.generate(model, np.array([[3, 4]]), 3)


@pytest.mark.parametrize("name", GENERATIVE)
def test_score_matches_the_logits_of_generation(name):
    model = _model(name)
    inputs = _inputs(model)
    ids = zoo.generate(model, inputs, 4, stop_token=None)
    scores = zoo.score(model, inputs, ids, batch_size=2)
    assert scores.token_log_probs.shape == ids.shape
    assert (scores.lengths == 4).all()
    full = _full_model_logits(model, inputs, ids).astype("float64")
    shifted = full - full.max(-1, keepdims=True)
    expected = np.take_along_axis(
        shifted - np.log(np.exp(shifted).sum(-1, keepdims=True)), ids[..., None], -1)[..., 0]
    np.testing.assert_allclose(scores.token_log_probs, expected, atol=1e-5)
    np.testing.assert_allclose(scores.log_likelihood, expected.sum(1), atol=1e-4)
    np.testing.assert_allclose(scores.perplexity, np.exp(-expected.mean(1)), rtol=1e-4)


def test_score_without_targets_scores_each_prompt_token_after_the_first():
    model = _model("gpt_decoder")
    prompt = np.array([[3, 4, 5], [6, 7, 0]])
    whole = zoo.score(model, prompt)
    assert whole.lengths.tolist() == [2, 1]
    split = zoo.score(model, prompt[:, :1], prompt[:, 1:])
    np.testing.assert_allclose(whole.log_likelihood, split.log_likelihood, atol=1e-5)


@pytest.mark.parametrize("name,kwargs,match", [
    ("lstm_seq2seq", {}, r"Received: targets=None$"),
    ("lstm_seq2seq", {"targets": np.array([[3, 99]])}, r"Received: a token id 99$"),
    ("gpt_decoder", {"targets": np.array([[3], [4]])}, r"Received: 2 target rows for 1 prompts$"),
    ("gpt_decoder", {"targets": np.ones((1, 20), "int32")},
     r"Received: a row of 22 tokens$"),
    ("gpt_decoder", {"batch_size": 0}, r"Received: batch_size=0$"),
])
def test_score_refuses_bad_input(name, kwargs, match):
    model = _model(name)
    inputs = np.array([[3, 4]])
    with pytest.raises(ValueError, match=match):
        zoo.score(model, inputs, **kwargs)


@pytest.mark.parametrize("name", ["gpt_decoder", "attention_seq2seq"])
def test_compiled_loops_do_not_keep_a_model_alive(name):
    model = _fresh(name)
    zoo.generate(model, _inputs(model), 3)
    assert compiled_loops(model)
    reference = weakref.ref(model)
    del model
    gc.collect()
    assert reference() is None

