"""Neighbour-sampled mini-batches for node classification (as PyG's ``NeighborLoader``).

A large graph does not fit one full-batch step; instead each step takes
``batch_size`` seed nodes and, hop by hop, samples up to ``fanouts[i]``
incoming edges of every node reached at the previous hop (without
replacement; a node with fewer in-edges keeps them all). The step's graph
is the subgraph of the *sampled* edges only, relabelled so that the seeds
come first. A model with as many graph layers as there are fan-outs then
computes the seeds' outputs from their sampled neighbourhoods.

- ``IncomingCSR``: the in-edges of every node, sorted by target (built
  once, NumPy, vectorised: seconds for tens of millions of edges).
- ``sample_subgraph``: one seeded sample for given seeds and fan-outs.
- ``NeighborSampler``: a ``keras.utils.PyDataset`` of fixed-shape padded
  graph batches for ``fit``/``evaluate``/``predict``, reshuffled each epoch.
- ``predict_sampled``: class probabilities of given nodes from sampled
  neighbourhoods (evaluation without the full graph).

As with PyG, the nodes of the last hop are not expanded: in the sampled
graph their in-degree is 0 (GCN's added self-loop gives 1). Attention,
mean and sum aggregations read only each target's in-edges, so with fan-outs
at least the largest degree the seeds' outputs equal full-batch ones; GCN's
symmetric normalisation also reads each source's degree, so it needs one more
hop than it has layers for that.

Padding: each batch is ``parts`` disjoint sampled subgraphs (the leading
axis; the graph models treat stacked parts as one disjoint union), every
part padded to the same node and edge counts, fixed for the whole run (JAX
compiles once per shape). Padding nodes have zero features and label -1;
padding edges are self-loops on the last node, always a padding node, so
no real node receives anything from them (GCN degrees, GAT attention
softmaxes, mean and sum aggregations of real nodes are unchanged). The pad
sizes default to an upper bound, per part of ``s = ceil(batch_size / parts)``
seeds: ``s * (1 + f1 + f1*f2 + ...)`` nodes (at most ``N``) plus the padding
node, and ``s * (f1 + f1*f2 + ...)`` edges (at most ``E``). Memory per
batch is about ``parts * nodes * (num_features + hidden) * 4`` bytes: with
1024 seeds and fan-outs (15, 10), 170k nodes (68 MB of 100 float
features); more parts with the same ``batch_size`` give smaller parts.
"""

import math

import keras
import numpy as np

from zoo.constants import UNLABELLED


# --- checks -----------------------------------------------------------------------------------


def check_fanouts(fanouts):
    """``fanouts`` as a tuple of positive ints (one per graph layer), or ValueError."""
    message = ("fan-outs must be positive integers, one per graph layer. "
               f"Received: fanouts={fanouts!r}")
    if isinstance(fanouts, (int, np.integer)) and not isinstance(fanouts, bool):
        fanouts = (fanouts,)
    if not isinstance(fanouts, (tuple, list)) or not fanouts:
        raise ValueError(message)
    for value in fanouts:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(message)
    return tuple(int(value) for value in fanouts)


def _check_positive(name, value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer ({what}). "
                         f"Received: {name}={value!r}")
    return int(value)


def check_parts(parts, batch_size):
    """``parts`` as an int in [1, batch_size], or ValueError."""
    parts = _check_positive("parts", parts, "disjoint subgraphs per batch")
    if parts > batch_size:
        raise ValueError(f"`parts` must be at most batch_size={batch_size} (each part needs "
                         f"a seed). Received: parts={parts}")
    return parts


# --- the in-edge index ------------------------------------------------------------------------


class IncomingCSR:
    """The incoming edges of every node of a graph, grouped by target (CSR).

    Attributes:
        num_nodes: N.
        indptr: int64 ``[N + 1]``; the in-edges of node ``v`` are the
            positions ``indptr[v]:indptr[v + 1]``.
        sources: int32 ``[E]``: the source of the edge at each position.
        edge_ids: int64 ``[E]``: its column in the original ``edge_index``.

    >>> import numpy as np
    >>> from zoo.models.graph.sampling import IncomingCSR
    >>> csr = IncomingCSR(np.array([[1, 2, 0], [0, 0, 1]]), num_nodes=3)
    >>> csr.indptr.tolist(), csr.sources.tolist()
    ([0, 2, 3, 3], [1, 2, 0])
    """

    def __init__(self, edge_index, num_nodes):
        edges = np.asarray(edge_index)
        if edges.ndim != 2 or edges.shape[0] != 2:
            raise ValueError("`edge_index` must be [2, num_edges]. "
                             f"Received: edge_index.shape={edges.shape}")
        self.num_nodes = int(num_nodes)
        targets = edges[1]
        if edges.size and (edges.min() < 0 or edges.max() >= self.num_nodes):
            raise ValueError(f"`edge_index` holds node ids outside [0, {self.num_nodes}). "
                             f"Received: edge_index max={int(edges.max())}, "
                             f"min={int(edges.min())}")
        self.edge_ids = np.argsort(targets, kind="stable")
        self.sources = edges[0][self.edge_ids].astype("int32")
        counts = np.bincount(targets, minlength=self.num_nodes)
        self.indptr = np.zeros(self.num_nodes + 1, "int64")
        np.cumsum(counts, out=self.indptr[1:])

    @property
    def num_edges(self):
        return len(self.sources)

    def degrees(self, nodes=None):
        """In-degrees of ``nodes`` (default: all)."""
        degrees = np.diff(self.indptr)
        return degrees if nodes is None else degrees[nodes]


