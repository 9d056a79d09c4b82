"""Graph tasks: ``node_classification`` and ``graph_classification``.

Offline: Zachary's karate club (the real 34-member club networkx ships;
label: which faction a member joined) and generated trees vs graphs with
one cycle. tensorflow-datasets offers ``ogbg_molpcba`` molecules (label:
the first of its 128 assays; missing labels are left out). tfds has no
citation graph, so node classification has no tfds set.

Graph batches are disjoint unions padded to one shape for the whole
dataset (one compilation on JAX): an extra graph slot per batch holds the
padding nodes (and padding self-loops) and carries the ignored label -1.

Node classification trains on the full graph by default; with the option
``sample`` (fan-outs, e.g. ``(15, 10)``) it trains on neighbour-sampled
mini-batches of ``batch_size`` seed nodes (``zoo.NeighborSampler``), and
evaluates on the full graph or, with ``sample_eval="sampled"``, on sampled
neighbourhoods too.
"""

import pathlib

import numpy as np

import zoo
from applications import data as data_layer
from applications import plots
from applications.tasks import scoring
from applications.tasks.base import DatasetInfo, TaskData, register_task
from zoo.constants import UNLABELLED
from zoo.models.graph.sampling import check_fanouts, check_parts

NODE_STEPS_PER_EPOCH = 10


def _networkx():
    try:
        import networkx
    except ImportError as error:  # pragma: no cover - networkx is a dependency
        raise ImportError("The offline graph datasets need networkx: pip install networkx. "
                          "Received: networkx missing") from error
    return networkx


# --- node classification ----------------------------------------------------------------------


def karate_club():
    """Zachary's karate club: identity node features, faction labels (0 Mr. Hi, 1 Officer)."""
    nx = _networkx()
    graph = nx.karate_club_graph()
    labels = np.array([0 if graph.nodes[n]["club"] == "Mr. Hi" else 1 for n in graph.nodes],
                      "int32")
    edges = zoo.from_networkx(graph)["edge_index"]
    return {"node_features": np.eye(len(labels), dtype="float32"), "edge_index": edges}, \
        labels, graph


def _node_masks(labels, seed, fractions=(0.3, 0.2), labelled=None):
    """Stratified train/validation/test node labels (-1 outside each split); only the
    nodes in ``labelled`` (default: all) are split."""
    rng = np.random.default_rng(seed)
    splits = [np.full_like(labels, UNLABELLED) for _ in range(3)]
    labelled = np.ones(len(labels), bool) if labelled is None else labelled
    for label in np.unique(labels[labelled]):
        members = rng.permutation(np.flatnonzero((labels == label) & labelled))
        cut_a = max(1, int(round(fractions[0] * len(members))))
        cut_b = cut_a + max(1, int(round(fractions[1] * len(members))))
        for split, chosen in zip(splits, (members[:cut_a], members[cut_a:cut_b],
                                          members[cut_b:])):
            split[chosen] = labels[chosen]
    return splits


def report_karate(model, data, out, seed):
    if "networkx" not in data.extras:  # a user's graph: no drawing of thousands of nodes
        return {}
    nx = _networkx()
    graph, batch = data.extras["networkx"], data.extras["batch"]
    predicted = np.asarray(model.predict({k: v[None] for k, v in batch.items()},
                                         verbose=0))[0].argmax(-1)
    truth = data.extras["labels"]
    train = data.extras["train_labels"] != UNLABELLED
    positions = nx.spring_layout(graph, seed=seed)
    return {"plots": [plots.graph_nodes(graph, positions, predicted, truth, train,
                                        out / "graph_predictions.png",
                                        title=f"{model.zoo_name} on the karate club")],
            "predicted_faction": predicted.tolist()}


#: Model sizes for the citation graphs (Kipf & Welling's and Velickovic et al.'s
#: widths: 16 hidden units; dropout 0.5 on the inputs of every layer).
CITATION_PARAMS = {"hidden_units": (16,), "dropout": 0.5}


