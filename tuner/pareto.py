"""Pareto fronts of multi-objective searches, and a plot of them.

A search with several objectives (say ``val_loss`` and ``latency_ms``, both
to minimise) has no single best trial: it has a *front*, the trials no other
trial beats on every objective at once. This module is pure computation
(numpy) plus one plot (matplotlib, imported only when drawing); the searcher
calls it, and it never imports Keras.

- :func:`dominates` compares two points: ``a`` dominates ``b`` when it is no
  worse in every objective and strictly better in at least one.
- :func:`front` gives the indices of the non-dominated points. A point with
  a missing (``None``) or non-finite value is never on the front, and is
  ignored when judging the others. Identical points are all on the front.
- :func:`plot` writes an image of the trials and their front: a scatter for
  two objectives, parallel coordinates for three or more.

Each objective has a direction, ``"min"`` (lower is better) or ``"max"``.

>>> points = [(0.30, 12.0), (0.25, 20.0), (0.40, 15.0), (0.30, 12.0)]
>>> front(points, ["min", "min"])
[0, 1, 3]
>>> dominates(points[0], points[2], ["min", "min"])
True
"""

import math
import os
import pathlib

import numpy as np

#: The directions an objective may have.
DIRECTIONS = ("min", "max")

#: Image formats :func:`plot` writes, by file suffix.
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}

#: At most this many front trials are named in a parallel-coordinates legend.
LEGEND_LIMIT = 10

_FRONT_COLOUR = "#d62728"
_GREY = "#9a9a9a"
_CHUNK = 256  # rows compared at once in :func:`front` (bounds its memory)


# ------------------------------------------------------------ validation

def _check_directions(directions):
    if isinstance(directions, (str, bytes)):
        raise ValueError(f"Directions are a sequence such as ['min', 'max'], not one string. "
                         f"Received: directions={directions!r}")
    directions = list(directions)
    if not directions:
        raise ValueError(f"At least one direction is needed. Received: directions={directions!r}")
    if any(not isinstance(d, str) or d not in DIRECTIONS for d in directions):
        raise ValueError(f"Each direction is 'min' or 'max'. Received: directions={directions!r}")
    return directions


