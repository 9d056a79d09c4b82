"""The benchmark models written directly with ``keras.layers``, without the zoo.

Each builder takes the same parameters as the zoo model it mirrors
(``benchmarks.cases``) and returns a compiled model with the same
parameter count, the same outputs and -- loaded with the zoo model's
weights in order -- the same numbers. They are what a careful Keras user
writes by hand: functional models where Keras has the layers, small
subclassed models where it has none (learned positions, graph
convolutions). Loss and metrics are the zoo's own objects, so a train
step does the same work on both sides and only the model differs.
"""

import keras
from keras import layers, ops

from zoo.losses import MaskedSparseAccuracy, MaskedSparseCrossentropy


def _compile(model, loss, metrics, learning_rate, jit_compile):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=metrics,
                  jit_compile=jit_compile)
    return model


# --- classifier: lstm_classifier ----------------------------------------------------------------


def lstm_classifier(vocab_size, embedding_dim, units, num_classes=2, jit_compile=False):
    if num_classes != 2:
        raise ValueError(f"The benchmark classifier is binary. Received: num_classes={num_classes}")
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x = layers.Embedding(vocab_size, embedding_dim, mask_zero=True)(tokens)
    x = layers.LSTM(units)(x)
    probabilities = layers.Dense(1, activation="sigmoid", dtype="float32")(x)
    model = keras.Model(tokens, probabilities, name="handwritten_lstm_classifier")
    return _compile(model, keras.losses.BinaryCrossentropy(),
                    [keras.metrics.BinaryAccuracy(name="accuracy")], 1e-3, jit_compile)


# --- autoencoder: conv_autoencoder ----------------------------------------------------------------


