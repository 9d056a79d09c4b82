"""Acceptance tests from the documents the project grew from."""

import keras
import numpy as np
import pytest

import zoo


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


# The second acceptance test (lstm_seq2seq reverses unseen digit strings of
# length 3-8 to >= 0.9 exact match) is covered, with a 0.95 bar, by
# tests/test_generation_learning.py::test_seq2seq_learns_to_reverse_unseen_digit_strings.
