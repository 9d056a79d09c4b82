"""Seq2seq and decoder-only models learn generated tasks, scored by generation."""

import functools

import keras
import numpy as np
import pytest

import zoo
from applications import generated
from tests.harness import rotated
from zoo.models.decoder import next_token_targets

SEQ2SEQ = zoo.list_models(family="seq2seq")
# Each learning run costs 15-60 s on our CPUs: every model learns each task
# once per CI run, on a backend that differs between the two tasks
# (ZOO_ALL_BACKENDS=1 runs them all on every backend).


def _seq2seq_params(name, vocab):
    """The "small" size the applications train, on this vocabulary."""
    params = {"source_vocab_size": vocab.size, "target_vocab_size": vocab.size,
              "learning_rate": 3e-3}
    defaults = zoo.get_spec(name).defaults
    if "max_source_length" in defaults:
        params.update(max_source_length=16, max_target_length=16)
    if defaults.get("cell") == "gru":
        params.update(latent_dim=256)  # a GRU's context is h alone (an LSTM's [h, c])
    return params


def _exact_match(model, data, vocab, max_length):
    x, _, _, targets = data
    predicted = vocab.decode(zoo.generate(model, x["source_tokens"], max_length))
    return float(np.mean([p == t for p, t in zip(predicted, targets)]))


def _train_until(model, x, y, task, vocab, max_length, sources, max_epochs):
    """Fit 2 epochs at a time until validation exact match >= 0.97; then
    score once on test strings seen neither in training nor in validation."""
    validation = task(500, seed=2, exclude=sources)
    test = task(500, seed=3, exclude=list(sources) + validation[2])
    for _ in range(max_epochs // 2):
        model.fit(x, y, batch_size=64, epochs=2, verbose=0)
        if _exact_match(model, validation, vocab, max_length) >= 0.97:
            break
    return _exact_match(model, test, vocab, max_length)


def test_every_seq2seq_model_is_covered():
    assert set(SEQ2SEQ) == {"lstm_seq2seq", "gru_seq2seq", "attention_seq2seq",
                            "transformer_seq2seq"}


@pytest.mark.slow
@pytest.mark.parametrize("name", rotated(SEQ2SEQ, offset=0))
def test_seq2seq_learns_to_reverse_unseen_digit_strings(name):
    x, y, sources, _ = generated.digit_reversal(10000, seed=1)
    model = zoo.build(name, size="small", **_seq2seq_params(name, generated.DIGITS))
    exact = _train_until(model, x, y, generated.digit_reversal, generated.DIGITS, 9, sources,
                         max_epochs=12)
    print(f"{name} reversal on {keras.backend.backend()}: held-out exact match {exact:.3f}")
    assert exact >= 0.95


@pytest.mark.slow
@pytest.mark.parametrize("name", rotated(SEQ2SEQ, offset=1))
def test_seq2seq_learns_multi_digit_addition(name):
    # Operands of one or two digits ("67+45" -> "112"): 7000 of the 10000
    # possible sums train, 500 others are held out.
    task = functools.partial(generated.digit_addition, max_digits=2)
    x, y, sources, _ = task(7000, seed=1)
    model = zoo.build(name, size="small",
                      **_seq2seq_params(name, generated.ARITHMETIC))
    exact = _train_until(model, x, y, task, generated.ARITHMETIC, 5, sources, max_epochs=20)
    print(f"{name} addition on {keras.backend.backend()}: held-out exact match {exact:.3f}")
    assert exact >= 0.95


def _copy_accuracy(model, prefixes, continuations):
    right = total = 0
    for length in sorted({len(p) for p in prefixes}):
        rows = [i for i, p in enumerate(prefixes) if len(p) == length]
        generated_ids = zoo.generate(model, np.stack([prefixes[i] for i in rows]), length)
        expected = np.stack([continuations[i] for i in rows])
        right += int((generated_ids == expected).sum())
        total += expected.size
    return right / total


@pytest.mark.slow
@pytest.mark.parametrize("name,params,epochs", [
    ("lstm_lm", {"units": 128}, 6),
    ("gpt_decoder", {"max_length": 16, "num_heads": 4, "ff_dim": 128, "num_layers": 2,
                     "dropout": 0.0}, 4),
])
def test_language_model_learns_the_copy_grammar(name, params, epochs):
    tokens, _, _ = generated.copy_language(8000, seed=1)
    _, prefixes, continuations = generated.copy_language(300, seed=2)
    model = zoo.build(name, vocab_size=11, embedding_dim=32, learning_rate=3e-3, **params)
    model.fit(tokens, next_token_targets(tokens), batch_size=64, epochs=epochs, verbose=0)
    accuracy = _copy_accuracy(model, prefixes, continuations)
    print(f"{name} copy grammar on {keras.backend.backend()}: greedy per-token {accuracy:.4f}")
    assert accuracy >= 0.95
