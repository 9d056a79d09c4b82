"""Pareto fronts and their plot (tuner.pareto): pure numpy + matplotlib, no Keras needed."""

import itertools
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from tuner import pareto
from tuner.pareto import dominates, front

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------ a reference front

def _usable(point):
    return point is not None and all(v is not None and math.isfinite(v) for v in point)


def _beats(q, p, directions):
    """``q`` dominates ``p`` by the definition, written out with plain loops."""
    if not (_usable(q) and _usable(p)):
        return False
    no_worse = all((x <= y) if d == "min" else (x >= y) for x, y, d in zip(q, p, directions))
    better = any((x < y) if d == "min" else (x > y) for x, y, d in zip(q, p, directions))
    return no_worse and better


def _brute_force_front(points, directions):
    """The O(n^2) definition (independent of the module)."""
    return [i for i, p in enumerate(points)
            if _usable(p) and not any(_beats(q, p, directions) for q in points)]


# ------------------------------------------------------------ dominates

def test_dominates_by_direction():
    assert dominates([1, 2], [2, 2], ["min", "min"])
    assert not dominates([2, 2], [1, 2], ["min", "min"])
    assert dominates([2, 2], [1, 2], ["max", "min"])
    assert dominates([1, 0.9], [1, 0.8], ["min", "max"])
    assert not dominates([1, 0.8], [1, 0.9], ["min", "max"])
    assert not dominates([1, 3], [2, 2], ["min", "min"])  # a trade-off: neither
    assert not dominates([2, 2], [1, 3], ["min", "min"])


def test_equal_points_do_not_dominate_each_other():
    assert not dominates([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], ["min", "max", "min"])


def test_missing_or_non_finite_points_neither_dominate_nor_are_dominated():
    for bad in ([None, 0.0], [float("nan"), 0.0], [float("-inf"), 0.0]):
        assert not dominates(bad, [5.0, 5.0], ["min", "min"])
        assert not dominates([0.0, 0.0], bad, ["min", "min"])


# ------------------------------------------------------------ front, by hand

def test_front_min_min_with_ties():
    points = [(1, 5), (2, 3), (3, 3), (4, 1), (2, 3), (5, 5), (1, 6)]
    #  (3, 3) is beaten by (2, 3); (5, 5) by all; (1, 6) by (1, 5); the two (2, 3) are both kept.
    assert front(points, ["min", "min"]) == [0, 1, 3, 4]


def test_front_min_max():
    # loss to minimise, accuracy to maximise
    points = [(0.30, 0.80), (0.20, 0.85), (0.25, 0.90), (0.40, 0.95), (0.50, 0.90)]
    assert front(points, ["min", "max"]) == [1, 2, 3]
    # The same points with the directions swapped give another front.
    assert front(points, ["max", "min"]) == [0, 4]


def test_front_three_objectives():
    points = [
        (0.2, 10.0, 0.9),   # 0: front
        (0.2, 12.0, 0.9),   # 1: beaten by 0 (slower)
        (0.1, 30.0, 0.7),   # 2: front (best loss)
        (0.3, 5.0, 0.6),    # 3: front (fastest)
        (0.2, 10.0, 0.95),  # 4: front, and beats 0 (same loss and time, better accuracy)
        (0.3, 5.0, 0.6),    # 5: identical to 3: front too
    ]
    assert front(points, ["min", "min", "max"]) == [2, 3, 4, 5]


def test_front_ignores_missing_and_non_finite_points():
    nan, inf = float("nan"), float("inf")
    points = [(None, 0.0), (nan, 0.0), (-inf, -inf), (1.0, 1.0), (2.0, 0.5), None, (0.5, nan)]
    # (-inf, -inf) would beat everything if it counted.
    assert front(points, ["min", "min"]) == [3, 4]
    assert front([(None, 1.0), (float("nan"), 2.0)], ["min", "min"]) == []
    assert front([], ["min"]) == []


