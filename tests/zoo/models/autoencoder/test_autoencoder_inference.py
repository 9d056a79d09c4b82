"""zoo/models/autoencoder/inference.py: decoder, sample, reconstruction_error."""

import keras
import numpy as np
import pytest

import zoo
from tests.harness import to_numpy
from zoo.models.autoencoder import VariationalAutoencoder

AUTOENCODERS = ["dense_autoencoder", "conv_autoencoder", "lstm_autoencoder", "vae", "conv_vae"]


def toy(name, **overrides):
    return zoo.build(name, size="toy", **overrides)


def toy_data(model, n=6, seed=0):
    return zoo.spec_of(model).example_data(zoo.model_params(model), n, seed)[0]


@pytest.mark.parametrize("name", AUTOENCODERS)
@pytest.mark.parametrize("loss", ["mse", "mae", "bce"])
def test_every_reconstruction_loss_is_a_choice(name, loss):
    overrides = {"output_activation": "sigmoid"} if loss == "bce" else {}
    model = toy(name, reconstruction_loss=loss, **overrides)
    assert model.zoo_config["reconstruction_loss"] == loss
    if zoo.spec_of(model).capabilities.variational:  # trained in the VAE tests
        assert model.reconstruction_loss == loss and model.loss is None
    else:
        assert type(model.loss) is type(zoo.losses.reconstruction_loss(loss))


@pytest.mark.parametrize("name", AUTOENCODERS + ["denoising_autoencoder"])
def test_decoder_of_encoder_is_the_model(name):
    model = toy(name)
    x = toy_data(model)
    dec = zoo.decoder(model)
    assert dec.inputs[0].name == "code"
    code = zoo.encoder(model)(x)
    np.testing.assert_allclose(to_numpy(dec(code)), to_numpy(model(x)), atol=1e-5)
    # Weights are shared: the decoder holds the model's own variables.
    model_ids = {id(w) for w in model.weights}
    assert dec.weights and all(id(w) in model_ids for w in dec.weights)


def test_decoder_needs_a_single_code_autoencoder():
    seq = toy("lstm_seq2seq")
    assert not zoo.spec_of(seq).capabilities.decodable
    with pytest.raises(ValueError, match=r"Received: model='lstm_seq2seq'$"):
        zoo.decoder(seq)
    inputs = keras.Input((3,))
    plain = keras.Model(inputs, keras.layers.Dense(3)(inputs), name="plain")
    with pytest.raises(ValueError, match=r"Received: model='plain'$"):
        zoo.decoder(plain)
    with pytest.raises(TypeError, match=r"Received: model=42$"):
        zoo.decoder(42)


def test_decoder_of_a_plain_keras_autoencoder_starts_at_its_code_layer():
    inputs = keras.Input((4,))
    code = keras.layers.Dense(2, name="code")(inputs)
    plain = keras.Model(inputs, keras.layers.Dense(4, name="out")(code), name="plain_ae")
    x = np.random.default_rng(0).uniform(size=(3, 4)).astype("float32")
    dec = zoo.decoder(plain)
    assert dec.input_shape == (None, 2)
    np.testing.assert_allclose(to_numpy(dec(zoo.encoder(plain)(x))), to_numpy(plain(x)),
                               atol=1e-6)


def test_loaded_vae_still_decodes_from_z(tmp_path):
    model = toy("vae", seed=0, compile=False)
    zoo.save(model, tmp_path / "vae.keras")
    loaded = zoo.load(tmp_path / "vae.keras")
    assert type(loaded) is VariationalAutoencoder
    np.testing.assert_allclose(zoo.sample(loaded, 3, seed=4), zoo.sample(model, 3, seed=4),
                               atol=1e-6)


