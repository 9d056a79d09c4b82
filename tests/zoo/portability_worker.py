"""Runs in its own process, under one backend, for the cross-backend tests.

    python tests/zoo/portability_worker.py save DIR        # every registered model
    python tests/zoo/portability_worker.py resume DIR      # see test_sharing.py
    python tests/zoo/portability_worker.py quantized DIR   # see test_quantize.py

``save`` builds every registered model at toy size (seeded), saves it with
``zoo.save`` to ``DIR/<name>.keras`` and writes the example input and the
model's output on it to ``DIR/<name>.npz`` (``x__*`` and ``y__*`` keys), so
another backend can load the file and compare.

``quantized`` does what ``save`` does for the models of
``PORTED_QUANTIZED`` only, each quantized to int8 first (``zoo.quantize``).

``resume`` loads ``DIR/model.keras``, takes the training steps on the batches
in ``DIR/batches.npz`` and writes the losses to ``DIR/resumed.json``.
"""

import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402

if keras.backend.backend() == "torch":
    import torch

    torch.set_num_threads(1)


def flat(tree, prefix):
    """``{prefix__key: array}`` for a dict, ``{prefix: array}`` for one array."""
    tree = keras.tree.map_structure(keras.ops.convert_to_numpy, tree)
    if isinstance(tree, dict):
        return {f"{prefix}__{key}": value for key, value in tree.items()}
    return {prefix: tree}


def unflat(arrays, prefix):
    if prefix in arrays:
        return arrays[prefix]
    return {key[len(prefix) + 2:]: arrays[key] for key in arrays if key.startswith(prefix + "__")}


QUANTIZED_MODELS = ("dense_autoencoder", "transformer_classifier", "gpt_decoder",
                    "lstm_seq2seq", "vae", "gcn")
# Across backends (a subprocess per other backend): the Transformer blocks' inner layers
# (what plain Keras reloads in float), a language model and a graph model.
PORTED_QUANTIZED = ("transformer_classifier", "gpt_decoder", "gcn")


def save_all(out, names=None, quantize=False):
    for name in names or zoo.list_models():
        keras.utils.set_random_seed(7)
        spec = zoo.get_spec(name)
        model = zoo.build(name, **spec.toy)
        if quantize:
            from zoo.quantize import quantize as quantize_model

            quantize_model(model, "int8")
        x, _ = spec.example_data(model.zoo_config, 3, seed=0)
        y = model(x, training=False)
        zoo.save(model, out / f"{name}.keras")
        np.savez(out / f"{name}.npz", **flat(x, "x"), **flat(y, "y"))
        keras.backend.clear_session()


def resume(out):
    batches = np.load(out / "batches.npz")
    model = zoo.load(out / "model.keras")
    losses = [float(model.train_on_batch(batches[f"x{i}"], batches[f"y{i}"],
                                         return_dict=True)["loss"])
              for i in range(len(batches.files) // 2)]
    (out / "resumed.json").write_text(json.dumps(losses))


if __name__ == "__main__":
    command, directory = sys.argv[1], pathlib.Path(sys.argv[2])
    {"save": save_all, "resume": resume,
     "quantized": lambda out: save_all(out, PORTED_QUANTIZED, quantize=True)}[command](directory)
