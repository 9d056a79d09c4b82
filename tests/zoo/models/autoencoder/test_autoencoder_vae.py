"""zoo/models/autoencoder/vae.py: the VAE loss, the model class, vae / beta_vae / conv_vae."""

import keras
import numpy as np
import pytest

import zoo
from tests.harness import run_builder_test, to_numpy
from zoo.models.autoencoder import VariationalAutoencoder, reconstruction_term

VAES = ["vae", "beta_vae", "conv_vae"]


def closed_form_kl(mean, log_var):
    # KL(N(mu, s^2) || N(0, 1)) = log(1 / s) + (s^2 + mu^2) / 2 - 1/2, summed over dimensions.
    std = np.exp(0.5 * log_var.astype("float64"))
    return np.sum(np.log(1.0 / std) + (std ** 2 + mean.astype("float64") ** 2) / 2 - 0.5, -1)


def toy_data(model, n=6, seed=0):
    return zoo.spec_of(model).example_data(zoo.model_params(model), n, seed)[0]


@pytest.mark.parametrize("name", VAES)
def test_builder(name, tmp_path):
    result = run_builder_test(name, tmp_path=tmp_path)
    assert type(result.loaded) is VariationalAutoencoder
    assert result.loaded.beta == result.params["beta"]


@pytest.mark.parametrize("name", ["vae", "conv_vae"])
def test_vae_reports_the_closed_form_kl_and_its_loss_terms(name):
    model = zoo.build(name, size="toy", beta=2.5)
    x = toy_data(model, n=8)
    rng = np.random.default_rng(2)  # move the posterior well away from N(0, I)
    for layer in (model.get_layer("code"), model.get_layer("z_log_var")):
        kernel, bias = layer.get_weights()
        layer.set_weights([kernel, rng.normal(0, 1.0, bias.shape).astype("float32")])
    posterior = keras.Model(model.inputs[0], [model.get_layer("code").output,
                                           model.get_layer("z_log_var").output])
    mean, log_var = (to_numpy(t) for t in posterior(x))
    logs = model.evaluate(x, x, batch_size=8, verbose=0, return_dict=True)
    expected_kl = closed_form_kl(mean, log_var).mean()
    assert expected_kl > 0.1
    np.testing.assert_allclose(logs["kl_loss"], expected_kl, rtol=0, atol=1e-5)
    # Reconstruction: per-sample sum of binary cross-entropy of the decoded mean.
    out = np.clip(to_numpy(model(x)).astype("float64"), 1e-7, 1 - 1e-7)
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
    np.testing.assert_allclose(to_numpy(reconstruction_term(loss, y, p)), per_sample.mean(),
                               rtol=1e-5)
    weights = np.array([1.0, 0.0, 2.0, 1.0])
    np.testing.assert_allclose(to_numpy(reconstruction_term(loss, y, p, weights)),
                               (per_sample * weights).sum() / weights.sum(), rtol=1e-5)


@pytest.mark.parametrize("loss", ["mse", "mae", "bce"])
def test_vae_trains_with_every_reconstruction_loss_and_without_targets(loss):
    model = zoo.build("vae", size="toy", reconstruction_loss=loss)
    x = toy_data(model, n=16)
    history = model.fit(x, batch_size=8, epochs=2, verbose=0)  # targets default to x
    assert set(history.history) == {"loss", "reconstruction_loss", "kl_loss"}
    assert np.isfinite(history.history["loss"]).all()
    assert model.reconstruction_loss == loss and model.get_config()["reconstruction_loss"] == loss


def test_vae_samples_in_training_and_decodes_the_mean_at_inference():
    model = zoo.build("vae", size="toy")
    x = toy_data(model)
    first, second = to_numpy(model(x, training=True)), to_numpy(model(x, training=True))
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(to_numpy(model(x)), to_numpy(model(x)))
    mean = zoo.encoder(model)(x)
    np.testing.assert_allclose(to_numpy(zoo.decoder(model)(mean)), to_numpy(model(x)), atol=1e-6)


