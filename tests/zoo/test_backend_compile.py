"""zoo.backend_compile, with zoo.exporting and zoo.distribution the only modules of zoo
that reach a backend directly."""

import ast
import pathlib

import keras
import numpy as np

import zoo
from zoo.backend_compile import compile_inference


def test_only_backend_compile_imports_a_backend():
    # zoo/ is written in keras.ops; compiling a loop per backend is one exception, and
    # running an exported artefact in its own runtime (TensorFlow's SavedModel and LiteRT
    # interpreters, torch.export, the converters' rules) another, and TensorFlow's
    # MirroredStrategy and its replica context (zoo.distribute) the third.
    root = pathlib.Path(zoo.__file__).parent
    importing = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            if any(name.split(".")[0] in ("jax", "tensorflow", "torch") for name in names):
                importing.add(path.relative_to(root).as_posix())
    assert importing == {"backend_compile.py", "distribution.py", "exporting.py"}


def test_a_compiled_function_reads_the_weights_of_each_call():
    model = zoo.build("dense_autoencoder_toy")
    layer = next(layer for layer in model.layers if layer.weights)
    compiled = compile_inference(model, lambda x: layer(x))
    x = np.ones((2,) + tuple(layer.input.shape[1:]), "float32")
    first = keras.ops.convert_to_numpy(compiled(x))
    np.testing.assert_allclose(first, keras.ops.convert_to_numpy(layer(x)), atol=1e-6)
    layer.set_weights([w * 2 for w in layer.get_weights()])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(compiled(x)),
                               keras.ops.convert_to_numpy(layer(x)), atol=1e-6)
    assert not np.allclose(first, keras.ops.convert_to_numpy(compiled(x)))