def _number(value):
    """``value`` as a finite float, or None when it is missing or not finite."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"Each objective value is a number or None. "
                         f"Received: value={value!r}") from None
    return number if math.isfinite(number) else None


def _row(point, directions, name):
    """``point`` as a list of finite floats or Nones, after checking its length."""
    if point is None:
        return None
    if isinstance(point, (str, bytes)):
        raise ValueError(f"Each point is a sequence of numbers. Received: {name}={point!r}")
    values = list(point)
    if len(values) != len(directions):
        raise ValueError(f"Each point has one value per direction ({len(directions)}). "
                         f"Received: {name}={values!r}")
    return [_number(value) for value in values]


# ------------------------------------------------------------ computation

def dominates(a, b, directions):
    """Whether point ``a`` dominates point ``b``.

    ``a`` dominates ``b`` when it is no worse than ``b`` in every objective
    and strictly better in at least one. A point holding ``None`` or a
    non-finite value neither dominates nor is dominated.

    Args:
        a: a sequence of floats, one per objective.
        b: a sequence of floats, one per objective.
        directions: one ``"min"`` or ``"max"`` per objective.

    Returns:
        bool.

    Raises:
        ValueError: a direction is not ``"min"``/``"max"``, or a point's
            length differs from ``len(directions)``.

    >>> dominates([1.0, 5.0], [2.0, 5.0], ["min", "min"])
    True
    >>> dominates([1.0, 5.0], [1.0, 5.0], ["min", "min"])  # equal: neither dominates
    False
    >>> dominates([1.0, 0.9], [2.0, 0.8], ["min", "max"])
    True
    >>> dominates([1.0, 0.7], [2.0, 0.8], ["min", "max"])  # a trade-off
    False
    """
    directions = _check_directions(directions)
    a, b = _row(a, directions, "a"), _row(b, directions, "b")
    if a is None or b is None or None in a or None in b:
        return False
    sign = [1.0 if d == "min" else -1.0 for d in directions]
    a = [s * v for s, v in zip(sign, a)]
    b = [s * v for s, v in zip(sign, b)]
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def front(points, directions):
    """The indices (ascending) of the non-dominated points.

    Args:
        points: a list of sequences of floats, one value per objective. A
            point that is ``None``, or holds ``None`` or a non-finite value
            (NaN, inf), is never on the front and is ignored when judging
            the others.
        directions: one ``"min"`` or ``"max"`` per objective.

    Returns:
        A list of ints. Identical points are all on the front (none is
        strictly better than the other).

    Raises:
        ValueError: a direction is not ``"min"``/``"max"``, or a point's
            length differs from ``len(directions)``.

    >>> front([(1, 9), (2, 7), (3, 8), (2, 7), (None, 1), (float("nan"), 0)], ["min", "min"])
    [0, 1, 3]
    >>> front([(0.1, 0.80), (0.2, 0.90), (0.3, 0.85)], ["min", "max"])
    [0, 1]
    >>> front([], ["min", "max"])
    []
    """
    directions = _check_directions(directions)
    rows = [_row(point, directions, f"points[{i}]") for i, point in enumerate(points)]
    valid = [i for i, row in enumerate(rows) if row is not None and None not in row]
    if not valid:
        return []
    sign = np.array([1.0 if d == "min" else -1.0 for d in directions])
    values = np.array([rows[i] for i in valid], dtype="float64") * sign  # all "min" now
    dominated = np.zeros(len(values), dtype=bool)
    for start in range(0, len(values), _CHUNK):
        block = values[start:start + _CHUNK]  # [b, k]: is row i of block dominated by any j?
        no_worse = (values[None, :, :] <= block[:, None, :]).all(axis=2)
        better = (values[None, :, :] < block[:, None, :]).any(axis=2)
        dominated[start:start + _CHUNK] = (no_worse & better).any(axis=1)
    return [i for i, out in zip(valid, dominated) if not out]


# ------------------------------------------------------------ plotting

def _check_objectives(objectives):
    objectives = list(objectives)
    pairs = []
    for entry in objectives:
        if isinstance(entry, (str, bytes)) or not hasattr(entry, "__len__") or len(entry) != 2:
            raise ValueError(f"Each objective is a (name, direction) pair. "
                             f"Received: objectives={objectives!r}")
        pairs.append((str(entry[0]), entry[1]))
    if len(pairs) < 2:
        raise ValueError(f"A Pareto plot needs at least 2 objectives. "
                         f"Received: objectives={objectives!r}")
    _check_directions([d for _, d in pairs])
    return pairs


def _label(name, direction):
    return f"{name} ({'lower' if direction == 'min' else 'higher'} is better)"


def _short(text, limit=24):
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _drawable(trials, objectives):
    """The trials with a finite value for every objective, as (trial, values) pairs."""
    drawn = []
    for trial in trials:
        values = trial.get("values") or {}
        row = [_number(values.get(name)) for name, _ in objectives]
        if None not in row:
            drawn.append((trial, row))
    return drawn


def _scatter(figure, drawn, on_front, objectives):
    (x_name, x_dir), (y_name, y_dir) = objectives
    axes = figure.add_subplot(1, 1, 1)
    pruned = [row for (trial, row), top in zip(drawn, on_front)
              if not top and trial.get("status") == "PRUNED"]
    others = [row for (trial, row), top in zip(drawn, on_front)
              if not top and trial.get("status") != "PRUNED"]
    best = sorted(((row, trial) for (trial, row), top in zip(drawn, on_front) if top),
                  key=lambda item: (item[0][0], item[0][1]))
    if others:
        axes.scatter([r[0] for r in others], [r[1] for r in others], s=22, color=_GREY,
                     alpha=0.7, label="dominated", zorder=2)
    if pruned:
        axes.scatter([r[0] for r in pruned], [r[1] for r in pruned], s=30, marker="x",
                     color=_GREY, label="pruned", zorder=2)
    if best:
        xs, ys = [r[0] for r, _ in best], [r[1] for r, _ in best]
        # The boundary of the region the front dominates: hold y until the next
        # point when x is minimised, jump first when it is maximised.
        axes.step(xs, ys, where="post" if x_dir == "min" else "pre", color=_FRONT_COLOUR,
                  linewidth=1.5, alpha=0.8, zorder=3)
        axes.scatter(xs, ys, s=46, color=_FRONT_COLOUR, edgecolor="black", linewidth=0.6,
                     label="Pareto front", zorder=4)
        for (x, y), trial in best:
            axes.annotate(_short(trial.get("trial_id", "?")), (x, y), xytext=(4, 4),
                          textcoords="offset points", fontsize=7, zorder=5)
    axes.set_xlabel(_label(x_name, x_dir))
    axes.set_ylabel(_label(y_name, y_dir))
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="best")
    return axes


def _normalise(rows, directions):
    """Each column of ``rows`` scaled to [0, 1], 1 the best (a constant column: 0.5).

    Returns ``(scaled [n, k], lowest [k], highest [k])``, the last two in real units.
    """
    values = np.array(rows, dtype="float64")
    low, high = values.min(axis=0), values.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    scaled = (values - low) / span  # 0 at the lowest value
    for k, direction in enumerate(directions):
        if high[k] == low[k]:
            scaled[:, k] = 0.5
        elif direction == "min":
            scaled[:, k] = 1.0 - scaled[:, k]  # better at the top
    return scaled, low, high


def _parallel(figure, drawn, on_front, objectives):
    from matplotlib import colormaps
    from matplotlib.lines import Line2D

    axes = figure.add_subplot(1, 1, 1)
    scaled, low, high = _normalise([row for _, row in drawn], [d for _, d in objectives])
    xs = np.arange(len(objectives))
    labelled = {"dominated": False, "pruned": False}
    for (trial, _), line, top in zip(drawn, scaled, on_front):
        if top:
            continue
        kind = "pruned" if trial.get("status") == "PRUNED" else "dominated"
        axes.plot(xs, line, color=_GREY, linewidth=0.9, alpha=0.8, zorder=2,
                  linestyle="--" if kind == "pruned" else "-",
                  label="_nolegend_" if labelled[kind] else kind)
        labelled[kind] = True
    best = [(trial, line) for (trial, _), line, top in zip(drawn, scaled, on_front) if top]
    colours = colormaps["tab10"]
    for n, (trial, line) in enumerate(best):
        label = _short(trial.get("trial_id", "?")) if n < LEGEND_LIMIT else "_nolegend_"
        axes.plot(xs, line, color=colours(n % 10), linewidth=2.0, marker="o", markersize=4,
                  zorder=3, label=label)
    for k, (_, direction) in enumerate(objectives):
        axes.plot([k, k], [0.0, 1.0], color="black", linewidth=1.0, zorder=1)
        worst, best_value = (high[k], low[k]) if direction == "min" else (low[k], high[k])
        axes.text(k, -0.04, f"{worst:.4g}", ha="center", va="top", fontsize=7)
        axes.text(k, 1.04, f"{best_value:.4g}", ha="center", va="bottom", fontsize=7)
    axes.set_xticks(xs)
    axes.set_xticklabels([_label(name, d).replace(" (", "\n(") for name, d in objectives],
                         fontsize=8)
    axes.tick_params(axis="x", pad=14, length=0)
    axes.set_yticks([])
    axes.set_ylim(-0.12, 1.12)
    axes.set_xlim(-0.3, len(objectives) - 0.7)
    for side in ("left", "right", "top", "bottom"):
        axes.spines[side].set_visible(False)
    handles, labels = axes.get_legend_handles_labels()
    if len(best) > LEGEND_LIMIT:
        handles.append(Line2D([], [], linestyle="none"))
        labels.append(f"+{len(best) - LEGEND_LIMIT} more on the front")
    axes.legend(handles, labels, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return axes


def plot(path, trials, objectives, *, title=None, overwrite=False):
    """Draw the trials of a search and their Pareto front to an image file.

    Two objectives give a scatter (x the first, y the second): dominated
    trials grey, pruned ones grey crosses, the front in a strong colour,
    joined by a step line and labelled with trial ids. Three or more give
    parallel coordinates: one vertical axis per objective, scaled to [0, 1]
    over the drawn trials with the better end at the top, its real lowest
    and highest values written at its ends; the front trials are coloured
    lines named in the legend (at most ten).

    Args:
        path: the image to write; its suffix chooses the format (``.png``,
            ``.svg`` or ``.pdf``).
        trials: a list of dicts with ``"trial_id"`` (str), ``"values"``
            (objective name -> float or None), ``"pareto"`` (bool: on the
            front) and ``"status"`` (e.g. ``"COMPLETED"``, ``"PRUNED"``).
            Trials missing a value for any objective are not drawn (a caption
            says how many were). If any drawable trial lacks ``"pareto"``,
            the front is computed from the values with :func:`front`.
        objectives: ``(name, direction)`` pairs, in order, direction
            ``"min"`` or ``"max"``.
        title: a title for the figure.
        overwrite: replace ``path`` if it exists (otherwise refuse).

    Returns:
        ``path`` as a ``pathlib.Path``. The file appears whole or not at all.

    Raises:
        ValueError: fewer than two objectives, a bad direction, an unknown
            suffix, or no trial with values for every objective.
        FileExistsError: ``path`` exists and ``overwrite`` is False.
        ImportError: matplotlib is not installed.
    """
    path = pathlib.Path(path)
    objectives = _check_objectives(objectives)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"A plot is written as .png, .svg or .pdf (from the file suffix). "
                         f"Received: path={str(path)!r}")
    trials = list(trials)
    drawn = _drawable(trials, objectives)
    if not drawn:
        raise ValueError(f"Nothing to draw: no trial has a finite value for every objective "
                         f"{[name for name, _ in objectives]}. "
                         f"Received: trials=<{len(trials)} trials>")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(f"pareto_plot needs matplotlib: pip install matplotlib (it comes with "
                          f"the `tuner` extra). Received: path={str(path)!r}") from None
    from zoo.files import check_new_file, publish  # zoo imports Keras: only when drawing

    check_new_file(path, overwrite, what="plot")
    if not path.parent.exists():
        os.makedirs(path.parent, exist_ok=True)

    if all("pareto" in trial for trial, _ in drawn):
        on_front = [bool(trial["pareto"]) for trial, _ in drawn]
    else:
        chosen = set(front([row for _, row in drawn], [d for _, d in objectives]))
        on_front = [i in chosen for i in range(len(drawn))]

    two = len(objectives) == 2
    figure = Figure(figsize=(6.4, 4.8) if two else (1.9 * len(objectives) + 2.6, 4.8), dpi=100)
    FigureCanvasAgg(figure)
    (_scatter if two else _parallel)(figure, drawn, on_front, objectives)
    if title:
        figure.suptitle(str(title), fontsize=11)
    figure.text(0.995, 0.005, f"{len(drawn)} of {len(trials)} trials drawn", ha="right",
                va="bottom", fontsize=7, color="#555555")
    figure.tight_layout(rect=(0, 0.03, 1, 1))

    temp = path.with_name(f".{path.name}.{os.getpid()}.{id(figure):x}.partial{path.suffix}")
    try:
        figure.savefig(temp, format=fmt, dpi=100)
        publish(temp, path, overwrite)
    finally:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
    return path
