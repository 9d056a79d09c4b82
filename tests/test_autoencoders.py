"""The autoencoder family: layers, VAE loss, decoder/sample/anomaly API, learning.

The learning tests print their numbers (run with ``-s`` to see them) and
train on scikit-learn's bundled digits (offline) or on generated series.
"""

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score

import zoo
from zoo.layers.noise import CorruptionNoise
from zoo.layers.sampling import GaussianSampling, kl_divergence
from zoo.variational import VariationalAutoencoder, reconstruction_term


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _toy(name, **overrides):
    return zoo.build(name, **{**zoo.get_spec(name).toy, **overrides})


def _toy_data(model, n=6, seed=0):
    return zoo.get_spec(model.zoo_name).example_data(model.zoo_config, n, seed)[0]


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """These models are tiny: under torch, a second intra-op thread only adds
    synchronisation, and on a busy 2-core machine it makes each training step
    up to 100x slower (measured). Restored after this module."""
    if keras.backend.backend() != "torch":
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits():
    """Digits scaled to [0, 1], split 1400 / 397 with a fixed permutation."""
    x = (load_digits().data / 16.0).astype("float32")
    order = np.random.default_rng(0).permutation(len(x))
    return x[order[:1400]], x[order[1400:]]


# --- the KL term and the VAE loss ---------------------------------------------------------------


def _closed_form_kl(mean, log_var):
    # KL(N(mu, s^2) || N(0, 1)) = log(1 / s) + (s^2 + mu^2) / 2 - 1/2, summed over dimensions.
    std = np.exp(0.5 * log_var.astype("float64"))
    return np.sum(np.log(1.0 / std) + (std ** 2 + mean.astype("float64") ** 2) / 2 - 0.5, -1)


def test_kl_divergence_equals_the_closed_form():
    rng = np.random.default_rng(0)
    mean = rng.normal(0, 1.5, (32, 5)).astype("float32")
    log_var = rng.normal(0, 1.0, (32, 5)).astype("float32")
    np.testing.assert_allclose(_numpy(kl_divergence(mean, log_var)),
                               _closed_form_kl(mean, log_var), rtol=0, atol=1e-5)
    # N(0, 1) against itself: exactly zero.
    np.testing.assert_allclose(_numpy(kl_divergence(np.zeros((2, 3)), np.zeros((2, 3)))), 0.0)


@pytest.mark.parametrize("name", ["vae", "conv_vae"])
def test_vae_reports_the_closed_form_kl_and_its_loss_terms(name):
    model = _toy(name, beta=2.5)
    x = _toy_data(model, n=8)
    rng = np.random.default_rng(2)  # move the posterior well away from N(0, I)
    for layer in (model.get_layer("code"), model.get_layer("z_log_var")):
        kernel, bias = layer.get_weights()
        layer.set_weights([kernel, rng.normal(0, 1.0, bias.shape).astype("float32")])
    posterior = keras.Model(model.inputs[0], [model.get_layer("code").output,
                                           model.get_layer("z_log_var").output])
    mean, log_var = (_numpy(t) for t in posterior(x))
    logs = model.evaluate(x, x, batch_size=8, verbose=0, return_dict=True)
    expected_kl = _closed_form_kl(mean, log_var).mean()
    assert expected_kl > 0.1
    np.testing.assert_allclose(logs["kl_loss"], expected_kl, rtol=0, atol=1e-5)
    # Reconstruction: per-sample sum of binary cross-entropy of the decoded mean.
    out = np.clip(_numpy(model(x)).astype("float64"), 1e-7, 1 - 1e-7)
    bce = -(x * np.log(out) + (1 - x) * np.log(1 - out))
    np.testing.assert_allclose(logs["reconstruction_loss"],
                               bce.reshape(len(x), -1).sum(1).mean(), rtol=1e-4)
    np.testing.assert_allclose(logs["loss"], logs["reconstruction_loss"] + 2.5 * logs["kl_loss"],
                               rtol=1e-5)


@pytest.mark.parametrize("loss,elementwise", [
    ("mse", lambda y, p: (y - p) ** 2),
    ("mae", lambda y, p: np.abs(y - p)),
])
def test_reconstruction_term_sums_per_sample(loss, elementwise):
    rng = np.random.default_rng(1)
    y, p = rng.uniform(size=(4, 3, 2)), rng.uniform(size=(4, 3, 2))
    per_sample = elementwise(y, p).reshape(4, -1).sum(1)
    np.testing.assert_allclose(_numpy(reconstruction_term(loss, y, p)), per_sample.mean(),
                               rtol=1e-5)
    weights = np.array([1.0, 0.0, 2.0, 1.0])
    np.testing.assert_allclose(_numpy(reconstruction_term(loss, y, p, weights)),
                               (per_sample * weights).sum() / weights.sum(), rtol=1e-5)


