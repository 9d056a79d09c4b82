"""Planetoid citation graphs (Cora, CiteSeer, PubMed) from their original files.

The files ``ind.<name>.{x,y,tx,ty,allx,ally,graph}`` are Python 2 pickles
of scipy CSR matrices, numpy arrays and a ``defaultdict`` adjacency list;
``ind.<name>.test.index`` is text. A pickle can run any code when loaded,
so they are read with ``PlanetoidUnpickler``, which builds only numpy
arrays, a stand-in for the CSR matrix (scipy never runs and is not needed)
and a ``defaultdict`` of lists, and refuses every other class:

>>> import os, pickle
>>> _ = open("ind.cora.graph", "wb").write(pickle.dumps(os.system, protocol=2))
>>> read_planetoid_pickle("ind.cora.graph")
Traceback (most recent call last):
...
applications.formats.errors.DataFormatError: ind.cora.graph: refuses to unpickle class \
'...system'; Planetoid files hold only numpy arrays, a scipy CSR matrix and a defaultdict. \
Received: '...system'
"""

import collections
import dataclasses
import io
import os
import pickle

import numpy as np

from applications.formats.errors import DataFormatError, format_error
from zoo.files import read_regular_file
from zoo.untrusted import quoted

#: The datasets in the Planetoid files.
NAMES = ("cora", "citeseer", "pubmed")
#: The most bytes one Planetoid pickle may have (PubMed's largest is about 40 MB).
PICKLE_LIMIT = 1 << 30
#: The most bytes ``test.index`` may have.
INDEX_LIMIT = 64 << 20
#: The most entries a dense feature matrix may have.
DENSE_LIMIT = 1 << 28  # 268M entries: 2 GiB while densified (PubMed: 10M)
#: The validation nodes of the standard split follow the training nodes.
NUM_VAL = 500
_REFUSED = "Planetoid files hold only numpy arrays, a scipy CSR matrix and a defaultdict"


class SparseMatrixStandIn:
    """What a pickled scipy CSR matrix holds, without scipy: its arrays and shape.

    The unpickler builds this in place of ``scipy.sparse.csr_matrix``; no
    scipy code runs. ``to_dense`` checks the arrays and makes the matrix.

    Args:
        (none): the unpickler makes it empty, then fills it with ``__setstate__``.

    >>> matrix = SparseMatrixStandIn()
    >>> matrix.__setstate__({"_shape": (2, 3), "data": np.array([1.0, 2.0]),
    ...                      "indices": np.array([2, 0]), "indptr": np.array([0, 1, 2])})
    >>> matrix.to_dense("x")
    array([[0., 0., 1.],
           [2., 0., 0.]], dtype=float32)
    """

    def __init__(self):
        self.state = {}

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise TypeError(f"a CSR matrix's state is a dict, not {type(state).__name__}")
        self.state = dict(state)

    def to_dense(self, path):
        """The matrix as a dense ``float32`` array.

        Args:
            path: the file it came from, for messages.

        Raises:
            DataFormatError: a missing or inconsistent array, or a matrix too big.
        """
        state = self.state
        if state.get("format", "csr") != "csr":
            raise format_error(path, "holds a sparse matrix that is not CSR",
                               field="format", received=quoted(state.get("format")))
        shape = state.get("_shape", state.get("shape"))
        arrays = {}
        for key in ("data", "indices", "indptr"):
            value = state.get(key)
            if not isinstance(value, np.ndarray) or value.ndim != 1:
                raise format_error(path, "holds a CSR matrix without a 1-D array here",
                                   field=key, received=quoted(type(value).__name__))
            arrays[key] = value
        if (not isinstance(shape, tuple) or len(shape) != 2
                or not all(isinstance(size, (int, np.integer)) and size >= 0 for size in shape)):
            raise format_error(path, "holds a CSR matrix without a 2-D shape", field="shape",
                               received=quoted(shape))
        rows, cols = (int(size) for size in shape)
        if rows * cols > DENSE_LIMIT:
            raise format_error(path, f"holds a {rows} x {cols} matrix, over the limit of "
                                     f"{DENSE_LIMIT:,} dense entries", field="shape",
                               received=quoted(shape))
        data, indices, indptr = arrays["data"], arrays["indices"], arrays["indptr"]
        if data.dtype.kind not in "biuf" or indices.dtype.kind not in "iu" \
                or indptr.dtype.kind not in "iu":
            raise format_error(path, "holds a CSR matrix of non-numeric arrays", field="data",
                               received=quoted(f"{data.dtype}, {indices.dtype}, {indptr.dtype}"))
        nnz = len(indices)
        if (len(indptr) != rows + 1 or len(data) != nnz or indptr[0] != 0
                or indptr[-1] != nnz or np.any(np.diff(indptr) < 0)):
            raise format_error(path, "holds a CSR matrix whose indptr, indices and data do not "
                                     "agree", field="indptr",
                               received=quoted(f"{len(indptr)} indptr, {nnz} indices, "
                                               f"{len(data)} values, {rows} rows"))
        if nnz and (indices.min() < 0 or indices.max() >= cols):
            raise format_error(path, f"holds a CSR column index outside 0..{cols - 1}",
                               field="indices",
                               received=quoted(f"{indices.min()}..{indices.max()}"))
        row_of = np.repeat(np.arange(rows, dtype=np.int64), np.diff(indptr))
        flat = row_of * cols + indices.astype(np.int64)
        dense = np.bincount(flat, weights=data.astype(np.float64), minlength=rows * cols)
        return dense.reshape(rows, cols).astype(np.float32)