def test_vae_loss_needs_the_forward_pass_kl():
    model = zoo.build("vae", size="toy")
    x = toy_data(model)
    with pytest.raises(ValueError, match=r"call the model before computing the loss\. "
                                         r"Received: model='vae'$"):
        model.compute_loss(x=x, y=x, y_pred=x)  # the model has never been called
    assert np.isfinite(to_numpy(model.compute_loss(x=x, y=x, y_pred=model(x))))


def test_vae_model_checks_its_own_arguments():
    inputs = keras.Input((2,))
    with pytest.raises(ValueError, match=r"Received: beta=-1$"):
        VariationalAutoencoder(inputs, inputs, beta=-1)
    with pytest.raises(ValueError, match=r"Received: reconstruction_loss='l2'$"):
        VariationalAutoencoder(inputs, inputs, reconstruction_loss="l2")
    model = zoo.build("vae", size="toy")
    model.compile("adam", "mse")
    # Raised while JAX traces the train step, which appends a note: no `$` here.
    with pytest.raises(ValueError, match=r"compile it without one\. Received: loss='mse'"):
        model.train_on_batch(toy_data(model), toy_data(model))


def test_beta_vae_is_a_preset_of_vae():
    assert zoo.get_spec("beta_vae").builder is zoo.get_spec("vae").builder
    assert zoo.get_spec("beta_vae").defaults["beta"] == 4.0
    assert zoo.get_spec("beta_vae").capabilities.variational


@pytest.mark.parametrize("name,overrides,match", [
    ("conv_vae", {"filters": ()}, r"Received: filters=\(\)$"),
    ("conv_vae", {"filters": (8, -1)}, r"Received: filters=\(8, -1\)$"),
    ("vae", {"beta": 0.0}, r"Received: beta=0\.0$"),
    ("conv_vae", {"beta": -1.0}, r"Received: beta=-1\.0$"),
    ("vae", {"seed": "x"}, r"Received: seed='x'$"),
    ("vae", {"reconstruction_loss": "huber"}, r"Received: reconstruction_loss='huber'$"),
    ("conv_vae", {"output_activation": None},
     r"'bce' needs outputs in \[0, 1\].*Received: output_activation=None$"),
])
def test_builders_reject_bad_arguments(name, overrides, match):
    with pytest.raises(ValueError, match=match):
        zoo.build(name, **overrides)


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
    steps = int(to_numpy(model.optimizer.iterations))
    path = tmp_path / f"{name}.keras"
    model.save(path)

    loaded = keras.saving.load_model(path)
    assert type(loaded) is VariationalAutoencoder and loaded.zoo_name == name
    assert loaded.beta == model.beta and loaded.get_layer("z").seed == 0
    np.testing.assert_allclose(to_numpy(loaded(test)), to_numpy(model(test)), atol=1e-6)
    reloaded = loaded.evaluate(test, test, verbose=0, return_dict=True)
    for key in ("loss", "reconstruction_loss", "kl_loss"):
        np.testing.assert_allclose(reloaded[key], before[key], rtol=1e-5)
    np.testing.assert_array_equal(zoo.sample(loaded, 3, seed=1), zoo.sample(model, 3, seed=1))

    history = loaded.fit(train, train, batch_size=64, epochs=4, verbose=0).history
    assert int(to_numpy(loaded.optimizer.iterations)) == steps + 4 * len(train) // 64
    after = loaded.evaluate(test, test, verbose=0, return_dict=True)
    print(f"\n[{keras.backend.backend()}] {name}: held-out loss {before['loss']:.3f} -> "
          f"{after['loss']:.3f} after reload and 4 more epochs")
    assert np.isfinite(history["loss"]).all() and history["kl_loss"][-1] > 0
    assert after["loss"] < before["loss"]