def _segment_arange(lengths):
    """``concatenate([arange(n) for n in lengths])``, vectorised."""
    lengths = np.asarray(lengths, "int64")
    ends = np.cumsum(lengths)
    return np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - lengths, lengths)


def _sample_hop(csr, frontier, fanout, rng):
    """CSR positions and targets of up to ``fanout`` in-edges of each frontier node,
    drawn without replacement (all of them where the degree is at most ``fanout``)."""
    starts = csr.indptr[frontier]
    degrees = csr.indptr[frontier + 1] - starts
    full = degrees <= fanout
    # Nodes that keep every in-edge.
    full_deg = degrees[full]
    positions = [np.repeat(starts[full], full_deg) + _segment_arange(full_deg)]
    targets = [np.repeat(frontier[full], full_deg)]
    # The others: random keys per edge, sorted within each node, the first `fanout` kept.
    part_deg, part_start = degrees[~full], starts[~full]
    if len(part_deg):
        segment = np.repeat(np.arange(len(part_deg)), part_deg)
        candidates = np.repeat(part_start, part_deg) + _segment_arange(part_deg)
        order = np.argsort(segment + rng.random(len(segment)), kind="stable")
        keep = order[_segment_arange(part_deg) < fanout]
        positions.append(candidates[keep])
        targets.append(frontier[~full][segment[keep]])
    return np.concatenate(positions), np.concatenate(targets)


def sample_subgraph(csr, seeds, fanouts, rng):
    """One neighbour sample around ``seeds``: the subgraph of the sampled edges.

    Hop 1 samples up to ``fanouts[0]`` in-edges of every seed; hop ``i``
    samples up to ``fanouts[i - 1]`` in-edges of each node first reached at
    the hop before (each node is expanded once).

    Args:
        csr: the graph's ``IncomingCSR``.
        seeds: distinct int node ids.
        fanouts: positive ints, one per hop.
        rng: a ``numpy.random.Generator``.

    Returns:
        dict: ``nodes`` (int64 global ids, the seeds first, in their order),
        ``edge_index`` (int32 ``[2, E']`` in the local numbering; source,
        target) and ``edge_ids`` (int64 ``[E']``: columns of the original
        ``edge_index``, e.g. to pick ``edge_weight``).

    >>> import numpy as np
    >>> from zoo.models.graph.sampling import IncomingCSR, sample_subgraph
    >>> csr = IncomingCSR(np.array([[1, 2, 3], [0, 0, 1]]), num_nodes=4)
    >>> sample = sample_subgraph(csr, [0], (5, 5), np.random.default_rng(0))
    >>> sample["nodes"].tolist(), sample["edge_index"].tolist()
    ([0, 1, 2, 3], [[1, 2, 3], [0, 0, 1]])
    """
    fanouts = check_fanouts(fanouts)
    seeds = np.asarray(seeds, "int64").reshape(-1)
    local = np.full(csr.num_nodes, -1, "int64")
    local[seeds] = np.arange(len(seeds))
    if (local[seeds] != np.arange(len(seeds))).any():
        raise ValueError(f"`seeds` must be distinct node ids. Received: {len(seeds)} seeds, "
                         f"{len(np.unique(seeds))} distinct")
    nodes, frontier = [seeds], seeds
    count = len(seeds)
    all_positions, all_targets = [], []
    for fanout in fanouts:
        if not len(frontier):
            break
        positions, targets = _sample_hop(csr, frontier, fanout, rng)
        sources = csr.sources[positions]
        new = np.unique(sources[local[sources] < 0])
        local[new] = np.arange(count, count + len(new))
        count += len(new)
        nodes.append(new)
        frontier = new
        all_positions.append(positions)
        all_targets.append(targets)
    positions = np.concatenate(all_positions) if all_positions else np.zeros(0, "int64")
    targets = np.concatenate(all_targets) if all_targets else np.zeros(0, "int64")
    edge_index = np.stack([local[csr.sources[positions]], local[targets]]).astype("int32")
    return {"nodes": np.concatenate(nodes), "edge_index": edge_index,
            "edge_ids": csr.edge_ids[positions]}


