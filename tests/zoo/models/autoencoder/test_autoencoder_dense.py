"""zoo/models/autoencoder/dense.py: the dense autoencoder and its presets."""

import keras
import numpy as np
import pytest
from sklearn.decomposition import PCA

import zoo
from tests.harness import run_builder_test, to_numpy
from zoo.layers import CorruptionNoise

DENSE = ["dense_autoencoder", "dense_autoencoder_toy", "denoising_autoencoder",
         "sparse_autoencoder"]


@pytest.mark.parametrize("name", DENSE)
def test_builder(name, tmp_path):
    run_builder_test(name, tmp_path=tmp_path)


def test_mnist_preset_builds_the_784_128_32_autoencoder():
    model = zoo.build("dense_autoencoder_mnist")
    assert model.output_shape == (None, 784)
    assert zoo.encoder(model).output_shape == (None, 32)
    assert model.get_layer("encoder_dense_0").units == 128


def test_denoising_noise_is_seeded_and_applies_only_in_training():
    model = zoo.build("denoising_autoencoder", size="toy", seed=5)
    twin = zoo.build("denoising_autoencoder", size="toy", seed=5)
    twin.set_weights(model.get_weights())
    assert isinstance(model.get_layer("noise"), CorruptionNoise)
    x = zoo.spec_of(model).example_data(zoo.model_params(model), 6, 0)[0]
    noisy = to_numpy(model(x, training=True))
    np.testing.assert_array_equal(noisy, to_numpy(twin(x, training=True)))  # same seed
    assert not np.allclose(noisy, to_numpy(model(x, training=True)))  # a new draw every call
    np.testing.assert_array_equal(to_numpy(model(x)), to_numpy(model(x)))
    assert not np.allclose(noisy, to_numpy(model(x)))


def test_sparse_autoencoder_penalises_the_code_l1():
    model = zoo.build("sparse_autoencoder", size="toy", code_l1=0.01)
    x = zoo.spec_of(model).example_data(zoo.model_params(model), 4, 0)[0]
    model(x)
    code = to_numpy(zoo.encoder(model)(x))
    (penalty,) = model.losses
    np.testing.assert_allclose(to_numpy(penalty), 0.01 * np.abs(code).sum() / len(x), rtol=1e-5)
    assert not zoo.build("dense_autoencoder_toy").losses  # no penalty by default


def test_variants_are_presets_of_the_dense_builder():
    dense = zoo.get_spec("dense_autoencoder")
    for name in ("denoising_autoencoder", "sparse_autoencoder", "dense_autoencoder_toy",
                 "dense_autoencoder_mnist"):
        assert zoo.get_spec(name).builder is dense.builder
        assert zoo.get_spec(name).size("small") == dense.size("small")
    assert zoo.get_spec("denoising_autoencoder").capabilities.denoising
    assert not dense.capabilities.denoising


@pytest.mark.parametrize("name,overrides,match", [
    ("dense_autoencoder", {"noise": "salt"}, r"Received: noise='salt'$"),
    ("denoising_autoencoder", {"noise_level": -0.1}, r"Received: noise_level=-0\.1$"),
    ("denoising_autoencoder", {"noise": "masking", "noise_level": 1.5},
     r"Received: noise_level=1\.5$"),
    ("denoising_autoencoder", {"seed": -2}, r"Received: seed=-2$"),
    ("sparse_autoencoder", {"code_l1": -1e-3}, r"Received: code_l1=-0\.001$"),
])
def test_builders_reject_bad_arguments(name, overrides, match):
    with pytest.raises(ValueError, match=match):
        zoo.build(name, **overrides)


@pytest.mark.slow
def test_denoising_output_is_closer_to_clean_than_its_noisy_input(digits):
    train, test = digits
    model = zoo.build("denoising_autoencoder", input_dim=64, hidden_units=(128,), code_size=32,
                      noise="gaussian", noise_level=0.3, seed=0, learning_rate=3e-3)
    model.fit(train, train, batch_size=64, epochs=40, verbose=0)
    noisy = test + 0.3 * np.random.default_rng(1).standard_normal(test.shape).astype("float32")
    denoised = model.predict(noisy, verbose=0)
    ratio = np.mean((denoised - test) ** 2) / np.mean((noisy - test) ** 2)
    print(f"\n[{keras.backend.backend()}] denoising: MSE(output, clean) / "
          f"MSE(noisy, clean) = {ratio:.3f}")
    assert ratio < 0.5


@pytest.mark.slow
def test_dense_autoencoder_against_pca_on_digits(digits):
    train, test = digits
    for code_size in (2, 8):
        pca = PCA(code_size).fit(train)
        pca_mse = float(np.mean((pca.inverse_transform(pca.transform(test)) - test) ** 2))
        model = zoo.build("dense_autoencoder", input_dim=64, hidden_units=(128, 64),
                          code_size=code_size, code_activation=None, learning_rate=3e-3)
        model.fit(train, train, batch_size=64, epochs=60, verbose=0)
        ae_mse = float(np.mean(zoo.reconstruction_error(model, test)))
        print(f"\n[{keras.backend.backend()}] digits held-out MSE, code size {code_size}: "
              f"autoencoder {ae_mse:.5f}, PCA {pca_mse:.5f}, ratio {ae_mse / pca_mse:.3f}")
        # A nonlinear code beats the best linear one of the same size.
        assert ae_mse < pca_mse
