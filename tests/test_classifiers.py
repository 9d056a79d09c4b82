"""Encoder-only family: padding invariance, learning, mixed precision, errors."""

import keras
import numpy as np
import pytest

import zoo
from applications import generated

CLASSIFIERS = zoo.list_models(family="classifier")
TOKEN_MODELS = [n for n in CLASSIFIERS if "tokens" in zoo.get_spec(n).inputs]


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _toy(name, **overrides):
    return zoo.build(name, **{**zoo.get_spec(name).toy, **overrides})


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
    model = _toy(name, **overrides)
    rng = np.random.default_rng(0)
    lengths = np.array([2, 5, 7, 4])
    short = rng.integers(3, 20, size=(4, 7)).astype("int32")
    short[np.arange(7)[None, :] >= lengths[:, None]] = 0
    long = np.zeros((4, 13), "int32")
    long[:, :7] = short
    out_short, out_long = _numpy(model(short)), _numpy(model(long))
    if zoo.get_spec(name).task == "tagging":
        for row, n in enumerate(lengths):
            np.testing.assert_allclose(out_short[row, :n], out_long[row, :n], atol=1e-5)
    else:
        np.testing.assert_allclose(out_short, out_long, atol=1e-5)
    codes_short, codes_long = (_numpy(zoo.encoder(model)(t)) for t in (short, long))
    if zoo.get_spec(name).task != "tagging":
        np.testing.assert_allclose(codes_short, codes_long, atol=1e-5)


def test_feature_series_input_runs_without_masking():
    model = zoo.build("lstm_classifier", input_type="features", num_features=3, units=4,
                      num_classes=4)
    x = np.random.default_rng(0).normal(size=(2, 6, 3)).astype("float32")
    assert _numpy(model(x)).shape == (2, 4)
    np.testing.assert_allclose(_numpy(model(x)).sum(-1), 1.0, atol=1e-5)


# --- encoder ---------------------------------------------------------------------------------


def test_encoder_gives_the_pooled_embedding_or_per_token_states():
    clf = _toy("bilstm_classifier")
    assert zoo.encoder(clf).output.shape == (None, 2 * clf.zoo_config["units"])
    tagger = _toy("transformer_tagger")
    assert zoo.encoder(tagger).output.shape == (None, None, tagger.zoo_config["embedding_dim"])
    vit = _toy("vit_classifier")
    assert zoo.encoder(vit).output.shape == (None, vit.zoo_config["embedding_dim"])


# --- learning --------------------------------------------------------------------------------

# Each task needs the model's inductive bias: order across the sequence for
# recurrent and attention models, neighbouring order for the 1D CNN, bar
# orientation for image models, the left neighbour for taggers.
LEARNING = {
    "rnn_classifier": (generated.marker_order, {"embedding_dim": 16, "units": 32}),
    "lstm_classifier": (generated.marker_order, {"embedding_dim": 16, "units": 32}),
    "gru_classifier": (generated.marker_order, {"embedding_dim": 16, "units": 32}),
    "bilstm_classifier": (generated.marker_order, {"embedding_dim": 16, "units": 32}),
    "transformer_classifier": (generated.marker_order, {
        "max_length": 16, "embedding_dim": 32, "num_heads": 4, "ff_dim": 64, "dropout": 0.0}),
    "cnn1d_classifier": (generated.adjacent_motif, {
        "embedding_dim": 16, "filters": (32,), "kernel_size": 3}),
    "cnn2d_classifier": (generated.oriented_bars, {
        "image_shape": (16, 16, 1), "num_classes": 3, "filters": (16, 32)}),
    "vit_classifier": (generated.oriented_bars, {
        "image_shape": (16, 16, 1), "num_classes": 3, "embedding_dim": 32, "num_heads": 4,
        "ff_dim": 64, "num_layers": 2, "dropout": 0.0}),
    "lstm_tagger": (generated.rise_tags, {"num_tags": 2, "embedding_dim": 16, "units": 32}),
    "transformer_tagger": (generated.rise_tags, {
        "num_tags": 2, "max_length": 16, "embedding_dim": 32, "num_heads": 4, "ff_dim": 64,
        "dropout": 0.0}),
}


