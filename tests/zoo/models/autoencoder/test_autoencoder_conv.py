"""zoo/models/autoencoder/conv.py: the convolutional autoencoder and its denoising preset."""

import numpy as np
import pytest

import zoo
from tests.harness import run_builder_test, to_numpy


@pytest.mark.parametrize("name", ["conv_autoencoder", "conv_denoising_autoencoder"])
def test_builder(name, tmp_path):
    result = run_builder_test(name, tmp_path=tmp_path, expected_output_shape=(4, 8, 8, 1))
    assert result.spec.capabilities.decodable


def test_denoising_preset_masks_pixels_in_training_only():
    spec = zoo.get_spec("conv_denoising_autoencoder")
    assert spec.builder is zoo.get_spec("conv_autoencoder").builder
    assert spec.capabilities.denoising
    model, twin = (zoo.build(spec.name, size="toy", seed=5) for _ in range(2))
    twin.set_weights(model.get_weights())
    x = spec.example_data(zoo.model_params(model), 6, 0)[0]
    noisy = to_numpy(model(x, training=True))
    np.testing.assert_array_equal(noisy, to_numpy(twin(x, training=True)))  # same seed
    assert not np.allclose(noisy, to_numpy(model(x, training=True)))  # a new draw every call
    np.testing.assert_array_equal(to_numpy(model(x)), to_numpy(model(x)))


def test_bench_size_is_the_28x28_benchmark_model():
    model = zoo.build("conv_autoencoder", size="bench", compile=False)
    assert model.output_shape == (None, 28, 28, 1)
    assert zoo.encoder(model).output_shape == (None, 32)


@pytest.mark.parametrize("overrides,match", [
    ({"input_shape": (28, 28)}, r"Received: input_shape=\(28, 28\)$"),
    ({"input_shape": (28, 28, 1), "filters": (8, 8, 8)},
     r"divisible by 2\*\*len\(filters\) = 8 .*Received: input_shape=\(28, 28, 1\)$"),
    ({"input_shape": "28x28"}, r"Received: input_shape='28x28'$"),
    ({"filters": ()}, r"Received: filters=\(\)$"),
    ({"code_l1": "lots"}, r"Received: code_l1='lots'$"),
])
def test_builder_rejects_bad_arguments(overrides, match):
    with pytest.raises(ValueError, match=match):
        zoo.build("conv_autoencoder", **overrides)
