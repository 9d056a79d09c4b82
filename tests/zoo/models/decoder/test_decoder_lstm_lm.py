"""lstm_lm: builder, declared layer names, sizes and its stepper."""

import numpy as np
import pytest

import zoo
from tests.harness import run_builder_test
from zoo.models.decoder import LanguageModelStepper, lstm_lm, next_token_targets


def test_builder(tmp_path):
    result = run_builder_test("lstm_lm", overrides={"dropout": 0.2}, tmp_path=tmp_path)
    assert result.predictions.shape == result.y.shape + (12,)


def test_next_token_targets_shift_left():
    np.testing.assert_array_equal(next_token_targets([[5, 6, 7], [8, 0, 0]]),
                                  [[6, 7, 0], [0, 0, 0]])


def test_capabilities_sizes_and_layer_names():
    spec = zoo.get_spec("lstm_lm")
    assert spec.capabilities.generation == "language_model"
    assert issubclass(spec.capabilities.stepper, LanguageModelStepper)
    assert spec.size("small") == {"embedding_dim": 32, "units": 128, "learning_rate": 5e-3}
    model = zoo.build("lstm_lm", size="toy", num_layers=3)
    names = {layer.name for layer in model.layers}
    assert {lstm_lm.lstm_layer(i) for i in range(3)} | {"token_embedding", "logits"} <= names


def test_all_layers_carry_their_state_while_generating():
    # With three layers, generating token by token must give exactly the
    # argmax of the whole model fed the whole sequence.
    model = zoo.build("lstm_lm", size="toy", num_layers=3)
    prompt = np.array([[3, 4], [5, 6]])
    ids = zoo.generate(model, prompt, max_length=4)
    logits = np.asarray(model.predict_on_batch(np.concatenate([prompt, ids], axis=1)))
    logits[..., 0] = -np.inf
    np.testing.assert_array_equal(logits[:, 1:-1].argmax(-1), ids)


@pytest.mark.parametrize("overrides,match", [
    ({"units": 0}, r"Received: units=0$"),
    ({"dropout": -0.1}, r"Received: dropout=-0.1$"),
])
def test_bad_arguments_are_refused(overrides, match):
    with pytest.raises(ValueError, match=match):
        zoo.build("lstm_lm", size="toy", **overrides)
