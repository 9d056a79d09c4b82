"""Greedy decoding, the masked loss/metric, and the generated reversal data."""

import keras
import numpy as np
import pytest

import zoo
from applications import generated


def _toy_seq2seq(**overrides):
    params = {**zoo.get_spec("lstm_seq2seq").toy, **overrides}
    return zoo.build("lstm_seq2seq", **params)


def test_greedy_decode_shape_dtype_and_padding_after_end():
    model = _toy_seq2seq()
    source = np.array([[3, 4, 5, 0], [5, 6, 0, 0], [7, 7, 7, 7]])
    ids = zoo.greedy_decode(model, source, max_length=6)
    assert ids.shape == (3, 6) and ids.dtype == np.int32
    start, end = model.zoo_config["start_token"], model.zoo_config["end_token"]
    assert not np.isin(ids, [start, end]).any()
    for row in ids:  # once padding starts it never stops
        zeros = np.flatnonzero(row == 0)
        if zeros.size:
            assert (row[zeros[0]:] == 0).all()


def test_greedy_decode_matches_teacher_forced_argmax():
    # Feeding the model its own greedy output must reproduce that output.
    model = _toy_seq2seq()
    source = np.array([[3, 4, 5, 6], [8, 9, 10, 0]])
    ids = zoo.greedy_decode(model, source, max_length=4)
    decoder_input = np.concatenate([np.ones((2, 1), "int32"), ids[:, :-1]], axis=1)
    for row in range(2):
        n = int(np.argmax(ids[row] == 0)) if (ids[row] == 0).any() else 4
        logits = keras.ops.convert_to_numpy(model({
            "source_tokens": source[row:row + 1],
            "target_tokens": decoder_input[row:row + 1, :max(n, 1)]}))
        logits[..., [0, 1]] = -np.inf
        np.testing.assert_array_equal(logits.argmax(-1)[0, :n], ids[row, :n])


def test_padding_does_not_change_the_context():
    model = _toy_seq2seq()
    enc = zoo.encoder(model)
    short = enc(np.array([[3, 4, 5]]))
    padded = enc(np.array([[3, 4, 5, 0, 0, 0]]))
    for key in short:
        np.testing.assert_allclose(keras.ops.convert_to_numpy(short[key]),
                                   keras.ops.convert_to_numpy(padded[key]), atol=1e-5)


def test_greedy_decode_works_after_reload(tmp_path):
    model = _toy_seq2seq()
    source = np.array([[3, 4, 5, 6]])
    expected = zoo.greedy_decode(model, source, max_length=5)
    model.save(tmp_path / "s2s.keras")
    loaded = keras.saving.load_model(tmp_path / "s2s.keras")
    np.testing.assert_array_equal(zoo.greedy_decode(loaded, source, max_length=5), expected)


@pytest.mark.parametrize("source,match", [
    (np.array([3, 4, 5]), r"Received: source_tokens with shape \(3,\) and dtype int64$"),
    (np.array([[0.5, 1.0]]), r"dtype float64$"),
    (np.array([[3, 99]]), r"ids must be in \[0, 11\)\. Received: a token id 99$"),
    (np.array([[-1, 3]]), r"Received: a token id -1$"),
])
def test_greedy_decode_rejects_bad_sources(source, match):
    with pytest.raises(ValueError, match=match):
        zoo.greedy_decode(_toy_seq2seq(), source, max_length=3)


@pytest.mark.parametrize("max_length", [0, -2])
def test_greedy_decode_rejects_bad_max_length(max_length):
    with pytest.raises(ValueError, match=rf"Received: max_length={max_length}$"):
        zoo.greedy_decode(_toy_seq2seq(), np.array([[3]]), max_length=max_length)


def test_greedy_decode_needs_a_seq2seq_model():
    with pytest.raises(ValueError, match=r"needs a seq2seq or decoder-only model .* "
                                         r"Received: model='dense_autoencoder'$"):
        zoo.greedy_decode(zoo.build("dense_autoencoder_toy"), np.array([[3]]), 3)


def test_masked_loss_and_accuracy_ignore_padding():
    logits = np.full((1, 4, 5), -10.0, "float32")
    logits[0, 0, 3] = logits[0, 1, 4] = 10.0  # right, right
    logits[0, 2, 3] = logits[0, 3, 3] = 10.0  # padded positions: predictions ignored
    y = np.array([[3, 4, 0, 0]])
    metric = zoo.MaskedSparseAccuracy()
    metric.update_state(y, logits)
    assert float(metric.result()) == 1.0
    loss = float(zoo.MaskedSparseCrossentropy()(y, logits))
    full = float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
        y[:, :2], logits[:, :2]))
    assert loss == pytest.approx(full, rel=1e-5)
    y_wrong = np.array([[4, 4, 0, 0]])
    metric.reset_state()
    metric.update_state(y_wrong, logits)
    assert float(metric.result()) == 0.5


def test_char_vocab_round_trip_and_errors():
    vocab = generated.DIGITS
    assert vocab.decode(vocab.encode(["0123", "9"])) == ["0123", "9"]
    with pytest.raises(ValueError, match=r"Received: '12a'$"):
        vocab.encode(["12a"])


def test_reversal_data_layout():
    x, y, sources, targets = generated.digit_reversal(50, seed=0)
    assert all(t == s[::-1] for s, t in zip(sources, targets))
    assert len(set(sources)) == 50
    assert (x["target_tokens"][:, 0] == generated.START).all()
    body = np.where(y == generated.END, 0, y)  # the decoder reads the targets shifted right
    np.testing.assert_array_equal(x["target_tokens"][:, 1:], body[:, :-1])
    lengths = np.array([len(t) for t in targets])
    assert (y[np.arange(50), lengths] == generated.END).all()
    _, _, held_out, _ = generated.digit_reversal(50, seed=1, exclude=sources)
    assert not set(held_out) & set(sources)
