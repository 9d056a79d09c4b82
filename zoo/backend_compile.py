"""Compiling inference loops (with ``zoo.exporting`` and ``zoo.distribution``, the only
modules importing a backend).

Everything else in ``zoo`` is written in ``keras.ops``. A function built
from ``keras.ops`` and a model's layers (a decoding loop) is compiled here
the way each backend runs such a loop fastest: under ``jax.jit`` with the
model's weights passed in as arguments (so training after the compilation
is seen, and the weights are not baked into the program), under
``tf.function`` with XLA, and on torch eagerly under ``torch.no_grad``.
Backends are imported inside the functions: ``import zoo`` needs none.

>>> import keras
>>> import zoo
>>> model = zoo.build("dense_autoencoder_toy")
>>> double = compile_inference(model, lambda x: keras.ops.multiply(x, 2.0))
>>> float(keras.ops.convert_to_numpy(double(keras.ops.ones(()))))
2.0
"""

import keras


def compile_inference(model, function):
    """``function`` (of tensors, using ``model``'s layers) compiled for the current backend.

    Args:
        model: the model whose variables ``function`` reads.
        function: a callable of tensors (and nested dicts/tuples of them)
            written in ``keras.ops``; it must not change any variable.

    Returns:
        A callable with the same arguments and results.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        return _jax_compiled(model, function)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(function, jit_compile=True, reduce_retracing=False)
    if backend == "torch":
        import torch

        def without_gradients(*args):
            with torch.no_grad():
                return function(*args)

        return without_gradients
    return function


def _jax_compiled(model, function):
    """``function`` under ``jax.jit``, the model's weights passed in (never baked in)."""
    import jax

    trainable, non_trainable = model.trainable_variables, model.non_trainable_variables

    @jax.jit
    def compiled(weights, *args):
        mapping = list(zip(trainable, weights[0])) + list(zip(non_trainable, weights[1]))
        with keras.StatelessScope(state_mapping=mapping):
            return function(*args)

    def call(*args):
        weights = ([v.value for v in trainable], [v.value for v in non_trainable])
        return compiled(weights, *args)

    return call