def _file_graph(request):
    """``(graph dict, labels, (train, validation, test) label arrays, info)`` of a user's
    Planetoid folder (``--dataset cora|citeseer|pubmed``) or node/edge CSV tables."""
    from applications.formats.errors import format_error

    folder = request.data
    name = request.options.get("dataset")
    if name is not None:
        from applications.formats.planetoid import read_planetoid

        graph = read_planetoid(folder, name)
        features = graph.node_features
        # Row-normalised bag-of-words features, as in both papers.
        features = features / np.maximum(features.sum(axis=1, keepdims=True), 1.0)
        labels = graph.labels
        splits = []
        for index in (graph.train_index, graph.val_index, graph.test_index):
            split = np.full_like(labels, UNLABELLED)
            split[index] = labels[index]
            splits.append(split)
        info = {"format": "planetoid", "split": "public Planetoid split"}
        return ({"node_features": features.astype("float32"), "edge_index": graph.edge_index},
                labels, splits, info, CITATION_PARAMS)
    from applications.formats.labels import label_order
    from applications.formats.tables import read_graph_tables

    path = pathlib.Path(folder)
    nodes, edges = path / "nodes.csv", path / "edges.csv"
    if not path.is_dir() or not nodes.is_file() or not edges.is_file():
        raise format_error(folder, "node classification reads a folder holding nodes.csv "
                           "(id, label, feature columns) and edges.csv (source, target), or "
                           "Planetoid files with --dataset cora|citeseer|pubmed",
                           received="data=" + str(folder))
    table = read_graph_tables(nodes, edges, label_column=request.options["label_column"])
    classes = label_order(label for label in table.labels if label != "")
    if len(classes) < 2:
        raise format_error(nodes, "needs at least two classes among the labelled nodes",
                           field=request.options["label_column"],
                           received=f"{len(classes)} class(es)")
    index = {label: i for i, label in enumerate(classes)}
    labels = np.array([index.get(label, UNLABELLED) for label in table.labels], "int32")
    splits = _node_masks(labels, request.seed, fractions=(0.6, 0.2), labelled=labels >= 0)
    info = {"format": "node/edge CSV", "classes": classes,
            "split": "stratified 60/20/20 of the labelled nodes"}
    return ({"node_features": table.node_features, "edge_index": table.edge_index}, labels,
            splits, info, {})


#: What ``sample_eval`` may be: validation and test on the ``"full"`` graph (default) or
#: on ``"sampled"`` neighbourhoods of their nodes (as training).
SAMPLE_EVAL = ("full", "sampled")


def sampling_options(request):
    """``None`` (full-graph steps, the default) or the checked neighbour-sampling
    options of a node classification run: ``{"fanouts", "batch_size", "parts",
    "eval"}`` from ``request.options`` ``sample`` (fan-outs, e.g. ``(15, 10)``),
    ``sample_eval`` and ``parts``."""
    fanouts = request.options.get("sample")
    if fanouts is None:
        return None
    if isinstance(fanouts, str):
        try:
            fanouts = tuple(int(value) for value in fanouts.split(","))
        except ValueError:
            pass  # left as the string: check_fanouts names it
    fanouts = check_fanouts(fanouts)
    evaluation = request.options.get("sample_eval") or "full"
    if evaluation not in SAMPLE_EVAL:
        raise ValueError(f"sample_eval must be one of {', '.join(SAMPLE_EVAL)}. "
                         f"Received: sample_eval={evaluation!r}")
    parts = request.options.get("parts") or 1
    check_parts(parts, request.batch_size)
    return {"fanouts": list(fanouts), "batch_size": int(request.batch_size),
            "parts": int(parts), "eval": evaluation}


def sampled_pipelines(request, x, splits, single, sampling):
    """Train (and with ``eval="sampled"`` validation and test) as ``zoo.NeighborSampler``s:
    ``batch_size`` seeds per step, one pass over the split's labelled nodes per epoch;
    the seeds carry their labels, every other node -1."""
    csr = zoo.IncomingCSR(x["edge_index"], len(x["node_features"]))
    result = []
    for i, labels in enumerate(splits):
        if i and sampling["eval"] == "full":
            result.append(single(labels, 1))
            continue
        result.append(zoo.NeighborSampler(
            x, sampling["fanouts"], labels=labels, batch_size=sampling["batch_size"],
            parts=sampling["parts"], shuffle=i == 0, seed=request.seed + i, csr=csr))
    return result


