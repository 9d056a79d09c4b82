"""gpt_decoder: builder, sizes and its stepper's limits."""

import numpy as np
import pytest

import zoo
from tests.harness import run_builder_test
from zoo.models.decoder import GptStepper


def test_builder(tmp_path):
    result = run_builder_test("gpt_decoder", tmp_path=tmp_path)
    assert result.predictions.shape == result.y.shape + (12,)


def test_capabilities_and_sizes():
    spec = zoo.get_spec("gpt_decoder")
    assert spec.capabilities.generation == "language_model"
    assert spec.capabilities.stepper is GptStepper
    assert spec.size("small") == {"embedding_dim": 64, "num_heads": 4, "ff_dim": 256,
                                  "num_layers": 2, "dropout": 0.0, "learning_rate": 1e-3}
    bench = zoo.build("gpt_decoder", size="bench", compile=False)
    assert bench.zoo_config["max_length"] == 64 and bench.output_shape == (None, None, 256)


def test_outputs_are_the_same_with_and_without_jit():
    spec = zoo.get_spec("gpt_decoder")
    eager = zoo.build("gpt_decoder", size="toy", jit_compile=False)
    compiled = zoo.build("gpt_decoder", size="toy", jit_compile=True)
    compiled.set_weights(eager.get_weights())
    x, _ = spec.example_data(eager.zoo_config, 4, seed=1)
    np.testing.assert_allclose(compiled.predict(x, verbose=0), eager.predict(x, verbose=0),
                               atol=1e-5)


@pytest.mark.parametrize("overrides,match", [
    ({"num_heads": 3}, r"`num_heads` must divide embedding_dim=8\. Received: num_heads=3$"),
    ({"max_length": 0}, r"Received: max_length=0$"),
])
def test_bad_arguments_are_refused(overrides, match):
    with pytest.raises(ValueError, match=match):
        zoo.build("gpt_decoder", size="toy", **overrides)
