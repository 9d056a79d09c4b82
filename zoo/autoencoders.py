"""Autoencoder family."""

import keras
import numpy as np
from keras import layers

from zoo import validation
from zoo import losses
from zoo.model import CODE_LAYER_NAME, ZooModel
from zoo.registry import register_model


def compile_autoencoder(model, reconstruction_loss="mse", learning_rate=1e-3,
                        jit_compile="auto"):
    losses.compile_model(model, loss=losses.reconstruction_loss(reconstruction_loss),
                         learning_rate=learning_rate, jit_compile=jit_compile)


def _dense_search_space(hp):
    depth = hp.Int("depth", 0, 3)
    return {
        "hidden_units": tuple(
            hp.Int(f"units_{i}", 16, 512, sampling="log") for i in range(depth)
        ),
        "code_size": hp.Int("code_size", 2, 64, sampling="log"),
        "activation": hp.Choice("activation", ["relu", "gelu", "tanh"]),
        "learning_rate": hp.Float("learning_rate", 1e-4, 1e-2, sampling="log"),
    }


def _dense_example_data(params, n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(n, params["input_dim"])).astype("float32")
    return x, x


@register_model(
    "dense_autoencoder",
    family="autoencoder",
    task="reconstruction",
    inputs={"features": "float32 [batch, input_dim]"},
    outputs={"reconstruction": "float32 [batch, input_dim]"},
    description=(
        "Fully connected autoencoder: input -> hidden widths -> code -> the "
        "widths mirrored -> reconstruction. zoo.encoder(model) gives the code."
    ),
    citation="Hinton & Salakhutdinov, Reducing the Dimensionality of Data with "
             "Neural Networks, Science 2006; F. Chollet, Building Autoencoders in Keras, 2016.",
    compiler=compile_autoencoder,
    search_space=_dense_search_space,
    toy={"input_dim": 6, "hidden_units": (5,), "code_size": 3},
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
    },
)
def dense_autoencoder(input_dim=784, hidden_units=(128,), code_size=32, activation="relu",
                      code_activation="relu", output_activation="sigmoid",
                      reconstruction_loss="mse"):
    """Dense autoencoder.

    Args:
        input_dim: features per sample.
        hidden_units: widths of the encoder's hidden layers (the decoder
            mirrors them); ``()`` for none.
        code_size: width of the code.
        activation: hidden-layer activation.
        code_activation: activation of the code layer (``None`` = linear).
        output_activation: activation of the reconstruction (``sigmoid``
            for data in [0, 1], ``None`` for unbounded data).
        reconstruction_loss: ``mse``, ``mae`` or ``bce``.

    >>> import zoo
    >>> model = zoo.build("dense_autoencoder", input_dim=64, code_size=8)
    """
    input_dim = validation.positive_int("input_dim", input_dim)
    hidden_units = validation.positive_int_tuple("hidden_units", hidden_units)
    code_size = validation.positive_int("code_size", code_size)
    activation = validation.activation("activation", activation)
    code_activation = validation.activation("code_activation", code_activation)
    output_activation = validation.activation("output_activation", output_activation)
    validation.choice("reconstruction_loss", reconstruction_loss, losses.RECONSTRUCTION_LOSSES)
    if reconstruction_loss == "bce" and output_activation != "sigmoid":
        raise ValueError(
            "reconstruction_loss='bce' needs outputs in [0, 1]: use "
            f"output_activation='sigmoid'. Received: output_activation={output_activation!r}"
        )

    features = keras.Input((input_dim,), name="features")
    x = features
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation=activation, name=f"encoder_dense_{i}")(x)
    code = layers.Dense(code_size, activation=code_activation, name=CODE_LAYER_NAME)(x)
    x = code
    for i, units in enumerate(reversed(hidden_units)):
        x = layers.Dense(units, activation=activation, name=f"decoder_dense_{i}")(x)
    reconstruction = layers.Dense(input_dim, activation=output_activation,
                                  name="reconstruction")(x)
    return ZooModel(features, reconstruction, name="dense_autoencoder")
