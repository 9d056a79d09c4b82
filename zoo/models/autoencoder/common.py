"""What the autoencoder family's models share: compiling, checks, blocks, example data.

Every autoencoder routes its code through a layer named ``code``
(``zoo.model.CODE_LAYER_NAME``; for VAEs: the posterior mean), so
``zoo.encoder(model)`` gives inputs -> code and ``zoo.decoder(model)``
code -> reconstruction. The dense and convolutional blocks here are used
by both the plain autoencoders and the VAEs.
"""

import functools

import keras
import numpy as np
from keras import layers

from zoo import losses, search_spaces, validation
from zoo.layers import CorruptionNoise
from zoo.model import CODE_LAYER_NAME, ZooModel
from zoo.registry import register_model

NOISE_KINDS = (None, "gaussian", "masking")

CITATION_AE = ("Hinton & Salakhutdinov, Reducing the Dimensionality of Data with Neural "
               "Networks, Science 2006; F. Chollet, Building Autoencoders in Keras, 2016")
CITATION_VARIANTS = ("denoising: Vincent, Larochelle, Bengio & Manzagol, Extracting and "
                     "Composing Robust Features with Denoising Autoencoders, ICML 2008; "
                     "sparse: A. Ng, Sparse autoencoder, CS294A lecture notes, 2011")

VECTORS = {"features": "float32 [batch, input_dim]"}
# Inputs and outputs of the image autoencoders (registration keywords).
IMAGE_IO = {"inputs": {"images": "float32 [batch, height, width, channels]"},
            "outputs": {"reconstruction": "float32 [batch, height, width, channels]"}}


# --- compiling and registering ----------------------------------------------------------------

def compile_autoencoder(model, reconstruction_loss="mse", learning_rate=1e-3,
                        jit_compile="auto"):
    """Compile an autoencoder with the reconstruction loss it was built for."""
    losses.compile_model(model, loss=losses.reconstruction_loss(reconstruction_loss),
                         learning_rate=learning_rate, jit_compile=jit_compile)


# Every model of the family reconstructs its input.
register_autoencoder = functools.partial(register_model, family="autoencoder",
                                         task="reconstruction")


# --- checks -----------------------------------------------------------------------------------

def check_output(output_activation, reconstruction_loss):
    """The output activation and a reconstruction loss that fits it."""
    output_activation = validation.activation("output_activation", output_activation)
    validation.choice("reconstruction_loss", reconstruction_loss, losses.RECONSTRUCTION_LOSSES)
    return validation.sigmoid_for_bce("reconstruction_loss", reconstruction_loss,
                                      "output_activation", output_activation)


# --- blocks -----------------------------------------------------------------------------------

def dense_encoder(x, hidden_units, activation):
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation=activation, name=f"encoder_dense_{i}")(x)
    return x


def dense_decoder(code, hidden_units, activation, input_dim, output_activation):
    x = code
    for i, units in enumerate(reversed(hidden_units)):
        x = layers.Dense(units, activation=activation, name=f"decoder_dense_{i}")(x)
    return layers.Dense(input_dim, activation=output_activation, name="reconstruction")(x)


def conv_encoder(x, filters, kernel_size, activation):
    for i, width in enumerate(filters):
        x = layers.Conv2D(width, kernel_size, strides=2, padding="same", activation=activation,
                          name=f"encoder_conv_{i}")(x)
    return layers.Flatten(name="encoder_flatten")(x)


def conv_decoder(code, input_shape, filters, kernel_size, activation, output_activation):
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


def dense_blocks(input_dim, hidden_units, activation):
    """Checked ``(inputs, encode, decode)`` of a dense encoder and its mirrored decoder."""
    input_dim = validation.positive_int("input_dim", input_dim)
    hidden_units = validation.positive_int_tuple("hidden_units", hidden_units)
    activation = validation.activation("activation", activation)
    return (keras.Input((input_dim,), name="features"),
            lambda x: dense_encoder(x, hidden_units, activation),
            lambda code, output: dense_decoder(code, hidden_units, activation, input_dim,
                                               output))


def conv_blocks(input_shape, filters, kernel_size, activation):
    """Checked ``(inputs, encode, decode)`` of a stride-2 conv encoder and its mirror."""
    input_shape = validation.image_shape("input_shape", input_shape)
    filters = validation.non_empty("filters", validation.positive_int_tuple("filters", filters),
                                   "at least one width")
    kernel_size = validation.positive_int("kernel_size", kernel_size)
    validation.halvable_image("input_shape", input_shape, "filters", filters)
    activation = validation.activation("activation", activation)
    return (keras.Input(input_shape, name="images"),
            lambda x: conv_encoder(x, filters, kernel_size, activation),
            lambda code, output: conv_decoder(code, input_shape, filters, kernel_size,
                                              activation, output))


def autoencoder(inputs, encode, decode, *, code_size, code_activation, output_activation,
                code_l1, noise, noise_level, seed, reconstruction_loss, name):
    """Check the code and noise arguments, then wire input -> noise -> code -> output.

    ``encode(x)`` maps the (corrupted) input to features, ``decode(code,
    output_activation)`` the code to the reconstruction. The code layer is
    named ``code``; ``code_l1 > 0`` adds an L1 activity penalty on it (a
    sparse autoencoder), ``noise`` a ``CorruptionNoise`` layer named
    ``noise`` that acts in training only (a denoising autoencoder).
    """
    code_size = validation.positive_int("code_size", code_size)
    code_activation = validation.activation("code_activation", code_activation)
    output_activation = check_output(output_activation, reconstruction_loss)
    code_l1 = validation.non_negative_float("code_l1", code_l1)
    noise_level = validation.positive_float("noise_level", noise_level)
    validation.choice("noise", noise, NOISE_KINDS)
    seed = validation.seed("seed", seed)
    x = inputs
    if noise is not None:
        noise_level = validation.noise("noise", noise, "noise_level", noise_level)
        x = CorruptionNoise(noise, noise_level, seed=seed, name="noise")(x)
    # The encoder's layers are made before the code layer: layers draw their
    # initial weights' seeds in the order they are made.
    features = encode(x)
    regularizer = keras.regularizers.L1(code_l1) if code_l1 else None
    code = layers.Dense(code_size, activation=code_activation, activity_regularizer=regularizer,
                        name=CODE_LAYER_NAME)(features)
    return ZooModel(inputs, decode(code, output_activation), name=name)


# --- example data and search spaces -----------------------------------------------------------

def _uniform_data(shape_of):
    def example_data(params, n, seed):
        rng = np.random.default_rng(seed)
        x = rng.uniform(0.0, 1.0, size=(n, *shape_of(params))).astype("float32")
        return x, x
    return example_data


dense_example_data = _uniform_data(lambda params: (params["input_dim"],))
image_example_data = _uniform_data(lambda params: tuple(params["input_shape"]))


def code_size_space(hp):
    """The searched code width."""
    return search_spaces.width(hp, "code_size", 2, 64)
