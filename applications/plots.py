"""PNG plots for run directories (matplotlib's Agg canvas: no display, no pyplot state)."""

import matplotlib
import numpy as np


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path):
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path


def training_curves(history, path, title=""):
    """Loss and every other metric per epoch, training and validation, one panel each."""
    names = [key for key in history if not key.startswith("val_")]
    figure = _figure(4 * max(len(names), 1), 3.2)
    for i, name in enumerate(names):
        axes = figure.add_subplot(1, max(len(names), 1), i + 1)
        epochs = np.arange(1, len(history[name]) + 1)
        axes.plot(epochs, history[name], "o-", label="train")
        if f"val_{name}" in history:
            axes.plot(epochs, history[f"val_{name}"], "s--", label="validation")
        axes.set_xlabel("epoch")
        axes.set_title(name)
        axes.grid(alpha=0.3)
        axes.legend()
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def image_grid(rows, path, gap=1):
    """Rows of grey images, one mosaic per row: ``rows`` is a list of
    ``(title or None, images [n, H, W])``."""
    figure = _figure(1.0 * max(len(images) for _, images in rows), 1.25 * len(rows))
    for r, (title, images) in enumerate(rows):
        images = np.clip(np.asarray(images, "float32"), 0, 1)
        count, height, width = images.shape[:3]
        mosaic = np.full((height, count * (width + gap) - gap), np.nan, "float32")
        for i, image in enumerate(images):
            mosaic[:, i * (width + gap):i * (width + gap) + width] = image.reshape(height, width)
        axes = figure.add_subplot(len(rows), 1, r + 1)
        colours = matplotlib.colormaps["gray_r"].with_extremes(bad="#c8c8d8")  # gaps
        axes.imshow(mosaic, cmap=colours, vmin=0, vmax=1, interpolation="nearest")
        axes.set_xticks([])
        axes.set_yticks([])
        if title:
            axes.set_title(title, loc="left", fontsize=9)
    return _save(figure, path)


def latent_scatter(panels, path):
    """Side-by-side 2-D scatters coloured by label.

    ``panels``: a list of ``(title, points [n, 2], labels [n])``.
    """
    figure = _figure(5 * len(panels), 4.4)
    for i, (title, points, labels) in enumerate(panels):
        axes = figure.add_subplot(1, len(panels), i + 1)
        points = np.asarray(points).reshape(len(points), -1)
        y = points[:, 1] if points.shape[1] > 1 else np.zeros(len(points))
        scatter = axes.scatter(points[:, 0], y, c=labels, cmap="tab10", s=8, alpha=0.8,
                               vmin=-0.5, vmax=9.5)
        axes.set_title(title, fontsize=10)
        axes.set_xticks([])
        axes.set_yticks([])
    figure.colorbar(scatter, ax=figure.axes, ticks=range(10), label="label")
    figure.savefig(path, dpi=100)
    return path


def score_histogram(normal, anomalous, threshold, path, labels=("normal", "anomalous")):
    """Histograms of anomaly scores with the threshold, and the ROC curve beside them."""
    from sklearn.metrics import roc_curve

    figure = _figure(9, 3.4)
    axes = figure.add_subplot(1, 2, 1)
    values = np.concatenate([normal, anomalous])
    bins = np.linspace(values.min(), values.max(), 40) if len(values) else 10
    axes.hist(normal, bins=bins, alpha=0.6, label=labels[0], density=True)
    axes.hist(anomalous, bins=bins, alpha=0.6, label=labels[1], density=True)
    axes.axvline(threshold, color="k", linestyle="--", label="threshold")
    axes.set_xlabel("reconstruction error")
    axes.legend(fontsize=8)
    axes = figure.add_subplot(1, 2, 2)
    truth = np.concatenate([np.zeros(len(normal)), np.ones(len(anomalous))])
    if 0 < truth.sum() < len(truth):
        false_positive, true_positive, _ = roc_curve(truth, values)
        axes.plot(false_positive, true_positive)
    axes.plot([0, 1], [0, 1], ":", color="grey")
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.set_title("ROC")
    return _save(figure, path)


def graph_nodes(graph, positions, predicted, truth, train_mask, path, title=""):
    """A networkx graph with nodes coloured by predicted class; ringed where the
    prediction is wrong, squares for the labelled training nodes."""
    figure = _figure(6, 5)
    axes = figure.add_subplot(1, 1, 1)
    nodes = list(graph.nodes)
    xy = np.array([positions[n] for n in nodes])
    for u, v in graph.edges:
        a, b = positions[u], positions[v]
        axes.plot([a[0], b[0]], [a[1], b[1]], color="#bbbbbb", linewidth=0.8, zorder=1)
    colours = np.asarray(predicted)
    for marker, chosen in (("s", train_mask), ("o", ~train_mask)):
        axes.scatter(xy[chosen, 0], xy[chosen, 1], c=colours[chosen], cmap="coolwarm",
                     vmin=0, vmax=max(1, colours.max()), marker=marker, s=120,
                     edgecolors=np.where(colours[chosen] != np.asarray(truth)[chosen], "k",
                                         "none"), linewidths=2, zorder=2)
    axes.set_title(title + f"\n(colour: predicted class; square: labelled for training; "
                           f"black ring: wrong; accuracy "
                           f"{np.mean(colours == np.asarray(truth)):.0%})", fontsize=9)
    axes.set_xticks([])
    axes.set_yticks([])
    return _save(figure, path)