@pytest.mark.parametrize("loss", ["mse", "mae", "bce"])
def test_vae_trains_with_every_reconstruction_loss_and_without_targets(loss):
    model = _toy("vae", reconstruction_loss=loss)
    x = _toy_data(model, n=16)
    history = model.fit(x, batch_size=8, epochs=2, verbose=0)  # targets default to x
    assert set(history.history) == {"loss", "reconstruction_loss", "kl_loss"}
    assert np.isfinite(history.history["loss"]).all()
    assert model.reconstruction_loss == loss and model.get_config()["reconstruction_loss"] == loss


def test_vae_samples_in_training_and_decodes_the_mean_at_inference():
    model = _toy("vae")
    x = _toy_data(model)
    first, second = _numpy(model(x, training=True)), _numpy(model(x, training=True))
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(_numpy(model(x)), _numpy(model(x)))
    mean = zoo.encoder(model)(x)
    np.testing.assert_allclose(_numpy(zoo.decoder(model)(mean)), _numpy(model(x)), atol=1e-6)


# --- layers -------------------------------------------------------------------------------------


def test_gaussian_sampling_draws_from_the_posterior_with_its_own_seed():
    mean = np.full((20000, 2), [1.0, -2.0], "float32")
    log_var = np.full((20000, 2), np.log([0.25, 4.0]), "float32")
    z = _numpy(GaussianSampling(seed=3)([mean, log_var], training=True))
    np.testing.assert_allclose(z.mean(0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(z.std(0), [0.5, 2.0], rtol=0.03)
    again = _numpy(GaussianSampling(seed=3)([mean, log_var], training=True))
    np.testing.assert_array_equal(z, again)  # same seed, same draws
    layer = GaussianSampling(seed=3)
    assert not np.allclose(_numpy(layer([mean, log_var], training=True)),
                           _numpy(layer([mean, log_var], training=True)))  # state advances
    np.testing.assert_array_equal(_numpy(layer([mean, log_var])), mean)  # inference: the mean
    clone = GaussianSampling.from_config(layer.get_config())
    assert clone.seed == 3 and clone.name == layer.name


def test_corruption_noise_is_seeded_and_only_in_training():
    x = np.ones((400, 50), "float32")
    gaussian = CorruptionNoise("gaussian", 0.3, seed=1)
    np.testing.assert_array_equal(_numpy(gaussian(x)), x)
    noisy = _numpy(gaussian(x, training=True))
    assert abs((noisy - x).std() - 0.3) < 0.01 and abs((noisy - x).mean()) < 0.01
    np.testing.assert_array_equal(
        noisy, _numpy(CorruptionNoise("gaussian", 0.3, seed=1)(x, training=True)))
    masked = _numpy(CorruptionNoise("masking", 0.25, seed=1)(x, training=True))
    assert set(np.unique(masked)) == {0.0, 1.0}
    assert abs((masked == 0).mean() - 0.25) < 0.01
    config = CorruptionNoise("masking", 0.25, seed=1, name="n").get_config()
    assert {key: config[key] for key in ("kind", "level", "seed")} == {
        "kind": "masking", "level": 0.25, "seed": 1}
    assert CorruptionNoise.from_config(config).get_config() == config


@pytest.mark.parametrize("kwargs,match", [
    ({"kind": "salt"}, r"Received: kind='salt'$"),
    ({"kind": "gaussian", "level": 0}, r"Received: level=0$"),
    ({"kind": "masking", "level": 1.0}, r"Received: level=1\.0$"),
    ({"kind": "masking", "level": 0.0}, r"Received: level=0\.0$"),
    ({"seed": -1}, r"Received: seed=-1$"),
])
def test_corruption_noise_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CorruptionNoise(**kwargs)


def test_gaussian_sampling_rejects_a_bad_seed():
    with pytest.raises(ValueError, match=r"Received: seed=1\.5$"):
        GaussianSampling(seed=1.5)


# --- builders -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["denoising_autoencoder", "conv_denoising_autoencoder"])
def test_denoising_noise_is_seeded_and_applies_only_in_training(name):
    model, twin = _toy(name, seed=5), _toy(name, seed=5)
    twin.set_weights(model.get_weights())
    assert isinstance(model.get_layer("noise"), CorruptionNoise)
    x = _toy_data(model)
    noisy = _numpy(model(x, training=True))
    np.testing.assert_array_equal(noisy, _numpy(twin(x, training=True)))  # same seed
    assert not np.allclose(noisy, _numpy(model(x, training=True)))  # a new draw every call
    np.testing.assert_array_equal(_numpy(model(x)), _numpy(model(x)))
    assert not np.allclose(noisy, _numpy(model(x)))


def test_sparse_autoencoder_penalises_the_code_l1():
    model = _toy("sparse_autoencoder", code_l1=0.01)
    x = _toy_data(model, n=4)
    model(x)
    code = _numpy(zoo.encoder(model)(x))
    (penalty,) = model.losses
    np.testing.assert_allclose(_numpy(penalty), 0.01 * np.abs(code).sum() / len(x), rtol=1e-5)
    assert not zoo.build("dense_autoencoder_toy").losses  # no penalty by default


@pytest.mark.parametrize("name", ["dense_autoencoder", "conv_autoencoder", "lstm_autoencoder",
                                  "vae", "conv_vae"])
@pytest.mark.parametrize("loss", ["mse", "mae", "bce"])
def test_every_reconstruction_loss_is_a_choice(name, loss):
    overrides = {"output_activation": "sigmoid"} if loss == "bce" else {}
    model = _toy(name, reconstruction_loss=loss, **overrides)
    assert model.zoo_config["reconstruction_loss"] == loss
    if isinstance(model, VariationalAutoencoder):  # trained in the VAE tests above
        assert model.reconstruction_loss == loss and model.loss is None
    else:
        assert type(model.loss) is type(zoo.losses.reconstruction_loss(loss))


@pytest.mark.parametrize("name,overrides,match", [
    ("conv_autoencoder", {"input_shape": (28, 28)}, r"Received: input_shape=\(28, 28\)$"),
    ("conv_autoencoder", {"input_shape": (28, 28, 1), "filters": (8, 8, 8)},
     r"divisible by 2\*\*len\(filters\) = 8 .*Received: input_shape=\(28, 28, 1\)$"),
    ("conv_vae", {"filters": ()}, r"Received: filters=\(\)$"),
    ("conv_vae", {"filters": (8, -1)}, r"Received: filters=\(8, -1\)$"),
    ("conv_autoencoder", {"input_shape": "28x28"}, r"Received: input_shape='28x28'$"),
    ("dense_autoencoder", {"noise": "salt"}, r"Received: noise='salt'$"),
    ("denoising_autoencoder", {"noise_level": -0.1}, r"Received: noise_level=-0\.1$"),
    ("denoising_autoencoder", {"noise": "masking", "noise_level": 1.5},
     r"Received: noise_level=1\.5$"),
    ("denoising_autoencoder", {"seed": -2}, r"Received: seed=-2$"),
    ("sparse_autoencoder", {"code_l1": -1e-3}, r"Received: code_l1=-0\.001$"),
    ("conv_autoencoder", {"code_l1": "lots"}, r"Received: code_l1='lots'$"),
    ("vae", {"beta": 0.0}, r"Received: beta=0\.0$"),
    ("conv_vae", {"beta": -1.0}, r"Received: beta=-1\.0$"),
    ("vae", {"seed": "x"}, r"Received: seed='x'$"),
    ("vae", {"reconstruction_loss": "huber"}, r"Received: reconstruction_loss='huber'$"),
    ("conv_vae", {"output_activation": None}, r"Received: output_activation=None$"),
    ("lstm_autoencoder", {"reconstruction_loss": "bce"}, r"Received: output_activation=None$"),
])
def test_builders_reject_bad_arguments(name, overrides, match):
    with pytest.raises(ValueError, match=match):
        zoo.build(name, **overrides)


def test_vae_loss_needs_the_forward_pass_kl():
    model = _toy("vae")
    x = _toy_data(model)
    with pytest.raises(ValueError, match=r"call the model before computing the loss\. "
                                         r"Received: model='vae'$"):
        model.compute_loss(x=x, y=x, y_pred=x)  # the model has never been called
    assert np.isfinite(_numpy(model.compute_loss(x=x, y=x, y_pred=model(x))))


def test_vae_model_checks_its_own_arguments():
    inputs = keras.Input((2,))
    with pytest.raises(ValueError, match=r"Received: beta=-1$"):
        VariationalAutoencoder(inputs, inputs, beta=-1)
    with pytest.raises(ValueError, match=r"Received: reconstruction_loss='l2'$"):
        VariationalAutoencoder(inputs, inputs, reconstruction_loss="l2")
    model = _toy("vae")
    model.compile("adam", "mse")
    # Raised while JAX traces the train step, which appends a note: no `$` here.
    with pytest.raises(ValueError, match=r"compile it without one\. Received: loss='mse'"):
        model.train_on_batch(_toy_data(model), _toy_data(model))


def test_variants_are_presets_of_two_builders():
    dense, conv = zoo.get_spec("dense_autoencoder"), zoo.get_spec("conv_autoencoder")
    for name in ("denoising_autoencoder", "sparse_autoencoder"):
        assert zoo.get_spec(name).builder is dense.builder
    assert zoo.get_spec("conv_denoising_autoencoder").builder is conv.builder
    assert zoo.get_spec("beta_vae").builder is zoo.get_spec("vae").builder
    assert zoo.get_spec("beta_vae").defaults["beta"] == 4.0
    for name in ("dense_autoencoder", "conv_autoencoder", "vae", "conv_vae", "lstm_autoencoder"):
        spec = zoo.get_spec(name)
        assert spec.family == "autoencoder" and spec.task == "reconstruction"


# --- decoder, sample, reconstruction_error ------------------------------------------------------


@pytest.mark.parametrize("name", ["dense_autoencoder", "conv_autoencoder", "lstm_autoencoder",
                                  "denoising_autoencoder", "vae", "conv_vae"])
def test_decoder_of_encoder_is_the_model(name):
    model = _toy(name)
    x = _toy_data(model)
    dec = zoo.decoder(model)
    assert dec.inputs[0].name == "code"
    code = zoo.encoder(model)(x)
    np.testing.assert_allclose(_numpy(dec(code)), _numpy(model(x)), atol=1e-5)
    # Weights are shared: the decoder holds the model's own variables.
    model_ids = {id(w) for w in model.weights}
    assert dec.weights and all(id(w) in model_ids for w in dec.weights)


def test_decoder_needs_a_single_code_autoencoder():
    seq = _toy("lstm_seq2seq")
    with pytest.raises(ValueError, match=r"Received: model='lstm_seq2seq'$"):
        zoo.decoder(seq)
    inputs = keras.Input((3,))
    plain = keras.Model(inputs, keras.layers.Dense(3)(inputs), name="plain")
    with pytest.raises(ValueError, match=r"Received: model='plain'$"):
        zoo.decoder(plain)
    with pytest.raises(TypeError, match=r"Received: model=42$"):
        zoo.decoder(42)


@pytest.mark.parametrize("name", ["vae", "conv_vae"])
def test_sample_has_the_data_shape_and_follows_its_seed(name):
    model = _toy(name)
    x = _toy_data(model)
    samples = zoo.sample(model, 7, seed=11)
    assert samples.shape == (7,) + x.shape[1:] and samples.dtype == np.float32
    assert np.isfinite(samples).all() and samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(samples, zoo.sample(model, 7, seed=11))
    assert not np.allclose(samples, zoo.sample(model, 7, seed=12))


def test_sample_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"Received: model='dense_autoencoder'$"):
        zoo.sample(zoo.build("dense_autoencoder_toy"), 3)
    vae = _toy("vae")
    with pytest.raises(ValueError, match=r"Received: n=0$"):
        zoo.sample(vae, 0)
    with pytest.raises(ValueError, match=r"Received: seed=-5$"):
        zoo.sample(vae, 2, seed=-5)


@pytest.mark.parametrize("name", ["dense_autoencoder", "conv_autoencoder", "lstm_autoencoder",
                                  "vae"])
def test_reconstruction_error_is_one_score_per_sample(name):
    model = _toy(name)
    x = _toy_data(model, n=9)
    error = zoo.reconstruction_error(model, x, batch_size=4)
    difference = _numpy(model(x)) - x
    assert error.shape == (9,) and error.dtype == np.float32
    np.testing.assert_allclose(error, (difference ** 2).reshape(9, -1).mean(1), rtol=1e-5)
    np.testing.assert_allclose(zoo.reconstruction_error(model, x, metric="mae"),
                               np.abs(difference).reshape(9, -1).mean(1), rtol=1e-5)


def test_reconstruction_error_rejects_bad_arguments():
    model = zoo.build("dense_autoencoder_toy")
    with pytest.raises(ValueError, match=r"Received: x with shape \(3, 5\)$"):
        zoo.reconstruction_error(model, np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"Received: x with shape \(4,\)$"):
        zoo.reconstruction_error(model, np.zeros(4))
    with pytest.raises(ValueError, match=r"Received: metric='rmse'$"):
        zoo.reconstruction_error(model, np.zeros((3, 4)), metric="rmse")
    with pytest.raises(ValueError, match=r"Received: batch_size=0$"):
        zoo.reconstruction_error(model, np.zeros((3, 4)), batch_size=0)
    with pytest.raises(ValueError, match=r"Received: model='lstm_seq2seq'$"):
        zoo.reconstruction_error(_toy("lstm_seq2seq"), np.zeros((3, 4)))
    with pytest.raises(TypeError, match=r"Received: model='model'$"):
        zoo.reconstruction_error("model", np.zeros((3, 4)))


# --- learning -----------------------------------------------------------------------------------


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


def _sine_windows(n, rng, timesteps=32):
    starts = rng.integers(0, 5000, n)
    t = starts[:, None] + np.arange(timesteps)[None, :]
    x = (np.sin(2 * np.pi * t / 16) + 0.5 * np.sin(2 * np.pi * t / 5.3)
         + 0.1 * rng.standard_normal((n, timesteps)))
    return x[..., None].astype("float32")


def _inject_anomalies(x, rng):
    """One anomaly per window: a spike, a level shift or a frozen sensor."""
    x = x.copy()
    for window, kind in zip(x, rng.integers(0, 3, len(x))):
        at = rng.integers(4, x.shape[1] - 10)
        if kind == 0:
            window[at:at + 2, 0] += rng.choice([-2.0, 2.0])
        elif kind == 1:
            window[at:at + 8, 0] += rng.choice([-0.8, 0.8])
        else:
            window[at:at + 10, 0] = window[at, 0]
    return x


@pytest.mark.slow
def test_lstm_autoencoder_separates_injected_anomalies():
    rng = np.random.default_rng(0)
    train = _sine_windows(512, rng)
    normal, anomalous = _sine_windows(200, rng), _inject_anomalies(_sine_windows(200, rng), rng)
    windows = np.concatenate([normal, anomalous])
    labels = np.r_[np.zeros(len(normal)), np.ones(len(anomalous))]
    model = zoo.build("lstm_autoencoder", timesteps=32, features=1, units=32, code_size=8,
                      learning_rate=5e-3)
    model.fit(train, train, batch_size=32, epochs=12, verbose=0)
    auc = roc_auc_score(labels, zoo.reconstruction_error(model, windows))
    energy_auc = roc_auc_score(labels, np.mean(windows ** 2, axis=(1, 2)))  # naive baseline
    print(f"\n[{keras.backend.backend()}] LSTM autoencoder anomaly ROC-AUC {auc:.4f} "
          f"(signal-energy baseline {energy_auc:.4f})")
    assert auc >= 0.95 and auc > energy_auc


@pytest.mark.slow
@pytest.mark.parametrize("name,overrides,shape", [
    ("vae", {"input_dim": 64, "hidden_units": (64,), "code_size": 2}, (64,)),
    ("conv_vae", {"input_shape": (8, 8, 1), "filters": (8, 16), "code_size": 2}, (8, 8, 1)),
])
def test_vae_saves_loads_and_keeps_training(name, overrides, shape, digits, tmp_path):
    train, test = (part.reshape((-1,) + shape) for part in digits)
    train = train[:512]
    model = zoo.build(name, learning_rate=3e-3, seed=0, **overrides)
    model.fit(train, train, batch_size=64, epochs=3, verbose=0)
    before = model.evaluate(test, test, verbose=0, return_dict=True)
    steps = int(_numpy(model.optimizer.iterations))
    path = tmp_path / f"{name}.keras"
    model.save(path)

    loaded = keras.saving.load_model(path)
    assert type(loaded) is VariationalAutoencoder and loaded.zoo_name == name
    assert loaded.beta == model.beta and loaded.get_layer("z").seed == 0
    np.testing.assert_allclose(_numpy(loaded(test)), _numpy(model(test)), atol=1e-6)
    reloaded = loaded.evaluate(test, test, verbose=0, return_dict=True)
    for key in ("loss", "reconstruction_loss", "kl_loss"):
        np.testing.assert_allclose(reloaded[key], before[key], rtol=1e-5)
    np.testing.assert_array_equal(zoo.sample(loaded, 3, seed=1), zoo.sample(model, 3, seed=1))

    history = loaded.fit(train, train, batch_size=64, epochs=4, verbose=0).history
    assert int(_numpy(loaded.optimizer.iterations)) == steps + 4 * len(train) // 64
    after = loaded.evaluate(test, test, verbose=0, return_dict=True)
    print(f"\n[{keras.backend.backend()}] {name}: held-out loss {before['loss']:.3f} -> "
          f"{after['loss']:.3f} after reload and 4 more epochs")
    assert np.isfinite(history["loss"]).all() and history["kl_loss"][-1] > 0
    assert after["loss"] < before["loss"]
