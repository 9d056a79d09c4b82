"""Files saved by release 0.1 still load, give the same outputs, and keep their abilities.

The fixtures in ``tests/fixtures/legacy_v0_1`` were written by ``zoo.save`` at
release 0.1 (commit 19adce7, JAX backend, toy sizes), before the families
moved into ``zoo/models/`` and graph layers were renamed. Each ``.npz``
holds the inputs (``x`` or ``x__<input>``) and the outputs 0.1 computed
(``y`` or ``y__<output>``).
"""

import pathlib

import numpy as np
import pytest

import zoo

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "legacy_v0_1"
NAMES = sorted(path.stem for path in FIXTURES.glob("*.keras"))


def _unpack(arrays, prefix):
    if prefix in arrays:
        return arrays[prefix]
    return {key[len(prefix) + 2:]: arrays[key] for key in arrays if key.startswith(prefix + "__")}


def test_fixtures_are_there():
    # One per family at least, and every renamed graph layer.
    assert {"vae", "lstm_seq2seq", "gpt_decoder", "transformer_classifier", "gcn", "gat",
            "graphsage", "gin"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_release_0_1_file_loads_with_the_same_outputs(name):
    model = zoo.load(FIXTURES / f"{name}.keras")
    assert model.zoo_name == name
    assert zoo.spec_of(model).name == name
    with np.load(FIXTURES / f"{name}.npz") as stored:
        arrays = dict(stored)
    inputs, expected = _unpack(arrays, "x"), _unpack(arrays, "y")
    outputs = model.predict_on_batch(inputs)
    if isinstance(expected, dict):
        assert set(outputs) == set(expected)
        pairs = [(np.asarray(outputs[key]), expected[key]) for key in expected]
    else:
        pairs = [(np.asarray(outputs), expected)]
    for got, want in pairs:
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)
    zoo.encoder(model)  # the code layers are still found
    # Generation from these files: tests/zoo/test_generation_legacy.py.

