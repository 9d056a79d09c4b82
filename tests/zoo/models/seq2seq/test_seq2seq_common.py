"""What every seq2seq model shares: teacher forcing, example data, masked loss, sizes."""

import keras
import numpy as np
import pytest

import zoo
from applications import generated
from zoo.models.seq2seq import Seq2SeqStepper, seq2seq_example_data, teacher_forcing


def test_teacher_forcing_layout():
    body = np.array([[5, 6, 7], [8, 0, 0]])
    x, y = teacher_forcing(body, np.array([3, 1]), 1, 2, source=np.array([[9], [10]]))
    np.testing.assert_array_equal(x["target_tokens"], [[1, 5, 6, 7], [1, 8, 0, 0]])
    np.testing.assert_array_equal(y, [[5, 6, 7, 2], [8, 2, 0, 0]])
    np.testing.assert_array_equal(x["source_tokens"], [[9], [10]])


def test_example_data_never_uses_special_tokens_in_the_body():
    params = {**zoo.get_spec("lstm_seq2seq").defaults, "start_token": 3, "end_token": 4}
    x, y = seq2seq_example_data(params, 20, seed=0)
    assert (x["target_tokens"][:, 0] == 3).all()
    body = x["target_tokens"][:, 1:]
    assert not np.isin(body, [3, 4]).any()
    assert ((y == 4).sum(axis=1) == 1).all()


def test_every_seq2seq_model_declares_seq2seq_generation_and_sizes():
    for name in zoo.list_models(family="seq2seq"):
        spec = zoo.get_spec(name)
        assert spec.capabilities.generation == "seq2seq"
        assert issubclass(spec.capabilities.stepper, Seq2SeqStepper)
        assert spec.capabilities.input_kinds == ("token_pairs",)
        assert {"toy", "small"} <= set(spec.sizes)
    assert zoo.get_spec("lstm_seq2seq").size("bench") == {
        "source_vocab_size": 100, "target_vocab_size": 100, "embedding_dim": 32,
        "latent_dim": 128, "dropout": 0.0}
    assert zoo.get_spec("gru_seq2seq").size("small") == {
        "embedding_dim": 32, "latent_dim": 128, "num_layers": 1, "dropout": 0.0,
        "learning_rate": 3e-3}


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