# --- padded batches ---------------------------------------------------------------------------


def padded_sizes(batch_size, parts, fanouts, num_nodes, num_edges):
    """``(nodes, edges)`` per part that every sample of ``batch_size`` seeds split into
    ``parts`` fits: the worst case of the fan-outs (capped by the graph's own sizes),
    plus one padding node.

    >>> from zoo.models.graph.sampling import padded_sizes
    >>> padded_sizes(1024, 1, (15, 10), 2_400_000, 60_000_000)
    (169985, 168960)
    """
    seeds = math.ceil(batch_size / parts)
    reach, layer = 1, 1
    for fanout in fanouts:
        layer *= fanout
        reach += layer
    return min(seeds * reach, num_nodes) + 1, min(seeds * (reach - 1), num_edges)


class NeighborSampler(keras.utils.PyDataset):
    """Neighbour-sampled, fixed-shape graph batches: a ``PyDataset`` for ``fit``,
    ``evaluate`` and ``predict`` (one pass over the seeds per epoch).

    Each step takes the next ``batch_size`` seeds (shuffled each epoch with
    ``shuffle``), splits them into ``parts`` nearly equal groups and samples
    each group's neighbourhood (``sample_subgraph``); every part is padded
    to the same sizes and the parts are stacked on the leading axis, which
    the graph models read as one disjoint union. The last batch may hold
    fewer seeds (nothing is dropped; the rest is padding). Samples are a
    function of ``(seed, epoch, step)`` only.

    Args:
        graph: dict with ``node_features`` ``[N, F]``, ``edge_index``
            ``[2, E]`` and optionally ``edge_weight`` ``[E]`` (then passed on).
        fanouts: positive ints, one per graph layer, e.g. ``(15, 10)``.
        seeds: the node ids to classify; default: the nodes with a label
            (``labels >= 0``), or every node without ``labels``.
        labels: int ``[N]`` labels (-1 = none), or None (batches are ``x``
            only). In a batch the seeds carry their labels, every other node
            -1, so a masked loss counts the seeds only.
        batch_size: seeds per step.
        parts: disjoint subgraphs per step (the leading axis).
        shuffle: reshuffle the seeds and resample each epoch; with False
            every epoch gives the same batches.
        seed: the random seed.
        max_nodes, max_edges: pad sizes per part (default: ``padded_sizes``).
        csr: a prebuilt ``IncomingCSR`` of the graph (shared by samplers).

    >>> import numpy as np
    >>> import zoo
    >>> from zoo.models.graph.common import random_graph
    >>> graph = random_graph(np.random.default_rng(0), 20, 3)
    >>> sampler = zoo.NeighborSampler(graph, (3, 2), labels=np.arange(20) % 3, batch_size=8,
    ...                               parts=2)
    >>> x, y = sampler[0]
    >>> len(sampler), x["node_features"].shape, y.shape
    (3, (2, 21, 3), (2, 21))
    >>> model = zoo.build("gcn", size="toy")
    >>> history = model.fit(sampler, epochs=1, verbose=0)
    """

    def __init__(self, graph, fanouts, seeds=None, labels=None, batch_size=1024, parts=1,
                 shuffle=True, seed=0, max_nodes=None, max_edges=None, csr=None, **kwargs):
        super().__init__(**kwargs)
        self.fanouts = check_fanouts(fanouts)
        self.batch_size = _check_positive("batch_size", batch_size, "seed nodes per step")
        self.parts = check_parts(parts, self.batch_size)
        if not isinstance(graph, dict) or "node_features" not in graph \
                or "edge_index" not in graph:
            raise ValueError("`graph` must be a dict with node_features [N, F] and edge_index "
                             f"[2, E]. Received: graph={type(graph).__name__}")
        self.features = np.asarray(graph["node_features"], "float32")
        if self.features.ndim != 2:
            raise ValueError("`node_features` must be [num_nodes, num_features]. "
                             f"Received: node_features.shape={self.features.shape}")
        num_nodes = len(self.features)
        self.csr = csr if csr is not None else IncomingCSR(graph["edge_index"], num_nodes)
        weights = graph.get("edge_weight")
        self.edge_weight = None if weights is None else np.asarray(weights, "float32")
        self.labels = None if labels is None else np.asarray(labels).astype("int32")
        if self.labels is not None and self.labels.shape != (num_nodes,):
            raise ValueError(f"`labels` must hold one label per node ({num_nodes}). "
                             f"Received: labels.shape={self.labels.shape}")
        if seeds is None:
            seeds = (np.arange(num_nodes) if self.labels is None
                     else np.flatnonzero(self.labels != UNLABELLED))
        self.seeds = np.asarray(seeds, "int64").reshape(-1)
        if not len(self.seeds):
            raise ValueError("`seeds` must hold at least one node. Received: seeds=[]")
        if self.seeds.min() < 0 or self.seeds.max() >= num_nodes:
            raise ValueError(f"`seeds` must be node ids in [0, {num_nodes}). "
                             f"Received: seeds max={int(self.seeds.max())}")
        self.shuffle, self.seed, self.epoch = bool(shuffle), int(seed), 0
        bound_nodes, bound_edges = padded_sizes(self.batch_size, self.parts, self.fanouts,
                                                num_nodes, self.csr.num_edges)
        self.max_nodes = bound_nodes if max_nodes is None else _check_positive(
            "max_nodes", max_nodes, "padded nodes per part")
        self.max_edges = bound_edges if max_edges is None else _check_positive(
            "max_edges", max_edges, "padded edges per part")

    def __len__(self):
        return math.ceil(len(self.seeds) / self.batch_size)

    def on_epoch_end(self):
        if self.shuffle:
            self.epoch += 1

    def order(self):
        """The seeds in this epoch's order."""
        if not self.shuffle:
            return self.seeds
        return self.seeds[np.random.default_rng([self.seed, self.epoch]).permutation(
            len(self.seeds))]

    def batch_seeds(self, index):
        """The seeds of step ``index`` of this epoch, one array per part."""
        if not 0 <= index < len(self):
            raise IndexError(f"`index` must be in [0, {len(self)}). Received: index={index}")
        chosen = self.order()[index * self.batch_size:(index + 1) * self.batch_size]
        return np.array_split(chosen, min(self.parts, len(chosen)))

    def sample(self, index):
        """The unpadded samples (``sample_subgraph`` dicts) of step ``index``."""
        rng = np.random.default_rng([self.seed, self.epoch, index])
        return [sample_subgraph(self.csr, seeds, self.fanouts, rng)
                for seeds in self.batch_seeds(index)]

    def __getitem__(self, index):
        samples = self.sample(index)
        n, e = self.max_nodes, self.max_edges
        parts = self.parts
        features = np.zeros((parts, n, self.features.shape[1]), "float32")
        edges = np.full((parts, 2, e), n - 1, "int32")
        labels = np.full((parts, n), UNLABELLED, "int32")
        weights = None if self.edge_weight is None else np.ones((parts, e), "float32")
        for p, (sample, seeds) in enumerate(zip(samples, self.batch_seeds(index))):
            nodes, edge_index = sample["nodes"], sample["edge_index"]
            if len(nodes) >= n or edge_index.shape[1] > e:
                raise ValueError(
                    f"A sample needs {len(nodes)} nodes (plus one for padding) and "
                    f"{edge_index.shape[1]} edges; raise max_nodes/max_edges. Received: "
                    f"max_nodes={n}, max_edges={e}")
            features[p, :len(nodes)] = self.features[nodes]
            edges[p, :, :edge_index.shape[1]] = edge_index
            if weights is not None:
                weights[p, :edge_index.shape[1]] = self.edge_weight[sample["edge_ids"]]
            if self.labels is not None:
                labels[p, :len(seeds)] = self.labels[seeds]
        x = {"node_features": features, "edge_index": edges}
        if weights is not None:
            x["edge_weight"] = weights
        return x if self.labels is None else (x, labels)


def predict_sampled(model, graph, nodes, fanouts, batch_size=1024, parts=1, seed=0,
                    csr=None):
    """A node classifier's outputs for ``nodes``, each computed from a sampled
    neighbourhood (``NeighborSampler`` without shuffling): ``[len(nodes), C]``.

    >>> import numpy as np
    >>> import zoo
    >>> from zoo.models.graph.common import random_graph
    >>> graph = random_graph(np.random.default_rng(0), 20, 3)
    >>> model = zoo.build("gcn", size="toy")
    >>> zoo.predict_sampled(model, graph, [4, 0, 7], (3, 2), batch_size=2).shape
    (3, 3)
    """
    sampler = NeighborSampler(graph, fanouts, seeds=nodes, batch_size=batch_size, parts=parts,
                              shuffle=False, seed=seed, csr=csr)
    outputs = []
    for index in range(len(sampler)):
        values = keras.ops.convert_to_numpy(model.predict_on_batch(sampler[index]))
        for p, seeds in enumerate(sampler.batch_seeds(index)):
            outputs.append(values[p, :len(seeds)])
    return np.concatenate(outputs)
