"""Readers for numeric tables: a CSV time series and node/edge tables of a graph.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "series.csv").write_text("time,value,anomaly\\n0,1.5,0\\n1,9.0,1\\n")
>>> series = read_series(folder / "series.csv", label_column="anomaly")
>>> series.items, series.labels, series.lines
(array([1.5, 9. ], dtype=float32), array([0, 1], dtype=int32), [2, 3])
>>> _ = (folder / "nodes.csv").write_text("id,label,x\\na,red,0.5\\nb,,1.0\\nc,blue,2\\n")
>>> _ = (folder / "edges.csv").write_text("source,target\\na,b\\nb,a\\nc,c\\n")
>>> graph = read_graph_tables(folder / "nodes.csv", folder / "edges.csv")
>>> graph.edge_index.tolist(), graph.labels, graph.feature_columns
([[0, 1], [1, 0]], ['red', '', 'blue'], ['x'])
"""

import dataclasses
import math
import os

import numpy as np

from applications.formats.errors import format_error
from applications.formats.text import Records, column_index, read_csv_table
from zoo.untrusted import quoted

#: The most nodes given identity features (N x N floats) when the nodes file has none.
IDENTITY_LIMIT = 20_000


def _number(path, text, line, column):
    try:
        value = float(text)
    except ValueError:
        raise format_error(path, "is not a number", line=line, field=column,
                           received=quoted(text)) from None
    if not math.isfinite(value):
        raise format_error(path, "is not a finite number", line=line, field=column,
                           received=quoted(text))
    return value


def read_series(path, value_column="value", label_column=None):
    """The values of a time series (and optional 0/1 anomaly flags) from a CSV file.

    Args:
        path: a CSV/TSV file with a header row, one time step a row.
        value_column: the header name of the values.
        label_column: the header name of the 0/1 anomaly flags, or None.

    Returns:
        ``Records`` with ``items`` a float32 array of the values, ``labels``
        an int32 array of the flags (or None) and ``lines`` each row's line.

    Raises:
        DataFormatError: a missing column, a value that is not a finite
            number, a flag other than 0 or 1, a ragged row, or no rows.
    """
    header, rows, row_lines = read_csv_table(path)
    value_at = column_index(path, header, value_column, "--value-column")
    label_at = None if label_column is None else column_index(path, header, label_column,
                                                               "--label-column")
    values = np.empty(len(rows), np.float32)
    flags = None if label_at is None else np.empty(len(rows), np.int32)
    for index, (row, line) in enumerate(zip(rows, row_lines)):
        values[index] = _number(path, row[value_at].strip(), line, value_column)
        if flags is not None:
            text = row[label_at].strip()
            try:
                flag = float(text)
            except ValueError:
                flag = None
            if flag not in (0.0, 1.0):
                raise format_error(path, "is not an anomaly flag: 0 (normal) or 1 (anomaly)",
                                   line=line, field=label_column, received=quoted(text))
            flags[index] = int(flag)
    return Records(os.fspath(path), values, flags, row_lines, "series")


@dataclasses.dataclass(frozen=True)
class GraphTable:
    """A graph read from a nodes table and an edges table.

    Args:
        nodes_path: the nodes file.
        edges_path: the edges file.
        node_features: float32 ``[N, F]``, rows in the nodes file's order.
        edge_index: int32 ``[2, E]`` of node rows: both directions of every
            edge, no duplicates, no self-loops, sorted.
        labels: each node's label string (``""``: unlabelled).
        ids: each node's id, as written.
        feature_columns: the names of the feature columns (empty: identity
            features).
        lines: each node's line in the nodes file.

    Example:

    >>> GraphTable("n.csv", "e.csv", np.eye(2, dtype="float32"),
    ...            np.array([[0, 1], [1, 0]], "int32"), ["a", "b"], ["1", "2"], [],
    ...            [2, 3]).node_features.shape
    (2, 2)
    """

    nodes_path: str
    edges_path: str
    node_features: np.ndarray
    edge_index: np.ndarray
    labels: list
    ids: list
    feature_columns: list
    lines: list


