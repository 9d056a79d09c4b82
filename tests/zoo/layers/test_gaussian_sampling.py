import numpy as np
import pytest

from tests.harness import run_layer_test, to_numpy
from zoo.layers import GaussianSampling, kl_divergence


def _moments(n=3, width=4, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, width)).astype("float32"),
            (0.1 * rng.standard_normal((n, width))).astype("float32")]


def test_layer(tmp_path):
    run_layer_test(GaussianSampling, {"seed": 3}, _moments(), expected_output_shape=(3, 4),
                   bad_init_kwargs=[{"seed": -1}, {"seed": 1.5}, {"seed": "x"}],
                   expect_trainable=False, tmp_path=tmp_path)


def test_layer_in_training(tmp_path):
    run_layer_test(GaussianSampling, {"seed": None}, _moments(),
                   expected_output_shape=(3, 4), call_kwargs={"training": True},
                   expect_trainable=False, tmp_path=tmp_path)


def test_inference_returns_the_mean_and_training_samples():
    mean, log_var = _moments()
    layer = GaussianSampling(seed=0)
    np.testing.assert_allclose(to_numpy(layer([mean, log_var])), mean)
    first = to_numpy(layer([mean, log_var], training=True))
    second = to_numpy(layer([mean, log_var], training=True))
    assert not np.allclose(first, mean) and not np.allclose(first, second)


def test_samples_follow_the_distribution():
    n = 20000
    mean = np.full((n, 2), 3.0, "float32")
    log_var = np.full((n, 2), np.log(4.0), "float32")  # standard deviation 2
    z = to_numpy(GaussianSampling(seed=1)([mean, log_var], training=True))
    np.testing.assert_allclose(z.mean(axis=0), 3.0, atol=0.1)
    np.testing.assert_allclose(z.std(axis=0), 2.0, atol=0.1)


def test_same_seed_same_samples():
    moments = _moments()
    a = to_numpy(GaussianSampling(seed=7)(moments, training=True))
    b = to_numpy(GaussianSampling(seed=7)(moments, training=True))
    np.testing.assert_allclose(a, b)


def test_records_the_kl_term_as_a_loss():
    mean, log_var = _moments()
    layer = GaussianSampling(seed=0)
    layer([mean, log_var])
    assert len(layer.losses) == 1
    expected = np.mean(to_numpy(kl_divergence(mean, log_var)))
    np.testing.assert_allclose(to_numpy(layer.losses[0]), expected, rtol=1e-5)


def test_kl_divergence_closed_form():
    mean = np.array([[1.0, -2.0]], "float32")
    log_var = np.array([[0.0, np.log(2.0)]], "float32")
    variance = np.exp(log_var)
    expected = 0.5 * np.sum(variance + mean ** 2 - 1.0 - log_var, axis=-1)
    np.testing.assert_allclose(to_numpy(kl_divergence(mean, log_var)), expected, rtol=1e-5)
    np.testing.assert_allclose(to_numpy(kl_divergence(np.zeros((2, 3)), np.zeros((2, 3)))), 0.0)


@pytest.mark.parametrize("value", [-1, 1.5, "0"])
def test_seed_must_be_none_or_a_non_negative_integer(value):
    with pytest.raises(ValueError, match=rf"`seed` must be an integer >= 0\. "
                                         rf"Received: seed={value!r}"):
        GaussianSampling(seed=value)