def test_front_accepts_numpy_arrays():
    points = np.array([[1.0, 2.0], [2.0, 1.0], [2.0, 2.0]])
    assert front(points, ("min", "min")) == [0, 1]


@pytest.mark.parametrize("directions", [
    ["min", "min"], ["min", "max"], ["max", "max"], ["min", "max", "min"],
    ["max", "max", "max", "min"], ["min"],
])
def test_front_matches_the_definition_on_random_points(directions):
    rng = np.random.default_rng(len(directions) * 7 + directions.count("max"))
    for trial in range(40):
        n = int(rng.integers(0, 40))
        if trial % 2:  # small integers: many ties and duplicates
            values = rng.integers(0, 4, size=(n, len(directions))).astype(float)
        else:
            values = rng.normal(size=(n, len(directions)))
        points = [list(row) for row in values]
        for i in range(n):  # spoil some points
            roll = rng.random()
            if roll < 0.08:
                points[i][int(rng.integers(len(directions)))] = None
            elif roll < 0.14:
                points[i][int(rng.integers(len(directions)))] = float(
                    rng.choice([np.nan, np.inf, -np.inf]))
        expected = _brute_force_front(points, directions)
        assert front(points, directions) == expected
        # dominates agrees with the definition too.
        for i, j in itertools.islice(itertools.permutations(range(n), 2), 200):
            assert dominates(points[i], points[j], directions) == _beats(
                points[i], points[j], directions)


def test_front_is_fast_enough_for_large_searches():
    rng = np.random.default_rng(0)
    points = rng.random((3000, 3))
    chosen = front(points, ["min", "min", "max"])
    assert chosen == sorted(chosen) and 0 < len(chosen) < 3000


# ------------------------------------------------------------ bad arguments

@pytest.mark.parametrize("directions", [
    ["min", "up"], ["MIN", "max"], "min", [], [None, "min"],
])
def test_bad_directions_are_refused(directions):
    with pytest.raises(ValueError, match="Received: directions=") as info:
        front([(1.0, 2.0)], directions)
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="Received:"):
        dominates([1.0, 2.0], [2.0, 1.0], directions)


def test_a_direction_error_names_the_value():
    with pytest.raises(ValueError) as info:
        front([(1.0, 2.0)], ["min", "up"])
    assert str(info.value) == "Each direction is 'min' or 'max'. Received: directions=['min', 'up']"


@pytest.mark.parametrize("points", [[(1.0, 2.0), (1.0, 2.0, 3.0)], [(1.0,)], ["ab"]])
def test_points_of_the_wrong_length_are_refused(points):
    with pytest.raises(ValueError, match="Received: points\\[") as info:
        front(points, ["min", "min"])
    assert "\n" not in str(info.value)


def test_dominates_refuses_points_of_the_wrong_length():
    with pytest.raises(ValueError, match="Received: b="):
        dominates([1.0, 2.0], [1.0], ["min", "min"])


