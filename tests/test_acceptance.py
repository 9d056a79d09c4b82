"""Acceptance tests from the documents the project grew from."""

import keras
import numpy as np
import pytest

import zoo
from applications import generated


def test_toy_autoencoder_memorises_one_input():
    # The 4 -> 2 -> 4 autoencoder on [0.1, 0.8, 0.2, 0.7], Adam(lr=0.01), 600 steps.
    model = zoo.build("dense_autoencoder_toy")
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    x = np.array([[0.1, 0.8, 0.2, 0.7]], "float32")
    model.fit(np.repeat(x, 600, axis=0), np.repeat(x, 600, axis=0), batch_size=1,
              epochs=1, shuffle=False, verbose=0)
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 600
    mse = float(np.mean((keras.ops.convert_to_numpy(model(x)) - x) ** 2))
    assert mse < 1e-3, mse


@pytest.mark.slow
def test_lstm_seq2seq_learns_to_reverse_unseen_digit_strings():
    x, y, sources, _ = generated.digit_reversal(10000, seed=1)
    x_test, _, _, test_targets = generated.digit_reversal(500, seed=2, exclude=sources)
    model = zoo.build("lstm_seq2seq", source_vocab_size=generated.DIGITS.size,
                      target_vocab_size=generated.DIGITS.size, embedding_dim=32,
                      latent_dim=128, learning_rate=3e-3)
    model.fit(x, y, batch_size=64, epochs=6, verbose=0)
    predicted = generated.DIGITS.decode(
        zoo.greedy_decode(model, x_test["source_tokens"], max_length=9))
    exact = np.mean([p == t for p, t in zip(predicted, test_targets)])
    print(f"held-out exact match on {keras.backend.backend()}: {exact:.3f}")
    assert exact >= 0.9
