"""The representative model of each family, its benchmark size and its data.

Each ``Case`` names one zoo model of every family (``CASES`` covers
``zoo.constants.FAMILIES``); its sizes come from the registry: the
model's ``"bench"`` size preset (``"full"``) or its toy size (``"tiny"``,
for tests). The same parameters build the hand-written Keras and PyTorch
versions, and ``make_data`` draws the same random NumPy batches for all of
them.

Dropout is 0 everywhere: it costs the same on every side and would make
the hand-written/zoo equivalence checks random.
"""

import dataclasses

import numpy as np

SIZES = ("full", "tiny")
#: The registry size preset that ``"full"`` builds.
BENCH_SIZE = "bench"


@dataclasses.dataclass(frozen=True)
class Case:
    """One family's representative model.

    Attributes:
        family: zoo family name.
        model: zoo registry name.
        shape: data sizes per size (sequence lengths, graph nodes, ...).
        sample: what one sample of the batch is, for the table.
    """

    family: str
    model: str
    shape: dict
    sample: str

    def build_params(self, size):
        """``zoo.build`` overrides: the model's ``"bench"`` registry size (``"full"``),
        or for ``"tiny"`` the toy value of every parameter that size sets, dropout 0.

        Tiny keeps the bench size's parameter set (and nothing the toy size adds,
        such as a second layer), so the hand-written models still match the zoo's.
        """
        # Imported here: benchmarks/run.py chooses the Keras backend after it
        # imports this module, and importing zoo imports Keras.
        import zoo

        if size not in SIZES:
            raise ValueError(f"`size` must be one of {SIZES}. Received: size={size!r}")
        spec = zoo.get_spec(self.model)
        bench = spec.size(BENCH_SIZE)
        if size == "full":
            return dict(bench)
        params = {key: spec.toy.get(key, value) for key, value in bench.items()}
        if "dropout" in spec.defaults:
            params["dropout"] = 0.0
        return params

    def handwritten_params(self, size):
        """``build_params`` for the hand-written models, which have no dropout (it is 0)."""
        params = self.build_params(size)
        dropout = params.pop("dropout", 0.0)
        if dropout:
            raise ValueError(f"The hand-written models have no dropout. Received: dropout={dropout}")
        return params

    def data_shape(self, size):
        return dict(self.shape[size])


_TOKENS = "token sequence (padded, 50-100% real tokens)"
# family, model, data sizes per size, what one sample is.
CASES = {case.family: case for case in (
    Case("classifier", "lstm_classifier", {"full": {"length": 64}, "tiny": {"length": 7}},
         _TOKENS),
    Case("autoencoder", "conv_autoencoder", {"full": {}, "tiny": {}}, "28x28x1 image"),
    Case("decoder", "gpt_decoder", {"full": {"length": 64}, "tiny": {"length": 8}}, _TOKENS),
    Case("seq2seq", "lstm_seq2seq", {"full": {"source_length": 16, "target_length": 16},
                                     "tiny": {"source_length": 5, "target_length": 4}},
         "source/target pair (teacher forcing)"),
    Case("graph", "gcn", {"full": {"num_nodes": 128}, "tiny": {"num_nodes": 6}},
         "graph (128 nodes, 384 directed edge pairs)"),
)}


def get_case(family):
    if family not in CASES:
        raise ValueError(f"Unknown family {family!r}; choose from {', '.join(CASES)}. "
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
