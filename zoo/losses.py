"""Losses, metrics and the compile helper shared by the families.

Padding is token id 0 everywhere in the zoo. Keras' own ``ignore_class``
hands the averaging to a tensor mask that not every backend can carry, so
the masked loss and accuracy here do their own bookkeeping with
``keras.ops`` and give the same numbers on TensorFlow, JAX and torch.
"""

import keras
from keras import ops

from zoo import distribution, validation

RECONSTRUCTION_LOSSES = ("mse", "mae", "bce")


@keras.saving.register_keras_serializable(package="zoo")
class MaskedSparseCrossentropy(keras.losses.Loss):
    """Sparse categorical cross-entropy averaged over non-padding tokens.

    Args:
        pad_id: target id that is ignored (default 0).
        from_logits: whether predictions are logits.

    >>> loss = MaskedSparseCrossentropy(from_logits=True)
    """

    def __init__(self, pad_id=0, from_logits=True, name="masked_sparse_crossentropy",
                 reduction="sum", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.pad_id = pad_id
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        valid = ops.cast(ops.not_equal(y_true, self.pad_id), y_pred.dtype)
        safe_true = ops.where(ops.not_equal(y_true, self.pad_id), y_true, 0)
        per_token = keras.losses.sparse_categorical_crossentropy(
            safe_true, y_pred, from_logits=self.from_logits
        )
        # With reduction="sum", this is the mean over the batch's real tokens (over the
        # global batch when TensorFlow splits it across replicas: ``masked_divisor``).
        return per_token * valid / distribution.masked_divisor(ops.sum(valid))

    def get_config(self):
        config = super().get_config()
        config.update(pad_id=self.pad_id, from_logits=self.from_logits)
        return config


@keras.saving.register_keras_serializable(package="zoo")
class MaskedSparseAccuracy(keras.metrics.Metric):
    """Share of non-padding tokens whose arg-max prediction is right.

    Args:
        pad_id: target id that is not counted (default 0).
    """

    def __init__(self, pad_id=0, name="masked_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.pad_id = pad_id
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        predicted = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        valid = ops.cast(ops.not_equal(y_true, self.pad_id), "float32")
        hits = ops.cast(ops.equal(predicted, y_true), "float32") * valid
        self.correct.assign_add(ops.sum(hits))
        self.count.assign_add(ops.sum(valid))

    def result(self):
        return self.correct / ops.maximum(self.count, 1.0)

    def reset_state(self):
        self.correct.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id}


def reconstruction_loss(name):
    """The Keras loss object for a reconstruction loss name."""
    validation.choice("reconstruction_loss", name, RECONSTRUCTION_LOSSES)
    return {
        "mse": keras.losses.MeanSquaredError,
        "mae": keras.losses.MeanAbsoluteError,
        "bce": keras.losses.BinaryCrossentropy,
    }[name]()


def compile_model(model, *, loss, metrics=None, learning_rate=1e-3, jit_compile="auto"):
    """Compile with Adam and the zoo's checks on the shared training params."""
    learning_rate = validation.positive_float("learning_rate", learning_rate)
    jit_compile = validation.jit_compile("jit_compile", jit_compile)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=loss,
        metrics=metrics,
        jit_compile=jit_compile,
    )


def compile_token_model(model, *, from_logits, learning_rate=1e-3, jit_compile="auto"):
    """Per-token models (seq2seq, language models, taggers): padding-masked
    cross-entropy and accuracy."""
    compile_model(model, loss=MaskedSparseCrossentropy(from_logits=from_logits),
                  metrics=[MaskedSparseAccuracy()], learning_rate=learning_rate,
                  jit_compile=jit_compile)
