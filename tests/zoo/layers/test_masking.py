import numpy as np
import pytest

from tests.harness import run_layer_test, to_numpy
from zoo.layers import MaskedGlobalPooling1D, PaddingMask, ZeroMasked

TOKENS = np.array([[5, 3, 0, 0], [1, 0, 2, 0]], "int32")


def _sequence(seed=0):
    x = np.random.default_rng(seed).standard_normal((2, 4, 3)).astype("float32")
    mask = np.array([[True, True, False, False], [True, True, True, False]])
    return x, mask


def test_padding_mask_layer(tmp_path):
    result = run_layer_test(PaddingMask, {"pad_id": 0}, TOKENS, expected_output_shape=(2, 4),
                            bad_init_kwargs=[{"pad_id": -1}, {"pad_id": 1.5}],
                            expect_trainable=False, tmp_path=tmp_path)
    assert to_numpy(result.outputs).tolist() == (TOKENS != 0).tolist()


def test_padding_mask_other_pad_id():
    assert to_numpy(PaddingMask(pad_id=3)(np.array([[3, 1, 3]]))).tolist() == [[False, True, False]]


@pytest.mark.parametrize("value", [-1, 1.5, None, True])
def test_padding_mask_pad_id_must_be_an_integer(value):
    with pytest.raises(ValueError, match=rf"`pad_id` must be an integer >= 0\. "
                                         rf"Received: pad_id={value!r}"):
        PaddingMask(pad_id=value)


def test_zero_masked_layer(tmp_path):
    x, mask = _sequence()
    result = run_layer_test(ZeroMasked, {}, [x, mask], expected_output_shape=(2, 4, 3),
                            expect_trainable=False, tmp_path=tmp_path)
    out = to_numpy(result.outputs)
    np.testing.assert_array_equal(out[~mask], 0.0)
    np.testing.assert_allclose(out[mask], x[mask])


@pytest.mark.parametrize("mode", ["mean", "max"])
def test_masked_global_pooling_layer(mode, tmp_path):
    x, mask = _sequence()
    run_layer_test(MaskedGlobalPooling1D, {"mode": mode}, [x, mask],
                   expected_output_shape=(2, 3),
                   bad_init_kwargs=[{"mode": "sum"}, {"mode": None}],
                   expect_trainable=False, tmp_path=tmp_path)


@pytest.mark.parametrize("mode, reduce", [("mean", np.mean), ("max", np.max)])
def test_masked_global_pooling_ignores_padding(mode, reduce):
    x, mask = _sequence()
    out = to_numpy(MaskedGlobalPooling1D(mode)([x, mask]))
    for row in range(2):
        np.testing.assert_allclose(out[row], reduce(x[row][mask[row]], axis=0), atol=1e-6)
    changed = x.copy()
    changed[~mask] = 1e4
    np.testing.assert_allclose(to_numpy(MaskedGlobalPooling1D(mode)([changed, mask])), out,
                               atol=1e-6)


def test_masked_mean_of_an_all_padding_row_is_zero():
    x = np.ones((1, 3, 2), "float32")
    out = to_numpy(MaskedGlobalPooling1D("mean")([x, np.zeros((1, 3), bool)]))
    np.testing.assert_array_equal(out, 0.0)


def test_masked_global_pooling_mode_is_checked():
    with pytest.raises(ValueError, match=r"`mode` must be one of 'mean', 'max'\. "
                                         r"Received: mode='sum'"):
        MaskedGlobalPooling1D("sum")
