"""The dense autoencoder and its presets (toy, MNIST, denoising, sparse)."""

from zoo import search_spaces
from zoo.models.autoencoder.common import (CITATION_AE, CITATION_VARIANTS, VECTORS, autoencoder,
                                           code_size_space, compile_autoencoder, dense_blocks,
                                           dense_example_data, register_autoencoder)
from zoo.registry import Capabilities

# What the applications train; presets that set these parameters themselves declare it too.
SMALL = {"hidden_units": (128,), "code_size": 16, "learning_rate": 2e-3}


def dense_search_space(hp):
    """Depth 0-3 hidden widths (``units_<i>``), code size, activation, learning rate."""
    return {
        "hidden_units": search_spaces.widths(hp, "units", 3, 16, 512, min_depth=0)["units"],
        "code_size": code_size_space(hp),
        "activation": hp.Choice("activation", ["relu", "gelu", "tanh"]),
        "learning_rate": search_spaces.learning_rate(hp),
    }


@register_autoencoder(
    "dense_autoencoder",
    inputs=VECTORS, outputs={"reconstruction": "float32 [batch, input_dim]"},
    description=(
        "Fully connected autoencoder: input -> hidden widths -> code -> the "
        "widths mirrored -> reconstruction. zoo.encoder(model) gives the code, "
        "zoo.decoder(model) the way back. code_l1 makes it sparse, noise denoising. "
        "The code is linear by default: a ReLU code can leave units dead."
    ),
    citation=f"{CITATION_AE}; {CITATION_VARIANTS}.",
    compiler=compile_autoencoder,
    search_space=dense_search_space,
    capabilities=Capabilities(input_kinds=("vectors",), decodable=True),
    sizes={"toy": {"input_dim": 6, "hidden_units": (5,), "code_size": 3},
           "small": SMALL},
    example_data=dense_example_data,
    presets={
        "dense_autoencoder_toy": {
            "description": "The 4 -> 2 -> 4 toy autoencoder: ReLU code, sigmoid output, MSE. "
                           "Faithful to the seed document's dry run, so with its ReLU code "
                           "about half of all seeds end with a dead code that the loss hides "
                           "(the decoder bias memorises the single input).",
            "input_dim": 4, "hidden_units": (), "code_size": 2,
            "code_activation": "relu", "output_activation": "sigmoid",
            "reconstruction_loss": "mse", "learning_rate": 0.01,
            "sizes": {"small": SMALL},
        },
        "dense_autoencoder_mnist": {
            "description": "The 784 -> 128 -> code -> 128 -> 784 MNIST autoencoder "
                           "(sigmoid output, binary cross-entropy).",
            "input_dim": 784, "hidden_units": (128,), "code_size": 32,
            "output_activation": "sigmoid", "reconstruction_loss": "bce",
            "sizes": {"small": SMALL},
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
            "code_activation": "relu",
            "sizes": {"small": SMALL},
        },
    },
)
def dense_autoencoder(input_dim=784, hidden_units=(128,), code_size=32, activation="relu",
                      code_activation=None, output_activation="sigmoid", code_l1=0.0,
                      noise=None, noise_level=0.1, seed=None, reconstruction_loss="mse"):
    """Dense autoencoder (also sparse and denoising).

    Args:
        input_dim: features per sample.
        hidden_units: widths of the encoder's hidden layers (the decoder
            mirrors them); ``()`` for none.
        code_size: width of the code.
        activation: hidden-layer activation.
        code_activation: activation of the code layer (``None`` = linear, the
            default: a ReLU code left 3 of 8 units dead on the digits, with a
            test MSE no better than PCA's).
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
    >>> model.output_shape
    (None, 64)
    >>> noisy = zoo.build("denoising_autoencoder", input_dim=64, noise="masking")
    >>> zoo.spec_of(noisy).capabilities.denoising
    True
    """
    return autoencoder(
        *dense_blocks(input_dim, hidden_units, activation), code_size=code_size,
        code_activation=code_activation, output_activation=output_activation, code_l1=code_l1,
        noise=noise, noise_level=noise_level, seed=seed,
        reconstruction_loss=reconstruction_loss, name="dense_autoencoder")
