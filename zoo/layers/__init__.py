"""Layers shared by several families, one concept per module.

Every layer here is registered with
``keras.saving.register_keras_serializable(package="zoo")``, keeps one
attribute per constructor argument and returns all of them from
``get_config``. Stochastic layers own a ``keras.random.SeedGenerator``.
Import them from the package: ``from zoo.layers import PositionEmbedding``.

- ``masking``: ``PaddingMask``, ``ZeroMasked``, ``MaskedGlobalPooling1D``
- ``position_embedding``: ``PositionEmbedding``
- ``pre_norm_block``: what the two Transformer blocks share
- ``transformer_encoder``: ``TransformerEncoderBlock``
- ``transformer_decoder``: ``TransformerDecoderBlock`` (``step_blocks``, ``cache_names``)
- ``gaussian_sampling``: ``GaussianSampling``, ``kl_divergence``
- ``corruption_noise``: ``CorruptionNoise``
"""

from zoo.layers.corruption_noise import CorruptionNoise
from zoo.layers.gaussian_sampling import GaussianSampling, kl_divergence
from zoo.layers.masking import MaskedGlobalPooling1D, PaddingMask, ZeroMasked
from zoo.layers.position_embedding import PositionEmbedding
from zoo.layers.transformer_decoder import TransformerDecoderBlock, cache_names, step_blocks
from zoo.layers.transformer_encoder import TransformerEncoderBlock

__all__ = [
    "CorruptionNoise", "GaussianSampling", "MaskedGlobalPooling1D", "PaddingMask",
    "PositionEmbedding", "TransformerDecoderBlock", "TransformerEncoderBlock", "ZeroMasked",
    "cache_names", "kl_divergence", "step_blocks",
]
