"""Seq2seq and language models saved by release 0.1 still give their outputs and generate.

Files in ``tests/fixtures/legacy_v0_1`` were saved before the steppers read
``zoo.model_params`` (some hold no ``cell``/``attention`` parameter): the
steppers must find every layer through the declared names and the
registry's defaults.
"""

import pathlib

import numpy as np
import pytest

import zoo

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "legacy_v0_1"
GENERATORS = ["lstm_seq2seq", "attention_seq2seq", "transformer_seq2seq", "lstm_lm",
              "gpt_decoder"]


def _stored(name):
    with np.load(FIXTURES / f"{name}.npz") as arrays:
        arrays = dict(arrays)
    if "x" in arrays:
        return arrays["x"], arrays["y"]
    return {key[3:]: value for key, value in arrays.items() if key.startswith("x__")}, arrays["y"]


@pytest.mark.parametrize("name", GENERATORS)
def test_release_0_1_file_generates_what_its_outputs_say(name):
    model = zoo.load(FIXTURES / f"{name}.keras")
    x, y = _stored(name)
    np.testing.assert_allclose(np.asarray(model.predict_on_batch(x)), y, atol=1e-4, rtol=1e-4)
    seq2seq = zoo.spec_of(model).capabilities.generation == "seq2seq"
    inputs = x["source_tokens"] if seq2seq else np.maximum(x[:, :3], 1)
    ids = zoo.generate(model, inputs, max_length=4, stop_token=None)
    assert ids.shape == (len(inputs), 4) and ids.dtype == np.int32
    # Step by step, the stepper must reproduce the whole model's argmax.
    params = zoo.model_params(model)
    if seq2seq:
        start = np.full((len(inputs), 1), params["start_token"], "int32")
        logits = model.predict_on_batch({"source_tokens": inputs, "target_tokens":
                                         np.concatenate([start, ids[:, :-1]], axis=1)})
        banned = [0, params["start_token"]]
    else:
        full = model.predict_on_batch(np.concatenate([inputs, ids], axis=1))
        logits = np.asarray(full)[:, inputs.shape[1] - 1:-1]
        banned = [0]
    logits = np.array(logits)
    logits[..., banned] = -np.inf
    np.testing.assert_array_equal(logits.argmax(-1), ids)