class _Latin1Bytes:
    """``_codecs.encode`` as Python 3 pickles ``bytes`` at protocol 2, latin-1 only
    (no ``__dict__``: a pickle cannot set attributes on it)."""

    __slots__ = ()

    def __call__(self, text, encoding):
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            raise TypeError("only latin-1 text becomes bytes")
        return text.encode("latin1")


def _allowed():
    reconstruct = np.zeros(0).__reduce__()[0]       # numpy(._core).multiarray._reconstruct
    scalar = np.float64(0).__reduce__()[0]          # numpy(._core).multiarray.scalar
    allowed = {}
    for package in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[package, "_reconstruct"] = reconstruct
        allowed[package, "scalar"] = scalar
    allowed["numpy", "ndarray"] = np.ndarray
    allowed["numpy", "dtype"] = np.dtype
    allowed["collections", "defaultdict"] = collections.defaultdict
    allowed["_codecs", "encode"] = _Latin1Bytes()
    for module in ("builtins", "__builtin__"):
        for kind in (list, dict, set, int):
            allowed[module, kind.__name__] = kind
    for module in ("scipy.sparse.csr", "scipy.sparse._csr"):
        allowed[module, "csr_matrix"] = SparseMatrixStandIn
    return allowed


class PlanetoidUnpickler(pickle.Unpickler):
    """An unpickler that builds only what Planetoid files hold, and refuses the rest.

    Allowed: numpy's array and dtype reconstruction, ``collections.defaultdict``,
    ``list``/``dict``/``set``/``int``, and ``scipy.sparse`` CSR matrices (built as
    ``SparseMatrixStandIn``). Persistent ids are refused. Python 2 strings are
    read as latin-1 (as numpy arrays pickled by Python 2 need).

    Args:
        data: the pickle's bytes.
        path: the file, for messages.

    >>> import pickle
    >>> PlanetoidUnpickler(pickle.dumps([1, 2], protocol=2), "x").load()
    [1, 2]
    """

    ALLOWED = _allowed()

    def __init__(self, data, path):
        super().__init__(io.BytesIO(data), encoding="latin1")
        self.path = path

    def find_class(self, module, name):
        """The allowed object for ``module.name``.

        Raises:
            DataFormatError: any class or function not allowed.
        """
        found = self.ALLOWED.get((module, name))
        if found is None:
            full = f"{module}.{name}"
            raise format_error(self.path, f"refuses to unpickle class {quoted(full)}; {_REFUSED}",
                               received=quoted(full))
        return found

    def persistent_load(self, pid):
        """Refuse persistent ids (the files have none).

        Raises:
            DataFormatError: always.
        """
        raise format_error(self.path, "refuses a pickle persistent id; " + _REFUSED,
                           received=quoted(pid))


def read_planetoid_pickle(path):
    """The object in one Planetoid pickle, built by ``PlanetoidUnpickler``.

    Args:
        path: the file, at most ``PICKLE_LIMIT`` bytes.

    Returns:
        A numpy array, a ``SparseMatrixStandIn`` or a ``defaultdict``.

    Raises:
        DataFormatError: a refused class, or a truncated or corrupt pickle.
    """
    data = read_regular_file(path, PICKLE_LIMIT)
    try:
        return PlanetoidUnpickler(data, path).load()
    except DataFormatError:
        raise
    except Exception as error:  # any failure of a corrupt pickle
        raise format_error(path, "is a truncated or corrupt pickle",
                           received=quoted(f"{type(error).__name__}: {error}")) from None


