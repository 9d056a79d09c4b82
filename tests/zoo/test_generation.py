"""zoo.generate on every generating model: correctness and errors of the decoding loop."""

import functools

import keras
import numpy as np
import pytest

import zoo

GENERATIVE = [name for name in zoo.list_models()
              if zoo.get_spec(name).capabilities.generation is not None]


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


@functools.lru_cache(maxsize=None)
def _toy(name):
    """One toy model per name and test process (no test changes its weights), so
    its compiled decoding loops serve every test."""
    return zoo.get_spec(name), zoo.build(name, size="toy")


def _is_seq2seq(spec):
    return spec.capabilities.generation == "seq2seq"


def _inputs(spec, model):
    x, _ = spec.example_data(model.zoo_config, 3, seed=0)
    if _is_seq2seq(spec):
        return x["source_tokens"]
    return np.maximum(x[:, :3], 1)  # a prompt: no padding


def _teacher_forced_logits(spec, model, inputs, generated):
    """Logits the full model gives when fed its own output."""
    if _is_seq2seq(spec):
        start = np.full((len(inputs), 1), model.zoo_config["start_token"], "int32")
        decoder_input = np.concatenate([start, generated[:, :-1]], axis=1)
        logits = _numpy(model({"source_tokens": inputs, "target_tokens": decoder_input}))
        return logits
    full = np.concatenate([inputs, generated], axis=1)
    return _numpy(model(full))[:, inputs.shape[1] - 1:-1]


@pytest.mark.parametrize("name", GENERATIVE)
def test_greedy_matches_the_teacher_forced_argmax(name):
    # Carried state / encoded-once source / fixed buffers must give exactly
    # what the whole model gives on the whole sequence.
    spec, model = _toy(name)
    inputs = _inputs(spec, model)
    ids = zoo.generate(model, inputs, max_length=5, stop_token=None)
    logits = _teacher_forced_logits(spec, model, inputs, ids)
    banned = [0] + ([model.zoo_config["start_token"]] if _is_seq2seq(spec) else [])
    logits[..., banned] = -np.inf
    np.testing.assert_array_equal(logits.argmax(-1), ids)


@pytest.mark.parametrize("name", GENERATIVE)
def test_sampling_is_deterministic_for_a_seed_and_top_k_1_is_greedy(name):
    spec, model = _toy(name)
    inputs = _inputs(spec, model)
    first = zoo.generate(model, inputs, 6, strategy="sample", seed=7, temperature=1.5)
    again = zoo.generate(model, inputs, 6, strategy="sample", seed=7, temperature=1.5)
    np.testing.assert_array_equal(first, again)
    others = [zoo.generate(model, inputs, 6, strategy="sample", seed=s, temperature=3.0,
                           stop_token=None) for s in range(4)]
    assert any(not np.array_equal(others[0], o) for o in others[1:])
    np.testing.assert_array_equal(
        zoo.generate(model, inputs, 6, strategy="sample", top_k=1, seed=3),
        zoo.generate(model, inputs, 6, strategy="greedy"))


def _sequence_log_prob(spec, model, inputs, ids):
    logits = _teacher_forced_logits(spec, model, inputs, ids).astype("float64")
    banned = [0] + ([model.zoo_config["start_token"]] if _is_seq2seq(spec) else [])
    logits[..., banned] = -np.inf
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    return np.take_along_axis(log_probs, ids[..., None], -1)[..., 0].sum(-1)


@pytest.mark.parametrize("name", GENERATIVE)
def test_beam_search(name):
    spec, model = _toy(name)
    inputs = _inputs(spec, model)
    greedy = zoo.generate(model, inputs, 4, stop_token=None)
    np.testing.assert_array_equal(
        zoo.generate(model, inputs, 4, strategy="beam", beam_width=1, stop_token=None), greedy)
    # Two steps with a beam as wide as the usable vocabulary is exhaustive:
    # it must return the most likely of all two-token continuations.
    vocab = np.arange(model.zoo_config.get("target_vocab_size", model.zoo_config.get(
        "vocab_size")))
    banned = [0] + ([model.zoo_config["start_token"]] if _is_seq2seq(spec) else [])
    usable = np.setdiff1d(vocab, banned)
    beam = zoo.generate(model, inputs, 2, strategy="beam", beam_width=len(usable),
                        stop_token=None)
    pairs = np.array([(a, b) for a in usable for b in usable], "int32")
    for row in range(len(inputs)):
        repeated = np.repeat(inputs[row:row + 1], len(pairs), axis=0)
        scores = _sequence_log_prob(spec, model, repeated, pairs)
        found = _sequence_log_prob(spec, model, inputs[row:row + 1], beam[row:row + 1])[0]
        # Compare scores, not sequences: near-ties between untrained
        # candidates may flip with float round-off.
        assert found >= scores.max() - 1e-5, (beam[row], pairs[scores.argmax()])


