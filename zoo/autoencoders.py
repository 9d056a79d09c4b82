"""Autoencoder family: dense, convolutional, denoising, sparse, variational, sequence.

Every model here maps its input to a reconstruction of the same shape and
routes its code through a layer named ``code`` (for VAEs: the posterior
mean), so ``zoo.encoder(model)`` gives inputs -> code and
``decoder(model)`` gives code -> reconstruction. Denoising and sparse
autoencoders are the dense and convolutional builders with ``noise`` or
``code_l1`` set (presets, not copied code). VAEs are
``VariationalAutoencoder`` models: their ``compute_loss`` adds
``beta * KL`` to the reconstruction term and reports both as metrics,
with ``keras.ops`` only, so they train the same way on every backend.
"""

import numbers

import keras
import numpy as np
from keras import layers

from zoo import losses, validation
from zoo.layers.noise import CorruptionNoise
from zoo.layers.sampling import GaussianSampling
from zoo.model import CODE_LAYER_NAME, ZooModel
from zoo.registry import Capabilities, register_model
from zoo.variational import SAMPLING_LAYER_NAME, VariationalAutoencoder

NOISE_KINDS = (None, "gaussian", "masking")
_CITATION_VAE = ("Kingma & Welling, Auto-Encoding Variational Bayes, ICLR 2014; Higgins et "
                 "al., beta-VAE: Learning Basic Visual Concepts with a Constrained "
                 "Variational Framework, ICLR 2017")
_CITATION_AE = ("Hinton & Salakhutdinov, Reducing the Dimensionality of Data with Neural "
                "Networks, Science 2006; F. Chollet, Building Autoencoders in Keras, 2016")
_CITATION_VARIANTS = ("denoising: Vincent, Larochelle, Bengio & Manzagol, Extracting and "
                      "Composing Robust Features with Denoising Autoencoders, ICML 2008; "
                      "sparse: A. Ng, Sparse autoencoder, CS294A lecture notes, 2011")


# --- compiling --------------------------------------------------------------------------------

def compile_autoencoder(model, reconstruction_loss="mse", learning_rate=1e-3,
                        jit_compile="auto"):
    losses.compile_model(model, loss=losses.reconstruction_loss(reconstruction_loss),
                         learning_rate=learning_rate, jit_compile=jit_compile)


def compile_vae(model, learning_rate=1e-3, jit_compile="auto"):
    # The loss lives in VariationalAutoencoder.compute_loss.
    losses.compile_model(model, loss=None, learning_rate=learning_rate,
                         jit_compile=jit_compile)


# --- shared checks and blocks -----------------------------------------------------------------

def _non_negative_float(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
    return float(value)


def _check_output(output_activation, reconstruction_loss):
    validation.choice("reconstruction_loss", reconstruction_loss, losses.RECONSTRUCTION_LOSSES)
    if reconstruction_loss == "bce" and output_activation != "sigmoid":
        raise ValueError(
            "reconstruction_loss='bce' needs outputs in [0, 1]: use "
            f"output_activation='sigmoid'. Received: output_activation={output_activation!r}"
        )


def _check_noise(noise, noise_level, seed):
    noise_level = validation.positive_float("noise_level", noise_level)
    validation.choice("noise", noise, NOISE_KINDS)
    if noise is not None:
        noise_level = validation.noise("noise", noise, "noise_level", noise_level)
    return noise_level, validation.seed("seed", seed)


def _check_image(input_shape, filters, kernel_size):
    input_shape = validation.positive_int_tuple("input_shape", input_shape)
    filters = validation.positive_int_tuple("filters", filters)
    kernel_size = validation.positive_int("kernel_size", kernel_size)
    if len(input_shape) != 3:
        raise ValueError("`input_shape` must be (height, width, channels). "
                         f"Received: input_shape={input_shape}")
    if not filters:
        raise ValueError(f"`filters` must list at least one width. Received: filters={filters}")
    scale = 2 ** len(filters)
    if input_shape[0] % scale or input_shape[1] % scale:
        raise ValueError(
            f"Height and width must be divisible by 2**len(filters) = {scale} (each "
            f"convolution halves them). Received: input_shape={input_shape}")
    return input_shape, filters, kernel_size


def _corrupt(x, noise, noise_level, seed):
    if noise is None:
        return x
    return CorruptionNoise(noise, noise_level, seed=seed, name="noise")(x)


def _dense_encoder(x, hidden_units, activation):
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation=activation, name=f"encoder_dense_{i}")(x)
    return x


