"""Generation gives the ids the host loop gave before the key/value cache, on the same weights.

``tests/fixtures/generation_before_cache`` holds one toy file per generating
model and the ids that release's NumPy decoding loop (commit 8dd2cbe)
generated from them, with greedy (the model's stop token, and none) and
beam search of width 3. Any later decoding loop must give the same ids.
"""

import json
import pathlib

import numpy as np
import pytest

import zoo

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "generation_before_cache"
RECORD = json.loads((FIXTURES / "ids.json").read_text())
CASES = {"greedy": {"max_length": 10},
         "greedy_no_stop": {"max_length": 10, "stop_token": None},
         "beam_3": {"max_length": 8, "strategy": "beam", "beam_width": 3}}


def test_every_generating_model_has_a_record():
    generating = {name for name in zoo.list_models()
                  if zoo.get_spec(name).capabilities.generation is not None}
    assert generating == set(RECORD)


@pytest.mark.parametrize("name", sorted(RECORD))
def test_generation_gives_the_recorded_ids(name):
    model = zoo.load(FIXTURES / f"{name}.keras")
    inputs = np.array(RECORD[name]["inputs"], "int32")
    for case, arguments in CASES.items():
        ids = zoo.generate(model, inputs, **arguments)
        np.testing.assert_array_equal(ids, RECORD[name][case], err_msg=f"{name}: {case}")
