"""The representative model of each family, its benchmark size and its data.

Each ``Case`` names one zoo model and the overrides that make it a
moderate benchmark (``FULL``) or a toy (``TINY``, for tests). The same
parameters build the hand-written Keras and PyTorch versions, and
``make_data`` draws the same random NumPy batches for all of them.

Dropout is 0 everywhere: it costs the same on every side and would make
the hand-written/zoo equivalence checks random.
"""

import dataclasses

import numpy as np

FAMILIES = ("autoencoder", "classifier", "decoder", "graph", "seq2seq")
SIZES = ("full", "tiny")


@dataclasses.dataclass(frozen=True)
class Case:
    """One family's representative model.

    Attributes:
        family: zoo family name.
        model: zoo registry name.
        params: ``zoo.build`` overrides per size (``"full"``, ``"tiny"``).
        shape: data sizes per size (sequence lengths, graph nodes, ...).
        sample: what one sample of the batch is, for the table.
    """

    family: str
    model: str
    params: dict
    shape: dict
    sample: str

    def build_params(self, size):
        return dict(self.params[size])

    def data_shape(self, size):
        return dict(self.shape[size])


CASES = {
    "classifier": Case(
        "classifier", "lstm_classifier",
        params={"full": {"vocab_size": 1000, "embedding_dim": 64, "units": 64,
                         "num_classes": 2},
                "tiny": {"vocab_size": 20, "embedding_dim": 6, "units": 5, "num_classes": 2}},
        shape={"full": {"length": 64}, "tiny": {"length": 7}},
        sample="token sequence (padded, 50-100% real tokens)"),
    "autoencoder": Case(
        "autoencoder", "conv_autoencoder",
        params={"full": {"input_shape": (28, 28, 1), "filters": (32, 64), "code_size": 32},
                "tiny": {"input_shape": (8, 8, 1), "filters": (2, 3), "code_size": 2}},
        shape={"full": {}, "tiny": {}},
        sample="28x28x1 image"),
    "decoder": Case(
        "decoder", "gpt_decoder",
        params={"full": {"vocab_size": 256, "max_length": 64, "embedding_dim": 64,
                         "num_heads": 4, "ff_dim": 256, "num_layers": 2, "dropout": 0.0},
                "tiny": {"vocab_size": 12, "max_length": 8, "embedding_dim": 8,
                         "num_heads": 2, "ff_dim": 12, "num_layers": 1, "dropout": 0.0}},
        shape={"full": {"length": 64}, "tiny": {"length": 8}},
        sample="token sequence (padded, 50-100% real tokens)"),
    "seq2seq": Case(
        "seq2seq", "lstm_seq2seq",
        params={"full": {"source_vocab_size": 100, "target_vocab_size": 100,
                         "embedding_dim": 32, "latent_dim": 128},
                "tiny": {"source_vocab_size": 11, "target_vocab_size": 12,
                         "embedding_dim": 4, "latent_dim": 6}},
        shape={"full": {"source_length": 16, "target_length": 16},
               "tiny": {"source_length": 5, "target_length": 4}},
        sample="source/target pair (teacher forcing)"),
    "graph": Case(
        "graph", "gcn",
        params={"full": {"num_features": 32, "hidden_units": (32, 32), "num_classes": 4},
                "tiny": {"num_features": 3, "hidden_units": (4, 4), "num_classes": 2}},
        shape={"full": {"num_nodes": 128}, "tiny": {"num_nodes": 6}},
        sample="graph (128 nodes, 384 directed edge pairs)"),
}


def get_case(family):
    if family not in CASES:
        raise ValueError(f"Unknown family {family!r}; choose from {', '.join(FAMILIES)}. "
                         f"Received: family={family!r}")
    return CASES[family]


# --- data ---------------------------------------------------------------------------------------


def _padded_tokens(rng, n, length, vocab_size, low=1):
    """Ids in ``[low, vocab)``; each row keeps 50-100% of ``length`` real tokens, then 0s."""
    tokens = rng.integers(low, vocab_size, size=(n, length)).astype("int32")
    lengths = rng.integers(max(1, (length + 1) // 2), length + 1, size=n)
    tokens[np.arange(length)[None, :] >= lengths[:, None]] = 0
    return tokens, lengths


def _graph_edges(rng, num_nodes):
    """A ring plus ``num_nodes // 2`` random chords, both directions: ``[2, 3 * num_nodes]``
    (the same edge count for every graph, so graphs stack on a batch axis)."""
    ring = np.stack([np.arange(num_nodes), (np.arange(num_nodes) + 1) % num_nodes])
    chords = rng.integers(0, num_nodes, size=(2, num_nodes // 2))
    chords[1] = np.where(chords[0] == chords[1], (chords[1] + 1) % num_nodes, chords[1])
    undirected = np.concatenate([ring, chords], axis=1)
    return np.concatenate([undirected, undirected[::-1]], axis=1).astype("int32")


def make_data(case, size, n, seed=0):
    """``(x, y)`` NumPy arrays of ``n`` samples in the zoo model's input format."""
    rng = np.random.default_rng(seed)
    params, shape = case.build_params(size), case.data_shape(size)
    if case.family == "classifier":
        x, _ = _padded_tokens(rng, n, shape["length"], params["vocab_size"])
        y = rng.integers(0, 2, size=(n, 1)).astype("int32")
        return x, y
    if case.family == "autoencoder":
        x = rng.uniform(size=(n, *params["input_shape"])).astype("float32")
        return x, x
    if case.family == "decoder":
        x, _ = _padded_tokens(rng, n, shape["length"], params["vocab_size"])
        y = np.zeros_like(x)
        y[:, :-1] = x[:, 1:]
        return x, y
    if case.family == "seq2seq":
        source, _ = _padded_tokens(rng, n, shape["source_length"], params["source_vocab_size"])
        body, lengths = _padded_tokens(rng, n, shape["target_length"],
                                       params["target_vocab_size"], low=3)
        decoder_input = np.zeros((n, shape["target_length"] + 1), "int32")
        decoder_input[:, 0] = 1  # start token
        decoder_input[:, 1:] = body
        target = np.zeros_like(decoder_input)
        target[:, :-1] = body
        target[np.arange(n), lengths] = 2  # end token
        return {"source_tokens": source, "target_tokens": decoder_input}, target
    if case.family == "graph":
        nodes = shape["num_nodes"]
        x = {"node_features": rng.normal(size=(n, nodes, params["num_features"])).astype("float32"),
             "edge_index": np.stack([_graph_edges(rng, nodes) for _ in range(n)])}
        y = rng.integers(0, params["num_classes"], size=(n, nodes)).astype("int32")
        return x, y
    raise ValueError(f"Unknown family {case.family!r}")


def take(data, start, stop):
    """Rows ``start:stop`` of a NumPy array or a dict of them."""
    if isinstance(data, dict):
        return {key: value[start:stop] for key, value in data.items()}
    return data[start:stop]
