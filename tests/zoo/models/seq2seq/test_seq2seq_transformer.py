"""transformer_seq2seq: builder, declared layer names and its stepper's limits."""

import numpy as np
import pytest

import zoo
from tests.harness import run_builder_test
from zoo.models.seq2seq import transformer


def test_builder(tmp_path):
    result = run_builder_test("transformer_seq2seq", tmp_path=tmp_path)
    assert result.predictions.shape == result.y.shape + (12,)


def test_small_size_is_what_the_applications_train():
    spec = zoo.get_spec("transformer_seq2seq")
    assert spec.size("small") == {"embedding_dim": 64, "num_heads": 4, "ff_dim": 128,
                                  "num_layers": 2, "dropout": 0.0, "learning_rate": 1e-3}


def test_stepper_reuses_the_declared_layers():
    model = zoo.build("transformer_seq2seq", size="toy", num_layers=2)
    names = {layer.name for layer in model.layers}
    assert {transformer.decoder_block(0), transformer.decoder_block(1),
            transformer.TARGET_POSITIONS, transformer.DECODER_NORM, "code_memory",
            "target_embedding", "logits"} <= names
    # Both decoder blocks run while generating: the generated ids match the
    # teacher-forced argmax of the whole model.
    source = np.array([[3, 4, 5]])
    ids = zoo.generate(model, source, max_length=4, stop_token=None)
    decoder_input = np.concatenate([[[1]], ids[:, :-1]], axis=1).astype("int32")
    logits = np.asarray(model.predict_on_batch({"source_tokens": source,
                                                "target_tokens": decoder_input}))
    logits[..., [0, 1]] = -np.inf
    np.testing.assert_array_equal(logits.argmax(-1), ids)


@pytest.mark.parametrize("overrides,match", [
    ({"num_heads": 3}, r"`num_heads` must divide embedding_dim=8\. Received: num_heads=3$"),
    ({"max_source_length": 0}, r"Received: max_source_length=0$"),
    ({"start_token": 0}, r"Received: start_token=0$"),
])
def test_bad_arguments_are_refused(overrides, match):
    with pytest.raises(ValueError, match=match):
        zoo.build("transformer_seq2seq", size="toy", **overrides)