@register_task(
    "node_classification",
    description="Semi-supervised node classification: Zachary's karate club (networkx, real "
                "data) with 30% of members labelled; scored by accuracy on the held-out "
                f"members. One epoch = {NODE_STEPS_PER_EPOCH} full-graph steps, or with "
                "neighbour sampling (sample=(15, 10)) one pass over the training nodes.",
    families=("graph",), model_tasks=("node_classification",),
    requirement="a graph node classifier",
    default_model="gcn", default_epochs=10, reporter=report_karate,
    file_formats="the Planetoid files ind.<name>.* (--data DIR --dataset cora|citeseer|pubmed,"
                 " the public split), or a folder holding nodes.csv (id, label, numeric "
                 "feature columns) and edges.csv (source, target)",
    datasets=[DatasetInfo("karate_club", "networkx",
                          "Zachary's karate club, 34 members, 78 friendships, 2 factions "
                          "(real data shipped with networkx)", True)],
)
def load_node_classification(request):
    if request.data is not None:
        graph, labels, (train, validation, test), info, params = _file_graph(request)
        nx_graph = None
    else:
        graph, labels, nx_graph = karate_club()
        train, validation, test = _node_masks(labels, request.seed)
        info, params = {}, {"hidden_units": (16, 16)}
    x = {"node_features": graph["node_features"], "edge_index": graph["edge_index"]}

    def single(y, repeats):
        dataset = data_layer.from_generator_batches([x], [y])
        return data_layer.shuffled_repeat(dataset, 1, repeats, request.seed, shuffle=False)

    extras = {"batch": x, "labels": labels, "train_labels": train}
    if nx_graph is not None:
        extras["networkx"] = nx_graph
    sampling = sampling_options(request)
    if sampling is None:
        pipelines = (single(train, NODE_STEPS_PER_EPOCH), single(validation, 1),
                     single(test, 1))
    else:
        pipelines = sampled_pipelines(request, x, (train, validation, test), single, sampling)
        info = {**info, "sampling": sampling}
    return TaskData(
        task=request.task.name, model=request.spec.name, dataset=request.dataset.name,
        train=pipelines[0], validation=pipelines[1], test=pipelines[2],
        build_overrides={"num_features": graph["node_features"].shape[1],
                         "num_classes": int(labels.max()) + 1},
        metric="accuracy", higher_is_better=True, scorer=scoring.classification,
        task_params=params,
        info={"nodes": int(len(labels)), "edges": int(graph["edge_index"].shape[1] // 2),
              "labelled": {"train": int((train >= 0).sum()),
                           "validation": int((validation >= 0).sum()),
                           "test": int((test >= 0).sum())}, **info},
        extras=extras,
    )


# --- graph classification ---------------------------------------------------------------------


def pad_batches(graph_lists, label_lists, batch_size):
    """Fixed-shape graph batches for several splits at once.

    Returns, per split, ``(batches, labels)``: graph-batch dicts without the
    leading axis and label arrays ``[batch_size + 1]`` (-1 for the padding slot).
    """
    chunks = []
    for graphs, labels in zip(graph_lists, label_lists):
        chunks.append([(graphs[i:i + batch_size], labels[i:i + batch_size])
                       for i in range(0, len(graphs), batch_size)])
    slots = batch_size + 1
    node_pad = max(sum(len(g["node_features"]) for g in graphs) + slots - len(graphs)
                   for split in chunks for graphs, _ in split)
    edge_pad = max(sum(g["edge_index"].shape[1] for g in graphs)
                   for split in chunks for graphs, _ in split)
    features = graph_lists[0][0]["node_features"].shape[1]
    result = []
    for split in chunks:
        batches, labels_out = [], []
        for graphs, labels in split:
            batch = zoo.batch_graphs(graphs)
            nodes = batch["node_features"][0]
            ids = list(batch["graph_ids"][0])
            for slot in range(len(graphs), slots):  # one node per empty slot
                ids.append(slot)
            ids += [slots - 1] * (node_pad - len(ids))
            padded_nodes = np.zeros((node_pad, features), "float32")
            padded_nodes[:len(nodes)] = nodes
            edges = batch["edge_index"][0]
            padding = np.full((2, edge_pad - edges.shape[1]), node_pad - 1, "int32")
            ids = np.array(ids, "int32")
            batches.append({"node_features": padded_nodes,
                            "edge_index": np.concatenate([edges, padding], axis=1),
                            "graph_ids": ids,
                            "graph_sizes": np.bincount(ids, minlength=slots).astype("int32")})
            y = np.full(slots, UNLABELLED, "int32")
            y[:len(labels)] = labels
            labels_out.append(y)
        result.append((batches, labels_out))
    return result


def _molpcba(request):
    splits = {"train": "train", "validation": "validation", "test": "test"}
    parts = data_layer.tfds_splits("ogbg_molpcba", splits, request.limit, request.data_dir,
                                   request.download, request.offline_hint)
    result = {}
    for key, dataset in parts.items():
        graphs, labels = [], []
        for example in dataset.as_numpy_iterator():
            nodes = np.asarray(example["node_feat"], "float32")
            edges = np.asarray(example["edge_index"], "int64").reshape(-1, 2).T
            edges = edges[:, (edges >= 0).all(0) & (edges < len(nodes)).all(0)]
            if len(nodes) == 0:
                continue
            label = float(np.asarray(example["labels"]).reshape(-1)[0])
            graphs.append({"node_features": nodes, "edge_index": edges.astype("int32")})
            labels.append(UNLABELLED if np.isnan(label) else int(label))
        result[key] = (graphs, np.array(labels, "int32"))
    return result


def _trees_and_cycles(request):
    from applications import generated

    sizes = [request.cap(n) for n in (1200, 300, 300)]
    graphs, labels = generated.trees_and_cycles(sum(sizes), seed=request.seed + 1)
    result, start = {}, 0
    for key, size in zip(("train", "validation", "test"), sizes):
        result[key] = (graphs[start:start + size], labels[start:start + size])
        start += size
    return result


@register_task(
    "graph_classification",
    description="Whole-graph classification with a readout: generated trees vs one-cycle "
                "graphs offline, ogbg_molpcba molecules (first assay) from tfds. Scored by "
                "test accuracy.",
    families=("graph",), model_tasks=("graph_classification",),
    requirement="a graph classifier (with a readout)",
    default_model="gin_graph_classifier", default_epochs=15, default_batch_size=32,
    datasets=[DatasetInfo("trees_cycles", "generated",
                          "random trees (label 0) vs trees plus one edge closing a cycle "
                          "(label 1), 6-16 nodes (synthetic)", True),
              DatasetInfo("ogbg_molpcba", "tfds",
                          "molecular graphs (OGB PCBA); label: assay 0, missing ones ignored",
                          False, default_limit=5000)],
)
def load_graph_classification(request):
    splits = _molpcba(request) if request.dataset.name == "ogbg_molpcba" else \
        _trees_and_cycles(request)
    keys = ("train", "validation", "test")
    packed = pad_batches([splits[k][0] for k in keys], [splits[k][1] for k in keys],
                         request.batch_size)
    pipelines = {}
    for key, (batches, labels) in zip(keys, packed):
        dataset = data_layer.from_generator_batches(batches, labels)
        pipelines[key] = data_layer.shuffled_repeat(dataset, len(batches), 1, request.seed,
                                                    shuffle=key == "train")
    all_labels = np.concatenate([splits[k][1] for k in keys])
    return TaskData(
        task=request.task.name, model=request.spec.name, dataset=request.dataset.name,
        train=pipelines["train"], validation=pipelines["validation"], test=pipelines["test"],
        build_overrides={"num_features": splits["train"][0][0]["node_features"].shape[1],
                         "num_classes": max(int(all_labels.max()) + 1, 2)},
        metric="accuracy", higher_is_better=True, scorer=scoring.classification,
        info={f"{k}_graphs": len(splits[k][0]) for k in keys} | {
            "graphs_per_batch": request.batch_size},
    )
