"""Generation reads declared capabilities and parameters, never a builder's name.

The test registers a copy of each generating entry's builder under another
function name and another registry name (same signature and defaults, same
spec fields), then generates with it and extracts its encoder; the copies
are unregistered when the module's tests end.
"""


import numpy as np
import pytest

import zoo
from tests.harness import register_renamed_copy

ORIGINALS = ["lstm_seq2seq", "attention_seq2seq", "transformer_seq2seq", "lstm_lm",
             "gpt_decoder"]


@pytest.fixture(scope="module")
def renamed():
    names = {original: f"renamed_copy_of_{original}" for original in ORIGINALS}
    for original, name in names.items():
        register_renamed_copy(original, name)
    yield names
    for name in names.values():
        zoo.unregister_model(name)
    assert not zoo.list_models("renamed_copy_of_*")


@pytest.mark.parametrize("original", ORIGINALS)
def test_a_renamed_copy_of_a_builder_still_generates_and_encodes(renamed, original):
    name = renamed[original]
    model = zoo.build(name, size="toy")
    reference = zoo.build(original, size="toy")
    reference.set_weights(model.get_weights())
    spec = zoo.spec_of(model)
    assert spec.name == name and spec.builder.__name__ != zoo.get_spec(original).builder.__name__
    x, _ = spec.example_data(zoo.model_params(model), 3, 0)
    seq2seq = spec.capabilities.generation == "seq2seq"
    inputs = x["source_tokens"] if seq2seq else x[:, :2]
    for strategy in ("greedy", "beam"):
        ids = zoo.generate(model, inputs, max_length=4, strategy=strategy)
        assert ids.shape == (3, 4)
        np.testing.assert_array_equal(
            ids, zoo.generate(reference, inputs, max_length=4, strategy=strategy))
    codes = zoo.encoder(model).predict_on_batch(inputs if seq2seq else x)
    assert all(np.isfinite(np.asarray(c)).all()
               for c in (codes.values() if isinstance(codes, dict) else [codes]))
