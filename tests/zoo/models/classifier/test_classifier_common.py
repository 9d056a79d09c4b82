"""The classifier family (zoo/models/classifier/): builders, padding, heads, errors."""

import keras
import numpy as np
import pytest

import zoo
from tests.harness import run_builder_test, to_numpy

CLASSIFIERS = zoo.list_models(family="classifier")
TOKEN_MODELS = [n for n in CLASSIFIERS if "tokens" in zoo.get_spec(n).capabilities.input_kinds]


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_builder(name, tmp_path):
    result = run_builder_test(name, tmp_path=tmp_path)
    assert result.model.get_layer("code") is not None


# --- padding ---------------------------------------------------------------------------------

PADDING_VARIANTS = [(name, {}) for name in TOKEN_MODELS] + [
    ("rnn_classifier", {"pooling": "mean"}),
    ("gru_classifier", {"pooling": "max"}),
    ("bilstm_classifier", {"pooling": "mean", "num_layers": 1}),
    ("cnn1d_classifier", {"pooling": "mean", "kernel_size": 5}),
    ("transformer_classifier", {"pooling": "max"}),
    ("lstm_tagger", {"bidirectional": False, "num_layers": 2}),
]


@pytest.mark.parametrize("name,overrides", PADDING_VARIANTS,
                         ids=[f"{n}-{'-'.join(map(str, o.values())) or 'default'}"
                              for n, o in PADDING_VARIANTS])
def test_padding_does_not_change_a_prediction(name, overrides):
    model = zoo.build(name, size="toy", **overrides)
    rng = np.random.default_rng(0)
    lengths = np.array([2, 5, 7, 4])
    short = rng.integers(3, 20, size=(4, 7)).astype("int32")
    short[np.arange(7)[None, :] >= lengths[:, None]] = 0
    long = np.zeros((4, 13), "int32")
    long[:, :7] = short
    out_short, out_long = to_numpy(model(short)), to_numpy(model(long))
    if zoo.get_spec(name).task == "tagging":
        for row, n in enumerate(lengths):
            np.testing.assert_allclose(out_short[row, :n], out_long[row, :n], atol=1e-5)
    else:
        np.testing.assert_allclose(out_short, out_long, atol=1e-5)
    codes_short, codes_long = (to_numpy(zoo.encoder(model)(t)) for t in (short, long))
    if zoo.get_spec(name).task != "tagging":
        np.testing.assert_allclose(codes_short, codes_long, atol=1e-5)


def test_feature_series_input_runs_without_masking():
    model = zoo.build("lstm_classifier", input_type="features", num_features=3, units=4,
                      num_classes=4)
    x = np.random.default_rng(0).normal(size=(2, 6, 3)).astype("float32")
    assert to_numpy(model(x)).shape == (2, 4)
    np.testing.assert_allclose(to_numpy(model(x)).sum(-1), 1.0, atol=1e-5)


# --- encoder ---------------------------------------------------------------------------------


def test_encoder_gives_the_pooled_embedding_or_per_token_states():
    clf = zoo.build("bilstm_classifier", size="toy")
    assert zoo.encoder(clf).output.shape == (None, 2 * clf.zoo_config["units"])
    tagger = zoo.build("transformer_tagger", size="toy")
    assert zoo.encoder(tagger).output.shape == (None, None, tagger.zoo_config["embedding_dim"])
    vit = zoo.build("vit_classifier", size="toy")
    assert zoo.encoder(vit).output.shape == (None, vit.zoo_config["embedding_dim"])


# --- sizes -----------------------------------------------------------------------------------


def test_small_and_bench_sizes_build():
    assert zoo.build("lstm_classifier", size="small").zoo_config["units"] == 32
    bench = zoo.build("lstm_classifier", size="bench", compile=False)
    assert bench.get_layer("token_embedding").input_dim == 1000
    for name in ("lstm_tagger", "transformer_tagger", "cnn1d_classifier"):
        assert zoo.build(name, size="small").zoo_config["embedding_dim"] == 32


# --- mixed precision -------------------------------------------------------------------------


@pytest.fixture
def restore_policy():
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_mixed_precision_forward_pass(name, policy, restore_policy):
    keras.mixed_precision.set_global_policy(policy)
    spec = zoo.get_spec(name)
    model = zoo.build(name, size="toy")
    x, _ = spec.example_data(model.zoo_config, 3, seed=0)
    assert model.layers[-2].compute_dtype in ("float16", "bfloat16")
    out = model(x, training=False)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    assert np.isfinite(to_numpy(out)).all()


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name,overrides,match", [
    ("transformer_classifier", {"embedding_dim": 30, "num_heads": 4},
     r"must divide embedding_dim=30\. Received: num_heads=4$"),
    ("vit_classifier", {"embedding_dim": 10, "num_heads": 3}, r"Received: num_heads=3$"),
    ("vit_classifier", {"image_shape": (28, 28, 1), "patch_size": 5},
     r"must divide the image size \(28, 28\)\. Received: patch_size=5$"),
    ("vit_classifier", {"image_shape": (28, 28)}, r"Received: image_shape=\(28, 28\)$"),
    ("cnn2d_classifier", {"image_shape": (8, 8, 1), "filters": (4, 4, 4, 4)},
     r"below one pixel\. Received: filters=\(4, 4, 4, 4\)$"),
    ("cnn1d_classifier", {"kernel_size": 4}, r"must be odd .* Received: kernel_size=4$"),
    ("cnn1d_classifier", {"filters": ()}, r"Received: filters=\(\)$"),
    ("lstm_classifier", {"num_classes": 1}, r"at least 2\. Received: num_classes=1$"),
    ("lstm_classifier", {"input_type": "images"}, r"Received: input_type='images'$"),
    ("rnn_classifier", {"cell": "transformer"}, r"Received: cell='transformer'$"),
    ("rnn_classifier", {"pooling": "sum"}, r"Received: pooling='sum'$"),
    ("rnn_classifier", {"bidirectional": "yes"}, r"Received: bidirectional='yes'$"),
    ("lstm_tagger", {"bidirectional": 1}, r"Received: bidirectional=1$"),
    ("transformer_classifier", {"pooling": "last"}, r"Received: pooling='last'$"),
    ("transformer_tagger", {"dropout": -0.1}, r"Received: dropout=-0\.1$"),
])
def test_impossible_configurations_are_refused(name, overrides, match):
    with pytest.raises(ValueError, match=match):
        zoo.build(name, **overrides)


def test_sequences_longer_than_max_length_are_refused():
    model = zoo.build("transformer_classifier", size="toy")  # max_length=16
    # Keras adds its own context around errors raised inside a layer's call.
    with pytest.raises(ValueError, match=r"exceed max_length=16\. Received: .*\(1, 20"):
        model(np.ones((1, 20), "int32"))