@pytest.mark.parametrize("name", GENERATIVE)
def test_generation_is_the_same_after_reload(name, tmp_path):
    spec, model = _toy(name)
    inputs = _inputs(spec, model)
    expected = zoo.generate(model, inputs, 4)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(zoo.generate(loaded, inputs, 4), expected)


def test_stop_token_ends_rows_with_padding():
    spec, model = _toy("gpt_decoder")
    inputs = _inputs(spec, model)
    free = zoo.generate(model, inputs, 6)
    stop = int(free[0, 1])
    stopped = zoo.generate(model, inputs, 6, stop_token=stop)
    row = stopped[0]
    first = int(np.argmax(free[0] == stop))
    np.testing.assert_array_equal(row[:first], free[0, :first])
    assert (row[first:] == 0).all()


@pytest.mark.parametrize("overrides,match", [
    ({"max_length": 0}, r"Received: max_length=0$"),
    ({"max_length": -4}, r"Received: max_length=-4$"),
    ({"strategy": "nucleus"}, r"Received: strategy='nucleus'$"),
    ({"strategy": "sample", "temperature": 0}, r"Received: temperature=0$"),
    ({"strategy": "sample", "top_k": 0}, r"Received: top_k=0$"),
    ({"strategy": "beam", "beam_width": 0}, r"Received: beam_width=0$"),
    ({"seed": -1}, r"Received: seed=-1$"),
    ({"stop_token": 99}, r"Received: stop_token=99$"),
])
def test_bad_arguments_are_refused(overrides, match):
    spec, model = _toy("lstm_seq2seq")
    kwargs = {"max_length": 3, **overrides}
    with pytest.raises(ValueError, match=match):
        zoo.generate(model, _inputs(spec, model), **kwargs)


@pytest.mark.parametrize("name", GENERATIVE)
def test_token_ids_outside_the_vocabulary_are_refused(name):
    spec, model = _toy(name)
    inputs = _inputs(spec, model).copy()
    inputs[0, 0] = 999
    with pytest.raises(ValueError, match=r"Received: a token id 999$"):
        zoo.generate(model, inputs, 3)
    with pytest.raises(ValueError, match=rf"Received: .* with shape \({inputs.shape[1]},\)"):
        zoo.generate(model, inputs[0], 3)


def test_prompts_must_fit_the_model():
    _, gpt = _toy("gpt_decoder")  # max_length=16
    with pytest.raises(ValueError, match=r"Received: a prompt of 12 tokens and max_length=5$"):
        zoo.generate(gpt, np.ones((1, 12), "int32"), 5)
    with pytest.raises(ValueError, match=r"end of a row\. Received: row 0 = \[0, 3\]$"):
        zoo.generate(gpt, np.array([[0, 3]]), 2)
    _, transformer = _toy("transformer_seq2seq")  # max source and target length 16
    with pytest.raises(ValueError, match=r"Received: source_tokens with 20 tokens per row$"):
        zoo.generate(transformer, np.ones((1, 20), "int32"), 3)
    with pytest.raises(ValueError, match=r"Received: max_length=16$"):
        zoo.generate(transformer, np.ones((1, 4), "int32"), 16)


def test_every_seq2seq_and_decoder_model_generates():
    assert set(GENERATIVE) == set(zoo.list_models(family="seq2seq")
                                  + zoo.list_models(family="decoder"))


def test_generate_needs_a_generative_model():
    with pytest.raises(ValueError, match=r"Received: model='dense_autoencoder'$"):
        zoo.generate(zoo.build("dense_autoencoder_toy"), np.array([[3]]), 3)
