"""``GINConv``: the Graph Isomorphism Network layer of Xu et al."""

import keras
from keras import ops

from zoo import validation
from zoo.models.graph.layers.message_passing import MessagePassing


@keras.saving.register_keras_serializable(package="zoo")
class GINConv(MessagePassing):
    """Graph Isomorphism Network layer of Xu et al.

    ``h_i = act(MLP((1 + eps) x_i + sum_j w_ji x_j))`` with a two-layer MLP
    (``mlp_activation`` between the layers, after batch normalisation when
    ``batch_norm``) and ``eps`` learnable when ``learn_epsilon`` (GIN-eps)
    or fixed (GIN-0 with ``epsilon=0``).

    Args:
        units: width of both MLP layers and of the output.
        activation: activation of the output (default linear).
        mlp_activation: activation between the two MLP layers.
        epsilon: initial (or fixed) value of ``eps``.
        learn_epsilon: train ``eps``.
        batch_norm: batch-normalise the hidden MLP layer over the nodes of
            the batch (momentum 0.9, so inference statistics follow after
            a few dozen steps); it replaces that layer's bias.
        use_bias: biases in the MLP.
        kernel_initializer, bias_initializer: as for ``MessagePassing``.

    >>> import zoo
    >>> layer = zoo.models.graph.layers.GINConv(32, batch_norm=True, learn_epsilon=False)
    >>> layer.build([(5, 2), (2, 4)])
    >>> [w.name for w in layer.non_trainable_weights][:1]
    ['epsilon']
    """

    def __init__(self, units, activation=None, mlp_activation="relu", epsilon=0.0,
                 learn_epsilon=True, batch_norm=False, use_bias=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.mlp_activation = keras.activations.get(mlp_activation)
        self.epsilon = validation.finite_float("epsilon", epsilon)
        self.learn_epsilon = validation.boolean("learn_epsilon", learn_epsilon)
        self.batch_norm = validation.boolean("batch_norm", batch_norm)
        self.norm = (keras.layers.BatchNormalization(momentum=0.9, dtype=self.dtype_policy,
                                                     name="norm") if batch_norm else None)

    def build(self, input_shape):
        self.kernel_1 = self._kernel("kernel_1", (input_shape[0][-1], self.units))
        self.bias_1 = None if self.batch_norm else self._bias("bias_1")
        self.kernel_2 = self._kernel("kernel_2", (self.units, self.units))
        self.bias_2 = self._bias("bias_2")
        self.eps = self.add_weight(name="epsilon", shape=(),
                                   initializer=keras.initializers.Constant(self.epsilon),
                                   trainable=self.learn_epsilon)
        if self.norm is not None:
            self.norm.build((None, self.units))

    def update(self, aggregated, states, training=False):
        h = ops.matmul((1.0 + ops.cast(self.eps, states.dtype)) * states + aggregated,
                       self.kernel_1)
        if self.bias_1 is not None:
            h = h + self.bias_1
        if self.norm is not None:
            h = self.norm(h, training=training)
        if self.mlp_activation is not None:
            h = self.mlp_activation(h)
        return self._finish(ops.matmul(h, self.kernel_2), self.bias_2)

    def get_config(self):
        return {**super().get_config(),
                "mlp_activation": keras.activations.serialize(self.mlp_activation),
                "epsilon": self.epsilon, "learn_epsilon": self.learn_epsilon,
                "batch_norm": self.batch_norm}