def read_test_index(path):
    """The test node ids of ``ind.<name>.test.index``: one integer per line.

    Raises:
        DataFormatError: a line that is not a non-negative integer, or no ids.
    """
    data = read_regular_file(path, INDEX_LIMIT)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise format_error(path, "is not UTF-8 text",
                           received=quoted(data[max(0, error.start - 10):error.end + 10])) from None
    ids = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = int(line.strip(), 10)
        except ValueError:
            value = -1
        if value < 0 or not line.strip().isdigit():
            raise format_error(path, "must hold one non-negative integer per line",
                               line=number, received=quoted(line))
        ids.append(value)
    if not ids:
        raise format_error(path, "holds no test node ids", received=quoted(text[:80]))
    return np.asarray(ids, dtype=np.int64)


@dataclasses.dataclass(frozen=True, eq=False)
class PlanetoidGraph:
    """A Planetoid citation graph and its standard split.

    Args:
        name: "cora", "citeseer" or "pubmed".
        node_features: ``float32`` [N, F], the raw (0/1 or TF-IDF) values.
        edge_index: ``int32`` [2, E], each undirected link in both directions,
            no duplicates or self-loops, sorted.
        labels: ``int32`` [N], the class of each node (0 where a node has none).
        train_index: ``int64`` node ids of the training split.
        val_index: ``int64`` node ids of the validation split.
        test_index: ``int64`` node ids of the test split, sorted.

    >>> graph = PlanetoidGraph("toy", np.zeros((3, 2), np.float32),
    ...                        np.array([[0, 1], [1, 0]], np.int32), np.array([0, 1, 1], np.int32),
    ...                        np.arange(1), np.arange(1, 2), np.arange(2, 3))
    >>> graph.num_nodes, graph.num_features, graph.num_classes, graph.num_edges
    (3, 2, 2, 2)
    """

    name: str
    node_features: np.ndarray
    edge_index: np.ndarray
    labels: np.ndarray
    train_index: np.ndarray
    val_index: np.ndarray
    test_index: np.ndarray

    @property
    def num_nodes(self):
        """The number of nodes N."""
        return self.node_features.shape[0]

    @property
    def num_features(self):
        """The number of features per node F."""
        return self.node_features.shape[1]

    @property
    def num_classes(self):
        """The number of classes (the largest label + 1)."""
        return int(self.labels.max()) + 1 if self.labels.size else 0

    @property
    def num_edges(self):
        """The number of directed edges E (twice the undirected links)."""
        return self.edge_index.shape[1]


def _features(path, value):
    if isinstance(value, SparseMatrixStandIn):
        return value.to_dense(path)
    if isinstance(value, np.ndarray) and value.ndim == 2 and value.dtype.kind in "biuf":
        return value.astype(np.float32)
    raise format_error(path, "must hold a feature matrix (a CSR matrix or a 2-D array)",
                       received=quoted(_describe(value)))


def _one_hot(path, value):
    if isinstance(value, np.ndarray) and value.ndim == 2 and value.dtype.kind in "biuf":
        return value
    raise format_error(path, "must hold one-hot labels (a 2-D numeric array)",
                       received=quoted(_describe(value)))


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    return type(value).__name__


