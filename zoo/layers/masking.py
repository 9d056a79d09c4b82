"""Explicit padding masks.

Keras' implicit masks (``mask_zero=True``) reach recurrent layers on every
backend, but convolutions and pooling ignore them. These layers carry the
mask as an ordinary boolean tensor instead, so padding can be zeroed and
left out of pooling in any architecture.
"""

import keras
from keras import ops

from zoo import validation


@keras.saving.register_keras_serializable(package="zoo")
class PaddingMask(keras.layers.Layer):
    """Boolean mask ``[batch, length]``: True where ``tokens != pad_id``.

    Args:
        pad_id: the padding token id (an integer >= 0, default 0).

    >>> keras.ops.convert_to_numpy(PaddingMask()(np.array([[5, 3, 0]]))).tolist()
    [[True, True, False]]
    """

    def __init__(self, pad_id=0, **kwargs):
        super().__init__(**kwargs)
        self.pad_id = validation.non_negative_int("pad_id", pad_id)

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

    >>> x, mask = np.ones((1, 3, 2), "float32"), np.array([[True, True, False]])
    >>> keras.ops.convert_to_numpy(ZeroMasked()([x, mask]))[0].tolist()
    [[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]]
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

    >>> x = np.array([[[1.0], [3.0], [100.0]]], "float32")  # the last step is padding
    >>> mask = np.array([[True, True, False]])
    >>> keras.ops.convert_to_numpy(MaskedGlobalPooling1D("mean")([x, mask])).tolist()
    [[2.0]]
    >>> keras.ops.convert_to_numpy(MaskedGlobalPooling1D("max")([x, mask])).tolist()
    [[3.0]]
    """

    def __init__(self, mode="mean", **kwargs):
        super().__init__(**kwargs)
        self.mode = validation.choice("mode", mode, ("mean", "max"))

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