@pytest.mark.parametrize("name", ["vae", "conv_vae"])
def test_sample_has_the_data_shape_and_follows_its_seed(name):
    model = toy(name)
    x = toy_data(model)
    samples = zoo.sample(model, 7, seed=11)
    assert samples.shape == (7,) + x.shape[1:] and samples.dtype == np.float32
    assert np.isfinite(samples).all() and samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(samples, zoo.sample(model, 7, seed=11))
    assert not np.allclose(samples, zoo.sample(model, 7, seed=12))


def test_sample_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"variational autoencoder \(registered: .*'conv_vae', "
                                         r"'vae'\)\. Received: model='dense_autoencoder'$"):
        zoo.sample(zoo.build("dense_autoencoder_toy"), 3)
    vae = toy("vae")
    with pytest.raises(ValueError, match=r"Received: n=0$"):
        zoo.sample(vae, 0)
    with pytest.raises(ValueError, match=r"Received: seed=-5$"):
        zoo.sample(vae, 2, seed=-5)


@pytest.mark.parametrize("name", ["dense_autoencoder", "conv_autoencoder", "lstm_autoencoder",
                                  "vae"])
def test_reconstruction_error_is_one_score_per_sample(name):
    model = toy(name)
    x = toy_data(model, n=9)
    error = zoo.reconstruction_error(model, x, batch_size=4)
    difference = to_numpy(model(x)) - x
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
        zoo.reconstruction_error(toy("lstm_seq2seq"), np.zeros((3, 4)))
    with pytest.raises(TypeError, match=r"Received: model='model'$"):
        zoo.reconstruction_error("model", np.zeros((3, 4)))


# --- interpolate -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", AUTOENCODERS + ["denoising_autoencoder"])
def test_interpolation_starts_and_ends_at_the_reconstructions(name):
    model = toy(name)
    x = toy_data(model, n=4)
    a, b = x[:2], x[2:]
    reconstructed = np.asarray(model.predict(x, verbose=0))  # a VAE decodes its mean
    path = zoo.interpolate(model, a, b, steps=5)
    assert path.shape == (2, 5, *reconstructed.shape[1:]) and path.dtype == np.float32
    np.testing.assert_allclose(path[:, 0], reconstructed[:2], atol=1e-5)
    np.testing.assert_allclose(path[:, -1], reconstructed[2:], atol=1e-5)
    # The middle of the straight line decodes the mean of the two codes.
    code = zoo.model.sub_model(model, model.get_layer("code").output, "probe")
    middle = (np.asarray(code.predict(a, verbose=0)) + np.asarray(code.predict(b, verbose=0))) / 2
    expected = np.asarray(zoo.decoder(model).predict(middle, verbose=0))
    np.testing.assert_allclose(zoo.interpolate(model, a, b, steps=3)[:, 1], expected, atol=1e-5)
    # One example each: one path; slerp has the same ends.
    single = zoo.interpolate(model, a[0], b[0], steps=4, method="slerp")
    assert single.shape == (4, *reconstructed.shape[1:])
    np.testing.assert_allclose(single[0], reconstructed[0], atol=1e-5)
    np.testing.assert_allclose(single[-1], reconstructed[2], atol=1e-5)


def test_slerp_keeps_to_the_arc():
    from zoo.models.autoencoder.inference import _slerp

    start, end = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    for t in (0.25, 0.5):
        point = _slerp(start, end, t)
        # Unit codes stay on the unit circle, at the angle's fraction t (a line would not).
        assert np.linalg.norm(point) == pytest.approx(1.0)
        assert np.degrees(np.arctan2(point[0, 1], point[0, 0])) == pytest.approx(90 * t)
    same = _slerp(start, 3 * start, 0.25)  # parallel codes: the straight line
    np.testing.assert_allclose(same, [[1.5, 0.0]])