def _node_id(path, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise format_error(path, "must hold integer node ids", field="node id",
                           received=quoted(_describe(value)))
    return int(value)


def _edges(path, graph, num_nodes):
    """The sorted, deduplicated, loop-free [2, E] edges of a dict-of-lists graph."""
    if not isinstance(graph, dict):
        raise format_error(path, "must hold a dict of neighbour lists",
                           received=quoted(_describe(graph)))
    sources, targets = [], []
    for node, neighbours in graph.items():
        node = _node_id(path, node)
        if not isinstance(neighbours, (list, tuple, set)):
            raise format_error(path, "must map each node to a list of neighbours",
                               field=f"node {node}", received=quoted(_describe(neighbours)))
        for neighbour in neighbours:
            sources.append(node)
            targets.append(_node_id(path, neighbour))
    source = np.asarray(sources, dtype=np.int64)
    target = np.asarray(targets, dtype=np.int64)
    ids = np.concatenate([source, target])
    if ids.size and (ids.min() < 0 or ids.max() >= num_nodes):
        bad = ids[(ids < 0) | (ids >= num_nodes)][0]
        raise format_error(path, f"names a node outside 0..{num_nodes - 1} (the nodes with "
                                 f"features)", field="node id", received=quoted(int(bad)))
    keep = source != target
    source, target = source[keep], target[keep]
    codes = np.unique(np.concatenate([source * num_nodes + target,
                                      target * num_nodes + source]))
    return np.stack([codes // num_nodes, codes % num_nodes]).astype(np.int32)


def read_planetoid(folder, name):
    """A Planetoid citation graph with its standard split, read as Kipf & Welling's
    ``utils.load_data`` and PyG's ``read_planetoid_data`` read it.

    Features are ``vstack(allx, tx)`` with the test rows put in node order
    (``features[test.index] = features[sorted(test.index)]``); CiteSeer's
    isolated test nodes get rows of zeros; labels are the argmax of
    ``vstack(ally, ty)``, reordered the same way. The split: training nodes
    ``range(len(y))``, validation the next 500, test the sorted ``test.index``.

    Args:
        folder: the folder holding ``ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index}``.
        name: "cora", "citeseer" or "pubmed".

    Returns:
        A ``PlanetoidGraph``.

    Raises:
        ValueError: an unknown ``name``.
        DataFormatError: a refused class in a pickle, a corrupt file, a bad
            ``test.index`` line, or files whose sizes do not agree.
        FileNotFoundError: a file is missing.
    """
    if name not in NAMES:
        raise ValueError(f"The Planetoid dataset must be one of {', '.join(map(quoted, NAMES))}. "
                         f"Received: name={quoted(name)}")
    paths = {part: os.path.join(os.fspath(folder), f"ind.{name}.{part}")
             for part in ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")}
    loaded = {part: read_planetoid_pickle(path) for part, path in paths.items()
              if part != "test.index"}
    x, tx, allx = (_features(paths[part], loaded[part]) for part in ("x", "tx", "allx"))
    y, ty, ally = (_one_hot(paths[part], loaded[part]) for part in ("y", "ty", "ally"))
    test_order = read_test_index(paths["test.index"])
    for features, labels, pair in ((x, y, ("x", "y")), (tx, ty, ("tx", "ty")),
                                   (allx, ally, ("allx", "ally"))):
        if features.shape[0] != labels.shape[0]:
            raise format_error(paths[pair[1]], f"holds {labels.shape[0]} label rows but "
                                               f"{quoted(paths[pair[0]])} holds "
                                               f"{features.shape[0]} feature rows",
                               received=quoted(labels.shape))
    for part, array in (("tx", tx), ("allx", allx), ("ty", ty), ("ally", ally)):
        reference = x if part.endswith("x") else y
        if array.shape[1] != reference.shape[1]:
            raise format_error(paths[part], f"has {array.shape[1]} columns but "
                                            f"{quoted(paths['x' if part.endswith('x') else 'y'])}"
                                            f" has {reference.shape[1]}",
                               received=quoted(array.shape))
    if len(test_order) != tx.shape[0] or len(np.unique(test_order)) != len(test_order):
        raise format_error(paths["test.index"], f"must hold {tx.shape[0]} distinct node ids, "
                                                f"one per row of {quoted(paths['tx'])}",
                           received=quoted(f"{len(test_order)} ids, "
                                           f"{len(np.unique(test_order))} distinct"))
    test_sorted = np.sort(test_order)
    if name == "citeseer":
        # Some CiteSeer test nodes are isolated and absent: zero rows stand in for them.
        low, span = test_sorted[0], int(test_sorted[-1] - test_sorted[0]) + 1
        tx_extended = np.zeros((span, tx.shape[1]), np.float32)
        tx_extended[test_sorted - low] = tx
        ty_extended = np.zeros((span, ty.shape[1]), ty.dtype)
        ty_extended[test_sorted - low] = ty
        tx, ty = tx_extended, ty_extended
    features = np.vstack([allx, tx])
    one_hot = np.vstack([ally, ty])
    num_nodes = features.shape[0]
    if test_sorted[-1] >= num_nodes:
        raise format_error(paths["test.index"], f"names a node outside 0..{num_nodes - 1}",
                           received=quoted(int(test_sorted[-1])))
    if y.shape[0] + NUM_VAL > num_nodes:
        raise format_error(paths["y"], f"leaves fewer than {NUM_VAL} validation nodes among "
                                       f"{num_nodes}", received=quoted(y.shape))
    features[test_order] = features[test_sorted]
    labels = np.argmax(one_hot, axis=1).astype(np.int32)
    labels[test_order] = labels[test_sorted]
    edge_index = _edges(paths["graph"], loaded["graph"], num_nodes)
    train = np.arange(y.shape[0], dtype=np.int64)
    val = np.arange(y.shape[0], y.shape[0] + NUM_VAL, dtype=np.int64)
    return PlanetoidGraph(name=name, node_features=features.astype(np.float32, copy=False),
                          edge_index=edge_index, labels=labels, train_index=train,
                          val_index=val, test_index=test_sorted.astype(np.int64))