def test_every_classifier_has_a_learning_task():
    assert set(LEARNING) == set(CLASSIFIERS)


class StopAtValidationAccuracy(keras.callbacks.Callback):
    def __init__(self, target):
        super().__init__()
        self.target = target

    def on_epoch_end(self, epoch, logs=None):
        accuracy = [v for k, v in logs.items() if k.startswith("val_") and "accuracy" in k]
        if accuracy and accuracy[0] >= self.target:
            self.model.stop_training = True


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LEARNING))
def test_learns_its_generated_task(name):
    task, params = LEARNING[name]
    if task is not generated.oriented_bars:
        params = {"vocab_size": 12, **params}
    x, y = task(4000, seed=1)
    x_val, y_val = task(500, seed=2)
    x_test, y_test = task(1000, seed=3)  # never seen while training or stopping
    model = zoo.build(name, learning_rate=3e-3, **params)
    model.fit(x, y, batch_size=64, epochs=15, verbose=0, validation_data=(x_val, y_val),
              callbacks=[StopAtValidationAccuracy(0.985)])
    scores = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    accuracy = scores.get("accuracy", scores.get("masked_accuracy"))
    print(f"{name} on {keras.backend.backend()}: held-out accuracy {accuracy:.4f} "
          f"after {len(model.history.epoch)} epochs, {model.count_params()} parameters")
    assert accuracy >= 0.95


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
    model = zoo.build(name, **spec.toy)
    x, _ = spec.example_data(model.zoo_config, 3, seed=0)
    assert model.layers[-2].compute_dtype in ("float16", "bfloat16")
    out = model(x, training=False)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    assert np.isfinite(_numpy(out)).all()


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name,overrides,match", [
    ("transformer_classifier", {"embedding_dim": 30, "num_heads": 4},
     r"must divide embedding_dim=30\. Received: num_heads=4$"),
    ("vit_classifier", {"embedding_dim": 10, "num_heads": 3}, r"Received: num_heads=3$"),
    ("vit_classifier", {"image_shape": (28, 28, 1), "patch_size": 5},
     r"Received: patch_size=5$"),
    ("vit_classifier", {"image_shape": (28, 28)}, r"Received: image_shape=\(28, 28\)$"),
    ("cnn2d_classifier", {"image_shape": (8, 8, 1), "filters": (4, 4, 4, 4)},
     r"Received: filters=\(4, 4, 4, 4\)$"),
    ("cnn1d_classifier", {"kernel_size": 4}, r"must be odd .* Received: kernel_size=4$"),
    ("cnn1d_classifier", {"filters": ()}, r"Received: filters=\(\)$"),
    ("lstm_classifier", {"num_classes": 1}, r"at least 2\. Received: num_classes=1$"),
    ("lstm_classifier", {"input_type": "images"}, r"Received: input_type='images'$"),
    ("rnn_classifier", {"cell": "transformer"}, r"Received: cell='transformer'$"),
    ("rnn_classifier", {"pooling": "sum"}, r"Received: pooling='sum'$"),
    ("rnn_classifier", {"bidirectional": "yes"}, r"Received: bidirectional='yes'$"),
    ("transformer_classifier", {"pooling": "last"}, r"Received: pooling='last'$"),
    ("transformer_tagger", {"dropout": -0.1}, r"Received: dropout=-0\.1$"),
])
def test_impossible_configurations_are_refused(name, overrides, match):
    with pytest.raises(ValueError, match=match):
        zoo.build(name, **overrides)


def test_sequences_longer_than_max_length_are_refused():
    model = _toy("transformer_classifier")  # max_length=16
    # Keras adds its own context around errors raised inside a layer's call.
    with pytest.raises(ValueError, match=r"exceed max_length=16\. Received: a batch of shape "
                                         r"\(1, 20"):
        model(np.ones((1, 20), "int32"))