def test_the_module_imports_neither_keras_nor_matplotlib():
    code = ("import sys, tuner.pareto; "
            "print(sorted(m for m in ('keras', 'keras_tuner', 'matplotlib', "
            "'matplotlib.pyplot') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# ------------------------------------------------------------ plot

TWO = [("val_loss", "min"), ("latency_ms", "min")]
THREE = [("val_loss", "min"), ("latency_ms", "min"), ("val_accuracy", "max")]


def _trials():
    rows = [  # trial_id, val_loss, latency_ms, val_accuracy, status
        ("front-a", 0.20, 30.0, 0.90, "COMPLETED"),
        ("front-b", 0.30, 10.0, 0.85, "COMPLETED"),
        ("front-c", 0.25, 20.0, 0.95, "COMPLETED"),
        ("dom-d", 0.40, 35.0, 0.70, "COMPLETED"),
        ("dom-e", 0.35, 25.0, 0.80, "COMPLETED"),
        ("pruned-f", 0.60, 40.0, 0.50, "PRUNED"),
        ("missing-g", None, 5.0, 0.99, "FAILED"),
        ("nan-h", float("nan"), 1.0, 0.99, "COMPLETED"),
    ]
    trials = []
    for trial_id, loss, latency, accuracy, status in rows:
        trials.append({"trial_id": trial_id, "status": status,
                       "values": {"val_loss": loss, "latency_ms": latency,
                                  "val_accuracy": accuracy},
                       "pareto": trial_id.startswith("front")})
    return trials


def _pixels(path):
    from matplotlib.image import imread

    return imread(path)[..., :3]


def _front_coloured(image):
    """How many pixels are near the front's red (#d62728)."""
    red = np.array([0xd6, 0x27, 0x28]) / 255
    return int((np.abs(image - red).max(axis=-1) < 0.08).sum())


def _svg_text(path, trials, objectives, **kwargs):
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text as text, to search it
        pareto.plot(path, trials, objectives, **kwargs)
    return path.read_text()


def test_plot_two_objectives_writes_a_png(tmp_path):
    path = pareto.plot(tmp_path / "front.png", _trials(), TWO, title="search 1")
    assert path == tmp_path / "front.png"
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000
    image = _pixels(path)
    assert (image < 0.9).any()  # not blank
    assert _front_coloured(image) > 50  # the front is drawn in its colour
    assert sorted(os.listdir(tmp_path)) == ["front.png"]  # no partial file left behind


def test_without_a_front_nothing_is_drawn_in_the_front_colour(tmp_path):
    trials = _trials()
    for trial in trials:
        trial["pareto"] = False
    image = _pixels(pareto.plot(tmp_path / "none.png", trials, TWO))
    assert (image < 0.9).any()
    assert _front_coloured(image) == 0


def test_plot_two_objectives_names_front_trials_pruned_and_counts(tmp_path):
    text = _svg_text(tmp_path / "front.svg", _trials(), TWO)
    for trial_id in ("front-a", "front-b", "front-c"):
        assert trial_id in text
    assert "dom-d" not in text and "pruned-f" not in text  # only front points are annotated
    assert "val_loss (lower is better)" in text and "latency_ms (lower is better)" in text
    assert "pruned" in text  # the legend entry
    assert "6 of 8 trials drawn" in text


def test_plot_without_pruned_trials_has_no_pruned_entry(tmp_path):
    trials = [t for t in _trials() if t["status"] != "PRUNED"]
    text = _svg_text(tmp_path / "front.svg", trials, TWO)
    assert "pruned" not in text
    assert "5 of 7 trials drawn" in text


def test_plot_says_higher_is_better_for_max(tmp_path):
    text = _svg_text(tmp_path / "front.svg", _trials(), [THREE[0], THREE[2]])
    assert "val_accuracy (higher is better)" in text


def test_plot_three_objectives_writes_a_png_and_an_svg(tmp_path):
    path = pareto.plot(tmp_path / "parallel.png", _trials(), THREE)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000
    image = _pixels(path)
    assert (image < 0.9).any()

    text = _svg_text(tmp_path / "parallel.svg", _trials(), THREE)
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    for trial_id in ("front-a", "front-b", "front-c"):  # the legend
        assert trial_id in text
    assert "dom-d" not in text
    # Each axis shows its real lowest and highest value.
    for value in ("0.2", "0.6", "10", "40", "0.5", "0.95"):
        assert f">{value}<" in text, value
    assert "6 of 8 trials drawn" in text


def test_parallel_axes_put_the_better_end_at_the_top():
    rows = [(0.2, 10.0, 0.9), (0.4, 30.0, 0.5), (0.3, 20.0, 0.7), (0.3, 10.0, 0.7)]
    scaled, low, high = pareto._normalise(rows, ["min", "max", "min"])
    np.testing.assert_allclose(scaled, [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.5, 0.5, 0.5],
                                        [0.5, 0.0, 0.5]])
    np.testing.assert_allclose(low, [0.2, 10.0, 0.5])
    np.testing.assert_allclose(high, [0.4, 30.0, 0.9])
    constant, _, _ = pareto._normalise([(1.0, 2.0), (1.0, 3.0)], ["min", "max"])
    np.testing.assert_allclose(constant[:, 0], [0.5, 0.5])


