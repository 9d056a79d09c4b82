"""Recurrent seq2seq: one builder (cell x attention), its presets, and its stepper."""

import keras
import numpy as np
import pytest

import zoo
from tests.harness import run_builder_test
from zoo.models.seq2seq import recurrent

def _toy(name="lstm_seq2seq", **overrides):
    return zoo.build(name, size="toy", **overrides)


@pytest.mark.parametrize("name,overrides", [
    ("lstm_seq2seq", {}),
    ("gru_seq2seq", {}),
    ("attention_seq2seq", {}),
    ("attention_seq2seq", {"cell": "gru", "attention": "bahdanau", "dropout": 0.2}),
])
def test_builder(name, overrides, tmp_path):
    result = run_builder_test(name, overrides=overrides, tmp_path=tmp_path)
    params = result.params
    # The encoder gives every carried state (and the memory with attention).
    expected = recurrent.state_layers(params["cell"], params["num_layers"])
    if params["attention"]:
        expected.append("code_memory")
    assert list(zoo.encoder(result.model).output) == expected


def test_variants_are_presets_of_one_builder_with_unchanged_defaults():
    base = zoo.get_spec("lstm_seq2seq")
    shared = {"source_vocab_size": 100, "target_vocab_size": 100, "embedding_dim": 64,
              "latent_dim": 256, "num_layers": 1, "dropout": 0.0, "start_token": 1,
              "end_token": 2, "learning_rate": 1e-3, "jit_compile": "auto"}
    assert base.defaults == {**shared, "cell": "lstm", "attention": None}
    assert zoo.get_spec("gru_seq2seq").defaults == {**shared, "cell": "gru", "attention": None}
    assert zoo.get_spec("attention_seq2seq").defaults == {**shared, "cell": "lstm",
                                                          "attention": "luong"}
    for name in ("gru_seq2seq", "attention_seq2seq"):
        spec = zoo.get_spec(name)
        assert spec.preset_of == "lstm_seq2seq" and spec.builder is base.builder
        assert spec.capabilities == base.capabilities
        assert spec.toy == base.toy and spec.size("small") == base.size("small")


def test_layer_names_keep_the_saved_file_format():
    model = _toy("attention_seq2seq")
    names = {layer.name for layer in model.layers}
    assert {"target_embedding", "decoder_lstm_0", "decoder_lstm_1", "encoder_lstm_1",
            "code_h_0", "code_c_1", "code_memory", "attention", "attention_combine",
            "attention_concat", "logits"} <= names
    gru = {layer.name for layer in _toy("gru_seq2seq").layers}
    assert {"decoder_gru_1", "code_h_1"} <= gru and "code_c_0" not in gru
    assert recurrent.decoder_rnn_layer("gru", 3) == "decoder_gru_3"


def test_greedy_decode_shape_dtype_and_padding_after_end():
    model = _toy()
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
    model = _toy()
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
    enc = zoo.encoder(_toy())
    short = enc(np.array([[3, 4, 5]]))
    padded = enc(np.array([[3, 4, 5, 0, 0, 0]]))
    for key in short:
        np.testing.assert_allclose(keras.ops.convert_to_numpy(short[key]),
                                   keras.ops.convert_to_numpy(padded[key]), atol=1e-5)


def test_greedy_decode_works_after_reload(tmp_path):
    model = _toy()
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
        zoo.greedy_decode(_toy(), source, max_length=3)


@pytest.mark.parametrize("max_length", [0, -2])
def test_greedy_decode_rejects_bad_max_length(max_length):
    with pytest.raises(ValueError, match=rf"Received: max_length={max_length}$"):
        zoo.greedy_decode(_toy(), np.array([[3]]), max_length=max_length)


def test_greedy_decode_needs_a_seq2seq_model():
    with pytest.raises(ValueError, match=r"needs a seq2seq or decoder-only model .* "
                                         r"Received: model='dense_autoencoder'$"):
        zoo.greedy_decode(zoo.build("dense_autoencoder_toy"), np.array([[3]]), 3)


@pytest.mark.parametrize("overrides,match", [
    ({"cell": "rnn"}, r"Received: cell='rnn'$"),
    ({"attention": "dot"}, r"Received: attention='dot'$"),
    ({"start_token": 12}, r"Received: start_token=12$"),
    ({"end_token": 1}, r"Received: start_token=1, end_token=1$"),
    ({"dropout": 1.0}, r"Received: dropout=1.0$"),
])
def test_bad_arguments_are_refused(overrides, match):
    with pytest.raises(ValueError, match=match):
        _toy(**overrides)
