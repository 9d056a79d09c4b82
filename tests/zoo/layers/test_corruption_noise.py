import numpy as np
import pytest

from tests.harness import run_layer_test, to_numpy
from zoo.layers import CorruptionNoise

X = np.random.default_rng(0).standard_normal((4, 50)).astype("float32")


@pytest.mark.parametrize("kind, level", [("gaussian", 0.2), ("masking", 0.3)])
def test_layer(kind, level, tmp_path):
    run_layer_test(CorruptionNoise, {"kind": kind, "level": level, "seed": 1}, X,
                   expected_output_shape=(4, 50),
                   bad_init_kwargs=[{"kind": "salt"}, {"level": 0.0}, {"level": -1.0},
                                    {"seed": -2}],
                   expect_trainable=False, tmp_path=tmp_path)


@pytest.mark.parametrize("kind", ["gaussian", "masking"])
def test_layer_in_training(kind, tmp_path):
    run_layer_test(CorruptionNoise, {"kind": kind, "level": 0.5}, X,
                   expected_output_shape=(4, 50), call_kwargs={"training": True},
                   expect_trainable=False, tmp_path=tmp_path)


@pytest.mark.parametrize("kind", ["gaussian", "masking"])
def test_identity_at_inference(kind):
    np.testing.assert_array_equal(to_numpy(CorruptionNoise(kind, 0.5, seed=0)(X)), X)


def test_gaussian_noise_has_the_stated_level():
    x = np.zeros((200, 100), "float32")
    y = to_numpy(CorruptionNoise("gaussian", 0.5, seed=0)(x, training=True))
    assert abs(y.mean()) < 0.02
    assert abs(y.std() - 0.5) < 0.02


def test_masking_zeroes_the_stated_fraction_and_keeps_the_rest():
    x = np.ones((200, 100), "float32")
    y = to_numpy(CorruptionNoise("masking", 0.3, seed=0)(x, training=True))
    assert set(np.unique(y).tolist()) == {0.0, 1.0}  # no rescaling
    assert abs((y == 0).mean() - 0.3) < 0.02


def test_noise_changes_on_every_call_and_repeats_with_the_seed():
    first = CorruptionNoise("gaussian", 0.1, seed=5)
    a, b = to_numpy(first(X, training=True)), to_numpy(first(X, training=True))
    assert not np.allclose(a, b)
    np.testing.assert_allclose(to_numpy(CorruptionNoise("gaussian", 0.1, seed=5)(X, training=True)),
                               a)


@pytest.mark.parametrize("arguments, message", [
    ({"kind": "salt"}, r"`kind` must be one of 'gaussian', 'masking'\. Received: kind='salt'"),
    ({"kind": "gaussian", "level": 0.0}, r"`level` must be a finite number > 0\. Received: level=0\.0"),
    ({"kind": "masking", "level": 1.0}, r"`level` must be a number in \[0, 1\)\. "
                                        r"Received: level=1\.0"),
    ({"kind": "masking", "level": 0.0}, r"`level` must be a number in \(0, 1\) for masking "
                                        r"noise\. Received: level=0\.0"),
    ({"seed": -1}, r"`seed` must be an integer >= 0\. Received: seed=-1"),
])
def test_bad_arguments_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        CorruptionNoise(**arguments)
