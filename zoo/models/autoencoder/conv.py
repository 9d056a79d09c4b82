"""The convolutional autoencoder and its denoising preset."""

from zoo import search_spaces
from zoo.models.autoencoder.common import (CITATION_AE, CITATION_VARIANTS, IMAGE_IO, autoencoder,
                                           code_size_space, compile_autoencoder, conv_blocks,
                                           image_example_data, register_autoencoder)
from zoo.registry import Capabilities


def conv_search_space(hp):
    """One or two stride-2 convolutions (``filters_<i>``), code size, learning rate."""
    return {
        **search_spaces.widths(hp, "filters", 2, 8, 128),
        "code_size": code_size_space(hp),
        "learning_rate": search_spaces.learning_rate(hp),
    }


@register_autoencoder(
    "conv_autoencoder",
    **IMAGE_IO,
    description=(
        "Convolutional autoencoder: stride-2 Conv2D layers down to a dense code, "
        "Conv2DTranspose layers back up. code_l1 makes it sparse, noise denoising."
    ),
    citation="Masci, Meier, Ciresan & Schmidhuber, Stacked Convolutional Auto-Encoders for "
             f"Hierarchical Feature Extraction, ICANN 2011; {CITATION_AE}; "
             f"{CITATION_VARIANTS}.",
    compiler=compile_autoencoder,
    search_space=conv_search_space,
    capabilities=Capabilities(input_kinds=("images",), decodable=True),
    sizes={"toy": {"input_shape": (8, 8, 1), "filters": (2, 3), "code_size": 2},
           "small": {"filters": (16, 32), "code_size": 16, "learning_rate": 2e-3},
           "bench": {"input_shape": (28, 28, 1), "filters": (32, 64), "code_size": 32}},
    example_data=image_example_data,
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
    >>> model.output_shape
    (None, 8, 8, 1)
    """
    return autoencoder(
        *conv_blocks(input_shape, filters, kernel_size, activation), code_size=code_size,
        code_activation=code_activation, output_activation=output_activation, code_l1=code_l1,
        noise=noise, noise_level=noise_level, seed=seed,
        reconstruction_loss=reconstruction_loss, name="conv_autoencoder")