def test_interpolate_refuses_bad_input():
    model = toy("dense_autoencoder")
    x = toy_data(model, n=2)
    for kwargs, match in [
        ({"steps": 1}, r"at least 2.*Received: steps=1"),
        ({"method": "cubic"}, r"Received: method='cubic'"),
        ({"b": np.zeros((3, x.shape[1]))}, r"same shape.*Received: a with shape"),
        ({"b": np.zeros((2, x.shape[1] + 1))}, r"`b` must be one example.*Received: b with"),
    ]:
        args = {"a": x, "b": x, **kwargs}
        with pytest.raises(ValueError, match=match):
            zoo.interpolate(model, args.pop("a"), args.pop("b"), **args)
    classifier = zoo.build("lstm_classifier", size="toy")
    with pytest.raises(ValueError, match=r"decoder\(\) needs an autoencoder"):
        zoo.interpolate(classifier, np.zeros(4), np.zeros(4))


# --- log_likelihood -------------------------------------------------------------------------

def _exact_log_likelihood(model, x, loss):
    """log p(x) by quadrature over a one-dimensional latent: a fine grid of z."""
    from zoo.models.autoencoder.inference import _log_density

    grid = np.linspace(-10.0, 10.0, 8001)
    step = grid[1] - grid[0]
    decoded = np.asarray(zoo.decoder(model).predict(grid[:, None].astype("float32"),
                                                    verbose=0), dtype="float64")
    log_prior = -0.5 * (grid ** 2 + np.log(2 * np.pi))
    exact = []
    for row in x.astype("float64"):
        log_joint = _log_density(loss, np.broadcast_to(row, decoded.shape), decoded) + log_prior
        top = log_joint.max()
        exact.append(top + np.log(np.sum(np.exp(log_joint - top)) * step))
    return np.array(exact)


@pytest.mark.parametrize("loss", ["bce", "mse", "mae"])
def test_log_likelihood_approaches_the_exact_value_from_below(loss):
    model = toy("vae", code_size=1, reconstruction_loss=loss,
                **({"output_activation": "linear"} if loss != "bce" else {}))
    # A fixed posterior q = N(0.3, 1.2^2), a little wider than the prior: the importance
    # weights stay bounded, so 5000 draws converge, and both densities matter.
    for name, bias in (("code", 0.3), ("z_log_var", 2 * np.log(1.2))):
        layer = model.get_layer(name)
        layer.kernel.assign(np.zeros(layer.kernel.shape, "float32"))
        layer.bias.assign(np.full(layer.bias.shape, bias, "float32"))
    rng = np.random.default_rng(0)
    x = (rng.random((6, model.inputs[0].shape[1])) > 0.5).astype("float32")
    exact = _exact_log_likelihood(model, x, loss)
    one = np.mean([zoo.log_likelihood(model, x, samples=1, seed=seed) for seed in range(20)],
                  axis=0)
    many = zoo.log_likelihood(model, x, samples=5000, seed=0)
    assert many.shape == (6,) and many.dtype == np.float64
    np.testing.assert_allclose(many, exact, atol=0.05)
    # K = 1 is the ELBO: on average below the bound with more samples.
    assert np.all(one < many + 1e-3) and one.mean() < many.mean()
    # The same seed gives the same estimate.
    np.testing.assert_array_equal(zoo.log_likelihood(model, x, samples=7, seed=3),
                                  zoo.log_likelihood(model, x, samples=7, seed=3))


def test_log_likelihood_refuses_bad_input():
    model = toy("vae")
    x = np.zeros((2, model.inputs[0].shape[1]), "float32")
    with pytest.raises(ValueError, match=r"needs data in \[0, 1\].*Received: x with values"):
        zoo.log_likelihood(model, x + 2.0)
    with pytest.raises(ValueError, match=r"Received: samples=0"):
        zoo.log_likelihood(model, x, samples=0)
    with pytest.raises(ValueError, match=r"`x` must be one example.*Received: x with shape"):
        zoo.log_likelihood(model, np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match=r"needs a variational autoencoder.*Received: model="):
        zoo.log_likelihood(toy("dense_autoencoder"), x)
