"""Explicit padding masks.

Keras' implicit masks (``mask_zero=True``) reach recurrent layers on every
backend, but convolutions and pooling ignore them. These layers carry the
mask as an ordinary boolean tensor instead, so padding can be zeroed and
left out of pooling in any architecture.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class PaddingMask(keras.layers.Layer):
    """Boolean mask ``[batch, length]``: True where ``tokens != pad_id``.

    Args:
        pad_id: the padding token id (default 0).

    >>> PaddingMask()(np.array([[5, 3, 0]]))  # [[True, True, False]]
    """

    def __init__(self, pad_id=0, **kwargs):
        super().__init__(**kwargs)
        self.pad_id = pad_id

    def call(self, tokens):
        return ops.not_equal(tokens, self.pad_id)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, tokens):
        return keras.KerasTensor(tokens.shape, dtype="bool")

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id}


@keras.saving.register_keras_serializable(package="zoo")
class ZeroMasked(keras.layers.Layer):
    """``[x, mask] -> x`` with padded positions set to zero.

    After each convolution this keeps padding at exactly zero, so a
    ``"same"``-padded convolution sees the same neighbourhood at the end of
    a sequence whether it is followed by padding or not.

    >>> y = ZeroMasked()([x, mask])  # x: [B, T, C], mask: [B, T]
    """

    def call(self, inputs):
        x, mask = inputs
        return x * ops.cast(ops.expand_dims(mask, -1), x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@keras.saving.register_keras_serializable(package="zoo")
class MaskedGlobalPooling1D(keras.layers.Layer):
    """Pool ``[batch, length, channels]`` over the unmasked positions.

    Args:
        mode: ``"mean"`` or ``"max"``.

    >>> pooled = MaskedGlobalPooling1D("max")([x, mask])  # [B, C]
    """

    def __init__(self, mode="mean", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("mean", "max"):
            raise ValueError(f"`mode` must be 'mean' or 'max'. Received: mode={mode!r}")
        self.mode = mode

    def call(self, inputs, mask=None):
        # ``mask`` is Keras' implicit mask, if one arrives; the explicit
        # mask in ``inputs`` is the one used, and nothing is passed on.
        x, mask = inputs
        weights = ops.cast(ops.expand_dims(mask, -1), x.dtype)
        if self.mode == "mean":
            total = ops.sum(x * weights, axis=1)
            return total / ops.maximum(ops.sum(weights, axis=1), 1.0)
        lowest = ops.cast(-65000.0 if x.dtype == "float16" else -1e9, x.dtype)
        return ops.max(ops.where(weights > 0, x, lowest), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        shape = input_shape[0]
        return (shape[0], shape[2])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