def read_graph_tables(nodes_path, edges_path, label_column="label", id_column="id",
                      source_column="source", target_column="target"):
    """A graph from two CSV files: nodes (id, label, numeric features) and edges.

    Every column of the nodes file other than the id and label is a
    feature and must be numeric; a file with none gets identity features.
    Edges are made undirected; duplicates and self-loops are dropped.

    Args:
        nodes_path: CSV/TSV with a header: ``id_column``, ``label_column``
            (an empty label marks an unlabelled node) and feature columns.
        edges_path: CSV/TSV with a header holding ``source_column`` and
            ``target_column``, node ids as in the nodes file.
        label_column: the label column's name, or None if the file has none.
        id_column: the node id column's name.
        source_column: the edges file's source column.
        target_column: the edges file's target column.

    Returns:
        A ``GraphTable``.

    Raises:
        DataFormatError: a missing column, an empty or duplicate node id, a
            feature that is not a finite number, an edge naming an unknown
            node, too many nodes for identity features, a ragged row, or an
            empty file.
    """
    header, rows, row_lines = read_csv_table(nodes_path)
    id_at = column_index(nodes_path, header, id_column, "--id-column")
    label_at = None if label_column is None else column_index(
        nodes_path, header, label_column, "--label-column")
    feature_at = [at for at in range(len(header)) if at not in (id_at, label_at)]
    count = len(rows)
    if not feature_at and count > IDENTITY_LIMIT:
        raise format_error(nodes_path, f"has no feature columns, and identity features for "
                           f"{count} nodes (over {IDENTITY_LIMIT}) would not fit in memory; "
                           "add numeric feature columns", line=1,
                           received=quoted(",".join(header)))
    features = (np.empty((count, len(feature_at)), np.float32) if feature_at
                else np.eye(count, dtype=np.float32))
    ids, labels, rows_of = [], [], {}
    for index, (row, line) in enumerate(zip(rows, row_lines)):
        node = row[id_at].strip()
        if not node:
            raise format_error(nodes_path, "has an empty node id", line=line, field=id_column,
                               received=quoted(row[id_at]))
        if node in rows_of:
            raise format_error(nodes_path, f"repeats the node id of line "
                               f"{row_lines[rows_of[node]]}", line=line, field=id_column,
                               received=quoted(node))
        rows_of[node] = index
        ids.append(node)
        labels.append("" if label_at is None else row[label_at].strip())
        for column, at in enumerate(feature_at):
            features[index, column] = _number(nodes_path, row[at].strip(), line, header[at])
    edge_header, edge_rows, edge_lines = read_csv_table(edges_path)
    source_at = column_index(edges_path, edge_header, source_column, "--source-column")
    target_at = column_index(edges_path, edge_header, target_column, "--target-column")
    pairs = np.empty((len(edge_rows), 2), np.int64)
    for index, (row, line) in enumerate(zip(edge_rows, edge_lines)):
        for side, (at, name) in enumerate(((source_at, source_column),
                                           (target_at, target_column))):
            node = row[at].strip()
            if node not in rows_of:
                raise format_error(edges_path, f"names a node that is not in "
                                   f"{os.path.basename(os.fspath(nodes_path))}", line=line,
                                   field=name, received=quoted(node))
            pairs[index, side] = rows_of[node]
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    both = np.concatenate([pairs, pairs[:, ::-1]])
    keys = np.unique(both[:, 0] * max(count, 1) + both[:, 1])
    edge_index = np.stack([keys // max(count, 1), keys % max(count, 1)]).astype(np.int32)
    return GraphTable(os.fspath(nodes_path), os.fspath(edges_path), features, edge_index,
                      labels, ids, [header[at] for at in feature_at], row_lines)