def conv_autoencoder(input_shape, filters, code_size, jit_compile=False):
    height, width, channels = input_shape
    images = keras.Input(input_shape, name="images")
    x = images
    for units in filters:
        x = layers.Conv2D(units, 3, strides=2, padding="same", activation="relu")(x)
    code = layers.Dense(code_size)(layers.Flatten()(x))
    scale = 2 ** len(filters)
    grid = (height // scale, width // scale, filters[-1])
    x = layers.Dense(grid[0] * grid[1] * grid[2], activation="relu")(code)
    x = layers.Reshape(grid)(x)
    for units in reversed(filters):
        x = layers.Conv2DTranspose(units, 3, strides=2, padding="same", activation="relu")(x)
    reconstruction = layers.Conv2D(channels, 3, padding="same", activation="sigmoid")(x)
    model = keras.Model(images, reconstruction, name="handwritten_conv_autoencoder")
    return _compile(model, keras.losses.MeanSquaredError(), None, 1e-3, jit_compile)


# --- decoder: gpt_decoder -------------------------------------------------------------------------


class GPT(keras.Model):
    """Pre-norm causal Transformer language model (no dropout)."""

    def __init__(self, vocab_size, max_length, embedding_dim, num_heads, ff_dim, num_layers,
                 **kwargs):
        super().__init__(**kwargs)
        self.token_embedding = layers.Embedding(vocab_size, embedding_dim)
        self.position_embedding = layers.Embedding(max_length, embedding_dim,
                                                   embeddings_initializer="glorot_uniform")
        self.blocks = [
            [layers.LayerNormalization(epsilon=1e-6),
             layers.MultiHeadAttention(num_heads, embedding_dim // num_heads),
             layers.LayerNormalization(epsilon=1e-6),
             layers.Dense(ff_dim, activation="gelu"),
             layers.Dense(embedding_dim)]
            for _ in range(num_layers)
        ]
        self.final_norm = layers.LayerNormalization(epsilon=1e-6)
        self.logits = layers.Dense(vocab_size)

    def call(self, tokens):
        length = ops.shape(tokens)[1]
        x = self.token_embedding(tokens)
        x = x + ops.expand_dims(ops.cast(self.position_embedding(ops.arange(length)), x.dtype), 0)
        keys = ops.expand_dims(ops.not_equal(tokens, 0), 1)  # [B, 1, T]: real keys only
        for attention_norm, attention, ff_norm, ff_hidden, ff_output in self.blocks:
            h = attention_norm(x)
            x = x + attention(h, h, attention_mask=keys, use_causal_mask=True)
            x = x + ff_output(ff_hidden(ff_norm(x)))
        return self.logits(self.final_norm(x))


def gpt_decoder(vocab_size, max_length, embedding_dim, num_heads, ff_dim, num_layers,
                dropout=0.0, jit_compile=False):
    if dropout:
        raise ValueError(f"The benchmark GPT has no dropout. Received: dropout={dropout}")
    model = GPT(vocab_size, max_length, embedding_dim, num_heads, ff_dim, num_layers,
                name="handwritten_gpt_decoder")
    model(ops.ones((1, max_length), "int32"))
    return _compile(model, MaskedSparseCrossentropy(from_logits=True),
                    [MaskedSparseAccuracy()], 1e-3, jit_compile)


# --- seq2seq: lstm_seq2seq ------------------------------------------------------------------------


def lstm_seq2seq(source_vocab_size, target_vocab_size, embedding_dim, latent_dim,
                 jit_compile=False):
    source = keras.Input((None,), dtype="int32", name="source_tokens")
    target = keras.Input((None,), dtype="int32", name="target_tokens")
    x = layers.Embedding(source_vocab_size, embedding_dim, mask_zero=True,
                         name="source_embedding")(source)
    _, h, c = layers.LSTM(latent_dim, return_state=True, name="encoder_lstm_0")(x)
    y = layers.Embedding(target_vocab_size, embedding_dim, mask_zero=True,
                         name="target_embedding")(target)
    y = layers.LSTM(latent_dim, return_sequences=True,
                    name="decoder_lstm_0")(y, initial_state=[h, c])
    logits = layers.Dense(target_vocab_size, name="logits")(y)
    model = keras.Model({"source_tokens": source, "target_tokens": target}, logits,
                        name="handwritten_lstm_seq2seq")
    return _compile(model, MaskedSparseCrossentropy(from_logits=True), [MaskedSparseAccuracy()],
                    1e-3, jit_compile)


# --- graph: gcn -----------------------------------------------------------------------------------


class GCN(keras.Model):
    """Kipf & Welling GCN node classifier over stacked graph batches.

    Takes ``{"node_features": [B, N, F], "edge_index": [B, 2, E]}`` and
    returns ``[B, N, num_classes]`` probabilities; the symmetric
    normalisation is computed once per call and shared by the layers.
    """

    def __init__(self, num_features, hidden_units, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.num_features = num_features
        self.hidden_units = hidden_units
        self.classifier = layers.Dense(num_classes, activation="softmax", dtype="float32")

    def build(self, input_shape):
        self.kernels, self.biases = [], []
        width = self.num_features
        for units in self.hidden_units:
            self.kernels.append(self.add_weight(shape=(width, units),
                                                initializer="glorot_uniform"))
            self.biases.append(self.add_weight(shape=(units,), initializer="zeros"))
            width = units
        self.classifier.build((None, width))

    def call(self, inputs):
        features, edges = inputs["node_features"], ops.cast(inputs["edge_index"], "int32")
        batch, nodes = ops.shape(features)[0], ops.shape(features)[1]
        offsets = ops.arange(batch, dtype="int32") * nodes
        edges = ops.reshape(ops.transpose(edges + offsets[:, None, None], (1, 0, 2)), (2, -1))
        source, target = edges[0], edges[1]
        h = ops.reshape(features, (-1, ops.shape(features)[-1]))
        n = ops.shape(h)[0]
        degree = ops.segment_sum(ops.ones(ops.shape(source), h.dtype), target,
                                 num_segments=n) + 1.0
        inv_sqrt = ops.rsqrt(degree)
        coefficient = ops.expand_dims(ops.take(inv_sqrt, source) * ops.take(inv_sqrt, target), -1)
        self_loop = ops.expand_dims(inv_sqrt * inv_sqrt, -1)
        for kernel, bias in zip(self.kernels, self.biases):
            hw = ops.matmul(h, kernel)
            messages = ops.take(hw, source, axis=0) * coefficient
            h = ops.relu(ops.segment_sum(messages, target, num_segments=n) + hw * self_loop + bias)
        probabilities = self.classifier(h)
        return ops.reshape(probabilities, (batch, nodes, -1))


def gcn(num_features, hidden_units, num_classes, jit_compile=False):
    model = GCN(num_features, tuple(hidden_units), num_classes, name="handwritten_gcn")
    model({"node_features": ops.zeros((1, 3, num_features)),
           "edge_index": ops.convert_to_tensor([[[0, 1], [1, 2]]], "int32")})
    return _compile(model, MaskedSparseCrossentropy(pad_id=-1, from_logits=False),
                    [MaskedSparseAccuracy(pad_id=-1, name="accuracy")], 1e-2, jit_compile)


BUILDERS = {
    "classifier": lstm_classifier,
    "autoencoder": conv_autoencoder,
    "decoder": gpt_decoder,
    "seq2seq": lstm_seq2seq,
    "graph": gcn,
}


def build(family, params, jit_compile=False):
    """The hand-written, compiled model for ``family`` with the zoo's ``params``."""
    return BUILDERS[family](**params, jit_compile=jit_compile)


def copy_weights(source, target):
    """Load ``source``'s weights into ``target`` (layer by layer where every
    weighted layer of ``target`` has a namesake in ``source``, else in order)."""
    by_name = {layer.name: layer for layer in source.layers}
    weighted = [layer for layer in target.layers if layer.weights]
    if weighted and all(layer.name in by_name for layer in weighted):
        for layer in weighted:
            layer.set_weights(by_name[layer.name].get_weights())
    else:
        target.set_weights(source.get_weights())