def test_plot_names_at_most_ten_front_trials(tmp_path):
    trials = [{"trial_id": f"trial-{i:02d}", "status": "COMPLETED", "pareto": True,
               "values": {"val_loss": i / 10, "latency_ms": 20.0 - i, "val_accuracy": 0.5}}
              for i in range(13)]
    text = _svg_text(tmp_path / "many.svg", trials, THREE)
    named = [i for i in range(13) if f"trial-{i:02d}" in text]
    assert named == list(range(10))
    assert "+3 more on the front" in text


def test_plot_computes_the_front_when_trials_lack_the_flag(tmp_path):
    trials = _trials()
    for trial in trials:
        del trial["pareto"]
    text = _svg_text(tmp_path / "front.svg", trials, TWO)
    for trial_id in ("front-a", "front-b", "front-c"):
        assert trial_id in text
    assert "dom-d" not in text


def test_plot_writes_pdf(tmp_path):
    path = pareto.plot(tmp_path / "front.pdf", _trials(), TWO)
    assert path.read_bytes().startswith(b"%PDF")


def test_plot_creates_a_missing_folder(tmp_path):
    path = pareto.plot(tmp_path / "a" / "b" / "front.png", _trials(), TWO)
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_an_existing_file_is_kept_unless_overwrite(tmp_path):
    path = tmp_path / "front.png"
    path.write_bytes(b"the user's own file")
    with pytest.raises(FileExistsError, match="Received:"):
        pareto.plot(path, _trials(), TWO)
    assert path.read_bytes() == b"the user's own file"
    assert sorted(os.listdir(tmp_path)) == ["front.png"]

    pareto.plot(path, _trials(), TWO, overwrite=True)
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert sorted(os.listdir(tmp_path)) == ["front.png"]


@pytest.mark.parametrize("name", ["front.jpg", "front", "front.png.txt"])
def test_an_unknown_suffix_is_refused(tmp_path, name):
    with pytest.raises(ValueError, match="Received: path=") as info:
        pareto.plot(tmp_path / name, _trials(), TWO)
    assert name in str(info.value) and "\n" not in str(info.value)
    assert os.listdir(tmp_path) == []


def test_one_objective_is_refused(tmp_path):
    with pytest.raises(ValueError, match="at least 2 objectives.*Received: objectives="):
        pareto.plot(tmp_path / "front.png", _trials(), [("val_loss", "min")])
    assert os.listdir(tmp_path) == []


def test_a_bad_objective_direction_is_refused(tmp_path):
    with pytest.raises(ValueError, match="Received: directions="):
        pareto.plot(tmp_path / "front.png", _trials(), [("val_loss", "min"), ("x", "lower")])


def test_nothing_to_draw_is_refused(tmp_path):
    trials = [t for t in _trials() if t["trial_id"] in ("missing-g", "nan-h")]
    with pytest.raises(ValueError, match="(?i)nothing to draw.*Received:") as info:
        pareto.plot(tmp_path / "front.png", trials, TWO)
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="(?i)nothing to draw"):
        pareto.plot(tmp_path / "front.png", _trials(), [("val_loss", "min"), ("other", "max")])
    with pytest.raises(ValueError, match="(?i)nothing to draw"):
        pareto.plot(tmp_path / "front.png", [], TWO)
    assert os.listdir(tmp_path) == []


def test_a_missing_matplotlib_is_explained(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    with pytest.raises(ImportError, match="pip install matplotlib.*Received: path="):
        pareto.plot(tmp_path / "front.png", _trials(), TWO)
    assert os.listdir(tmp_path) == []