def _dense_decoder(code, hidden_units, activation, input_dim, output_activation):
    x = code
    for i, units in enumerate(reversed(hidden_units)):
        x = layers.Dense(units, activation=activation, name=f"decoder_dense_{i}")(x)
    return layers.Dense(input_dim, activation=output_activation, name="reconstruction")(x)


def _conv_encoder(x, filters, kernel_size, activation):
    for i, width in enumerate(filters):
        x = layers.Conv2D(width, kernel_size, strides=2, padding="same", activation=activation,
                          name=f"encoder_conv_{i}")(x)
    return layers.Flatten(name="encoder_flatten")(x)


def _conv_decoder(code, input_shape, filters, kernel_size, activation, output_activation):
    height, width, channels = input_shape
    scale = 2 ** len(filters)
    grid = (height // scale, width // scale, filters[-1])
    x = layers.Dense(int(np.prod(grid)), activation=activation, name="decoder_dense")(code)
    x = layers.Reshape(grid, name="decoder_reshape")(x)
    for i, units in enumerate(reversed(filters)):
        x = layers.Conv2DTranspose(units, kernel_size, strides=2, padding="same",
                                   activation=activation, name=f"decoder_conv_{i}")(x)
    return layers.Conv2D(channels, kernel_size, padding="same", activation=output_activation,
                         name="reconstruction")(x)


def _code(x, code_size, code_activation, code_l1):
    regularizer = keras.regularizers.L1(code_l1) if code_l1 else None
    return layers.Dense(code_size, activation=code_activation, activity_regularizer=regularizer,
                        name=CODE_LAYER_NAME)(x)


def _posterior_sample(x, code_size, seed):
    z_mean = layers.Dense(code_size, name=CODE_LAYER_NAME)(x)
    z_log_var = layers.Dense(code_size, name="z_log_var")(x)
    return GaussianSampling(seed=seed, name=SAMPLING_LAYER_NAME)([z_mean, z_log_var])


# --- example data and search spaces -----------------------------------------------------------

def _uniform_data(shape_of):
    def example_data(params, n, seed):
        rng = np.random.default_rng(seed)
        x = rng.uniform(0.0, 1.0, size=(n, *shape_of(params))).astype("float32")
        return x, x
    return example_data


_dense_example_data = _uniform_data(lambda params: (params["input_dim"],))
_image_example_data = _uniform_data(lambda params: tuple(params["input_shape"]))


def _series_example_data(params, n, seed):
    """Noisy sine waves with random frequency and phase, one per feature."""
    rng = np.random.default_rng(seed)
    steps = np.arange(params["timesteps"])[None, :, None]
    shape = (n, 1, params["features"])
    x = np.sin(rng.uniform(0.2, 0.8, shape) * steps + rng.uniform(0, 2 * np.pi, shape))
    x = x + 0.05 * rng.standard_normal(x.shape)
    return x.astype("float32"), x.astype("float32")


def _learning_rate(hp):
    return hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")


def _dense_search_space(hp):
    depth = hp.Int("depth", 0, 3)
    return {
        "hidden_units": tuple(
            hp.Int(f"units_{i}", 16, 512, sampling="log") for i in range(depth)
        ),
        "code_size": hp.Int("code_size", 2, 64, sampling="log"),
        "activation": hp.Choice("activation", ["relu", "gelu", "tanh"]),
        "learning_rate": _learning_rate(hp),
    }


def _conv_search_space(hp):
    depth = hp.Int("depth", 1, 2)
    return {
        "filters": tuple(hp.Int(f"filters_{i}", 8, 128, sampling="log") for i in range(depth)),
        "code_size": hp.Int("code_size", 2, 64, sampling="log"),
        "learning_rate": _learning_rate(hp),
    }


def _vae_search_space(hp):
    return {
        "code_size": hp.Int("code_size", 2, 64, sampling="log"),
        "beta": hp.Float("beta", 0.25, 8.0, sampling="log"),
        "learning_rate": _learning_rate(hp),
    }


def _lstm_search_space(hp):
    return {
        "units": hp.Int("units", 16, 256, sampling="log"),
        "num_layers": hp.Int("num_layers", 1, 2),
        "code_size": hp.Int("code_size", 2, 64, sampling="log"),
        "learning_rate": _learning_rate(hp),
    }


# --- builders ---------------------------------------------------------------------------------

@register_model(
    "dense_autoencoder",
    family="autoencoder",
    task="reconstruction",
    inputs={"features": "float32 [batch, input_dim]"},
    outputs={"reconstruction": "float32 [batch, input_dim]"},
    description=(
        "Fully connected autoencoder: input -> hidden widths -> code -> the "
        "widths mirrored -> reconstruction. zoo.encoder(model) gives the code, "
        "zoo.decoder(model) the way back. code_l1 makes it sparse, noise denoising."
    ),
    citation=f"{_CITATION_AE}; {_CITATION_VARIANTS}.",
    compiler=compile_autoencoder,
    search_space=_dense_search_space,
    capabilities=Capabilities(input_kinds=("vectors",), decodable=True),
    sizes={"toy": {"input_dim": 6, "hidden_units": (5,), "code_size": 3}},
    example_data=_dense_example_data,
    presets={
        "dense_autoencoder_toy": {
            "description": "The 4 -> 2 -> 4 toy autoencoder: ReLU code, sigmoid output, MSE.",
            "input_dim": 4, "hidden_units": (), "code_size": 2,
            "code_activation": "relu", "output_activation": "sigmoid",
            "reconstruction_loss": "mse", "learning_rate": 0.01,
        },
        "dense_autoencoder_mnist": {
            "description": "The 784 -> 128 -> code -> 128 -> 784 MNIST autoencoder "
                           "(sigmoid output, binary cross-entropy).",
            "input_dim": 784, "hidden_units": (128,), "code_size": 32,
            "output_activation": "sigmoid", "reconstruction_loss": "bce",
        },
        "denoising_autoencoder": {
            "description": "Dense denoising autoencoder: Gaussian noise (std 0.2, or "
                           "noise='masking') corrupts the input in training only; fit it on "
                           "clean (x, x). For a convolutional base see "
                           "conv_denoising_autoencoder.",
            "noise": "gaussian", "noise_level": 0.2,
            "capabilities": {"denoising": True},
        },
        "sparse_autoencoder": {
            "description": "Dense sparse autoencoder: a wider ReLU code with an L1 activity "
                           "penalty (code_l1), so few code units are active per sample.",
            "hidden_units": (256,), "code_size": 64, "code_l1": 1e-4,
        },
    },
)
def dense_autoencoder(input_dim=784, hidden_units=(128,), code_size=32, activation="relu",
                      code_activation="relu", output_activation="sigmoid", code_l1=0.0,
                      noise=None, noise_level=0.1, seed=None, reconstruction_loss="mse"):
    """Dense autoencoder (also sparse and denoising).

    Args:
        input_dim: features per sample.
        hidden_units: widths of the encoder's hidden layers (the decoder
            mirrors them); ``()`` for none.
        code_size: width of the code.
        activation: hidden-layer activation.
        code_activation: activation of the code layer (``None`` = linear).
        output_activation: activation of the reconstruction (``sigmoid``
            for data in [0, 1], ``None`` for unbounded data).
        code_l1: L1 activity penalty on the code (> 0: a sparse
            autoencoder); Keras divides it by the batch size.
        noise: ``None``, ``"gaussian"`` or ``"masking"``: corrupt the input
            in training only (a denoising autoencoder; fit it on clean
            ``(x, x)``).
        noise_level: Gaussian standard deviation, or the fraction of values
            masked (< 1).
        seed: seed of the noise layer's generator (``None``: from Keras'
            global seed).
        reconstruction_loss: ``mse``, ``mae`` or ``bce``.

    >>> import zoo
    >>> model = zoo.build("dense_autoencoder", input_dim=64, code_size=8)
    >>> noisy = zoo.build("denoising_autoencoder", input_dim=64, noise="masking")
    """
    input_dim = validation.positive_int("input_dim", input_dim)
    hidden_units = validation.positive_int_tuple("hidden_units", hidden_units)
    code_size = validation.positive_int("code_size", code_size)
    activation = validation.activation("activation", activation)
    code_activation = validation.activation("code_activation", code_activation)
    output_activation = validation.activation("output_activation", output_activation)
    code_l1 = _non_negative_float("code_l1", code_l1)
    noise_level, seed = _check_noise(noise, noise_level, seed)
    _check_output(output_activation, reconstruction_loss)

    features = keras.Input((input_dim,), name="features")
    x = _corrupt(features, noise, noise_level, seed)
    code = _code(_dense_encoder(x, hidden_units, activation), code_size, code_activation,
                 code_l1)
    reconstruction = _dense_decoder(code, hidden_units, activation, input_dim,
                                    output_activation)
    return ZooModel(features, reconstruction, name="dense_autoencoder")


@register_model(
    "conv_autoencoder",
    family="autoencoder",
    task="reconstruction",
    inputs={"images": "float32 [batch, height, width, channels]"},
    outputs={"reconstruction": "float32 [batch, height, width, channels]"},
    description=(
        "Convolutional autoencoder: stride-2 Conv2D layers down to a dense code, "
        "Conv2DTranspose layers back up. code_l1 makes it sparse, noise denoising."
    ),
    citation="Masci, Meier, Ciresan & Schmidhuber, Stacked Convolutional Auto-Encoders for "
             f"Hierarchical Feature Extraction, ICANN 2011; {_CITATION_AE}; "
             f"{_CITATION_VARIANTS}.",
    compiler=compile_autoencoder,
    search_space=_conv_search_space,
    capabilities=Capabilities(input_kinds=("images",), decodable=True),
    sizes={"toy": {"input_shape": (8, 8, 1), "filters": (2, 3), "code_size": 2}},
    example_data=_image_example_data,
    presets={
        "conv_denoising_autoencoder": {
            "description": "Convolutional denoising autoencoder: masking noise hides 30% of "
                           "the pixels in training only; fit it on clean (x, x).",
            "noise": "masking", "noise_level": 0.3,
            "capabilities": {"denoising": True},
        },
    },
)
def conv_autoencoder(input_shape=(28, 28, 1), filters=(32, 64), kernel_size=3, code_size=32,
                     activation="relu", code_activation=None, output_activation="sigmoid",
                     code_l1=0.0, noise=None, noise_level=0.1, seed=None,
                     reconstruction_loss="mse"):
    """Convolutional autoencoder: Conv2D down, a dense code, Conv2DTranspose up.

    Args:
        input_shape: ``(height, width, channels)``; height and width must be
            divisible by ``2 ** len(filters)``.
        filters: widths of the stride-2 convolutions (the decoder mirrors them).
        kernel_size: square kernel of every convolution.
        code_size: width of the dense code.
        activation: activation of the convolutions.
        code_activation: activation of the code layer (``None`` = linear).
        output_activation: activation of the reconstruction.
        code_l1: L1 activity penalty on the code (> 0: sparse).
        noise: ``None``, ``"gaussian"`` or ``"masking"`` input corruption in
            training only (denoising).
        noise_level: Gaussian standard deviation, or masked fraction (< 1).
        seed: seed of the noise layer's generator.
        reconstruction_loss: ``mse``, ``mae`` or ``bce``.

    >>> import zoo
    >>> model = zoo.build("conv_autoencoder", input_shape=(8, 8, 1), filters=(16, 32))
    """
    input_shape, filters, kernel_size = _check_image(input_shape, filters, kernel_size)
    code_size = validation.positive_int("code_size", code_size)
    activation = validation.activation("activation", activation)
    code_activation = validation.activation("code_activation", code_activation)
    output_activation = validation.activation("output_activation", output_activation)
    code_l1 = _non_negative_float("code_l1", code_l1)
    noise_level, seed = _check_noise(noise, noise_level, seed)
    _check_output(output_activation, reconstruction_loss)

    images = keras.Input(input_shape, name="images")
    x = _corrupt(images, noise, noise_level, seed)
    code = _code(_conv_encoder(x, filters, kernel_size, activation), code_size,
                 code_activation, code_l1)
    reconstruction = _conv_decoder(code, input_shape, filters, kernel_size, activation,
                                   output_activation)
    return ZooModel(images, reconstruction, name="conv_autoencoder")


@register_model(
    "vae",
    family="autoencoder",
    task="reconstruction",
    inputs={"features": "float32 [batch, input_dim]"},
    outputs={"reconstruction": "float32 [batch, input_dim] (decoded posterior mean at "
                               "inference, a posterior sample in training)"},
    description=(
        "Dense variational autoencoder: a Gaussian encoder (code = mean, z_log_var), "
        "reparameterised sampling, a dense decoder; loss = reconstruction + beta * KL. "
        "zoo.sample(model, n, seed) draws new data."
    ),
    citation=_CITATION_VAE + ".",
    compiler=compile_vae,
    search_space=_vae_search_space,
    capabilities=Capabilities(input_kinds=("vectors",), variational=True, decodable=True),
    sizes={"toy": {"input_dim": 6, "hidden_units": (5,), "code_size": 2}},
    example_data=_dense_example_data,
    presets={
        "beta_vae": {
            "description": "Dense beta-VAE (beta = 4): a stronger KL weight for a smoother, "
                           "more disentangled latent space.",
            "beta": 4.0,
        },
    },
)
def vae(input_dim=784, hidden_units=(256,), code_size=16, activation="relu",
        output_activation="sigmoid", beta=1.0, seed=None, reconstruction_loss="bce"):
    """Dense variational autoencoder.

    Args:
        input_dim: features per sample.
        hidden_units: widths of the encoder's hidden layers (mirrored by the
            decoder).
        code_size: latent dimensions; the layer ``code`` is the posterior
            mean, ``z_log_var`` its log-variance.
        activation: hidden-layer activation.
        output_activation: activation of the reconstruction.
        beta: weight of the KL term (> 1: beta-VAE).
        seed: seed of the sampling layer's generator.
        reconstruction_loss: ``mse``, ``mae`` or ``bce``, summed per sample.

    >>> import zoo
    >>> model = zoo.build("vae", input_dim=64, code_size=2)
    >>> images = zoo.sample(model, n=4, seed=0)
    """
    input_dim = validation.positive_int("input_dim", input_dim)
    hidden_units = validation.positive_int_tuple("hidden_units", hidden_units)
    code_size = validation.positive_int("code_size", code_size)
    activation = validation.activation("activation", activation)
    output_activation = validation.activation("output_activation", output_activation)
    beta = validation.positive_float("beta", beta)
    seed = validation.seed("seed", seed)
    _check_output(output_activation, reconstruction_loss)

    features = keras.Input((input_dim,), name="features")
    z = _posterior_sample(_dense_encoder(features, hidden_units, activation), code_size, seed)
    reconstruction = _dense_decoder(z, hidden_units, activation, input_dim, output_activation)
    return VariationalAutoencoder(features, reconstruction, beta=beta,
                                  reconstruction_loss=reconstruction_loss, name="vae")


@register_model(
    "conv_vae",
    family="autoencoder",
    task="reconstruction",
    inputs={"images": "float32 [batch, height, width, channels]"},
    outputs={"reconstruction": "float32 [batch, height, width, channels]"},
    description=(
        "Convolutional variational autoencoder: stride-2 Conv2D encoder to a Gaussian "
        "posterior, reparameterised sampling, Conv2DTranspose decoder; loss = "
        "reconstruction + beta * KL."
    ),
    citation=_CITATION_VAE + ".",
    compiler=compile_vae,
    search_space=_vae_search_space,
    capabilities=Capabilities(input_kinds=("images",), variational=True, decodable=True),
    sizes={"toy": {"input_shape": (4, 4, 2), "filters": (3,), "code_size": 2}},
    example_data=_image_example_data,
)
def conv_vae(input_shape=(28, 28, 1), filters=(32, 64), kernel_size=3, code_size=16,
             activation="relu", output_activation="sigmoid", beta=1.0, seed=None,
             reconstruction_loss="bce"):
    """Convolutional variational autoencoder.

    Args:
        input_shape: ``(height, width, channels)``, divisible by
            ``2 ** len(filters)``.
        filters: widths of the stride-2 convolutions (mirrored by
            Conv2DTranspose layers).
        kernel_size: square kernel of every convolution.
        code_size: latent dimensions (``code`` = posterior mean).
        activation: activation of the convolutions.
        output_activation: activation of the reconstruction.
        beta: weight of the KL term.
        seed: seed of the sampling layer's generator.
        reconstruction_loss: ``mse``, ``mae`` or ``bce``, summed per sample.

    >>> import zoo
    >>> model = zoo.build("conv_vae", input_shape=(8, 8, 1), filters=(16,), code_size=4)
    """
    input_shape, filters, kernel_size = _check_image(input_shape, filters, kernel_size)
    code_size = validation.positive_int("code_size", code_size)
    activation = validation.activation("activation", activation)
    output_activation = validation.activation("output_activation", output_activation)
    beta = validation.positive_float("beta", beta)
    seed = validation.seed("seed", seed)
    _check_output(output_activation, reconstruction_loss)

    images = keras.Input(input_shape, name="images")
    z = _posterior_sample(_conv_encoder(images, filters, kernel_size, activation), code_size,
                          seed)
    reconstruction = _conv_decoder(z, input_shape, filters, kernel_size, activation,
                                   output_activation)
    return VariationalAutoencoder(images, reconstruction, beta=beta,
                                  reconstruction_loss=reconstruction_loss, name="conv_vae")


@register_model(
    "lstm_autoencoder",
    family="autoencoder",
    task="reconstruction",
    inputs={"series": "float32 [batch, timesteps, features]"},
    outputs={"reconstruction": "float32 [batch, timesteps, features]"},
    description=(
        "LSTM sequence autoencoder for time series: the encoder's final output is the "
        "code, repeated over the window and decoded by LSTMs. Its reconstruction "
        "error (zoo.reconstruction_error) is an anomaly score."
    ),
    citation="Srivastava, Mansimov & Salakhutdinov, Unsupervised Learning of Video "
             "Representations using LSTMs, ICML 2015; Malhotra et al., LSTM-based "
             "Encoder-Decoder for Multi-sensor Anomaly Detection, ICML workshop 2016.",
    compiler=compile_autoencoder,
    search_space=_lstm_search_space,
    capabilities=Capabilities(input_kinds=("series",), decodable=True),
    sizes={"toy": {"timesteps": 5, "features": 2, "units": 4, "num_layers": 2, "code_size": 3}},
    example_data=_series_example_data,
)
def lstm_autoencoder(timesteps=32, features=1, units=64, num_layers=1, code_size=16,
                     code_activation=None, output_activation=None, reconstruction_loss="mse"):
    """Sequence autoencoder for time series.

    The encoder LSTMs read the window; the last one's final output becomes
    the code, which is repeated ``timesteps`` times and decoded by LSTMs
    into one output per step.

    Args:
        timesteps: window length (fixed: the code is repeated this often).
        features: values per time step.
        units: width of every LSTM.
        num_layers: stacked LSTMs in the encoder and in the decoder.
        code_size: width of the code.
        code_activation: activation of the code layer (``None`` = linear).
        output_activation: activation of the reconstruction (``None`` for
            standardised series).
        reconstruction_loss: ``mse``, ``mae`` or ``bce``.

    >>> import zoo
    >>> model = zoo.build("lstm_autoencoder", timesteps=24, features=3)
    >>> scores = zoo.reconstruction_error(model, np.zeros((2, 24, 3), "float32"))
    """
    timesteps = validation.positive_int("timesteps", timesteps)
    features = validation.positive_int("features", features)
    units = validation.positive_int("units", units)
    num_layers = validation.positive_int("num_layers", num_layers)
    code_size = validation.positive_int("code_size", code_size)
    code_activation = validation.activation("code_activation", code_activation)
    output_activation = validation.activation("output_activation", output_activation)
    _check_output(output_activation, reconstruction_loss)

    series = keras.Input((timesteps, features), name="series")
    x = series
    for i in range(num_layers):
        x = layers.LSTM(units, return_sequences=i < num_layers - 1, name=f"encoder_lstm_{i}")(x)
    code = layers.Dense(code_size, activation=code_activation, name=CODE_LAYER_NAME)(x)
    x = layers.RepeatVector(timesteps, name="repeat_code")(code)
    for i in range(num_layers):
        x = layers.LSTM(units, return_sequences=True, name=f"decoder_lstm_{i}")(x)
    reconstruction = layers.Dense(features, activation=output_activation,
                                  name="reconstruction")(x)
    return ZooModel(series, reconstruction, name="lstm_autoencoder")
