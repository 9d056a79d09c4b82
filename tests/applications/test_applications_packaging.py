"""Packaging that matches the layers: one-way imports, a base install without extras,
and a one-line message naming the extra a `zoo` command is missing."""

import ast
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import keras
import pytest

import zoo

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHECK = ROOT / "tests" / "base_install_check.py"
# What only the extras install; zoo/ must not import them at module level.
EXTRAS_ONLY = {"tensorflow", "tensorflow_datasets", "keras_tuner", "matplotlib", "sklearn",
               "networkx"}
PRIVATE_PREFIXES = ("keras_tuner.src", "keras_tuner.engine", "jax._src")
PRIVATE_ORACLE_NAMES = {"_retry_queue", "_run_times", "_tried_so_far", "_compute_values_hash"}


def _modules(package):
    return sorted((ROOT / package).rglob("*.py"))


def _imports(tree, module_level_only):
    """``(line, imported module)`` for every import in ``tree`` (top-level statements only,
    with ``module_level_only``; ``if``/``try`` blocks at the top count as top level)."""
    if module_level_only:
        nodes, stack = [], list(tree.body)
        while stack:
            node = stack.pop()
            nodes.append(node)
            if isinstance(node, (ast.If, ast.Try)):
                stack += node.body + node.orelse + getattr(node, "finalbody", [])
                stack += [n for handler in getattr(node, "handlers", []) for n in handler.body]
    else:
        nodes = list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module)]
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _top(name):
    return name.split(".")[0]


def _violations(package, forbidden, module_level_only):
    bad = []
    for path in _modules(package):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, name in _imports(tree, module_level_only):
            if _top(name) in forbidden:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return sorted(set(bad))


def test_zoo_imports_neither_applications_nor_tuner_anywhere():
    assert _violations("zoo", {"applications", "tuner", "benchmarks"}, False) == []


def test_zoo_imports_no_extra_at_module_level():
    # networkx may be imported inside the graph-data functions that need it.
    assert _violations("zoo", EXTRAS_ONLY, True) == []


def test_tuner_does_not_import_applications():
    assert _violations("tuner", {"applications", "benchmarks"}, False) == []


def test_the_imports_of_zoo_applications_and_tuner_form_no_cycle():
    # Package-level graph: an edge A -> B when a module of A imports B anywhere.
    packages = ("zoo", "tuner", "applications")
    edges = {package: set() for package in packages}
    for package in packages:
        for path in _modules(package):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            edges[package] |= {_top(name) for _, name in _imports(tree, False)
                               if _top(name) in packages and _top(name) != package}
    assert edges == {"zoo": set(), "tuner": {"zoo"}, "applications": {"zoo", "tuner"}}


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def test_private_keras_tuner_and_jax_apis_are_reached_only_through_tuner_compat():
    bad = []
    files = [path for folder in ("zoo", "tuner", "applications", "benchmarks", "tests")
             for path in _modules(folder) if path != ROOT / "tuner" / "compat.py"]
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [name for _, name in _imports(tree, False)]
        names += [_dotted(node) or "" for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute)]
        for name in names:
            if name.startswith(PRIVATE_PREFIXES):
                bad.append(f"{path.relative_to(ROOT)}: {name}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in PRIVATE_ORACLE_NAMES:
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
    assert sorted(set(bad)) == []


def _env():
    return {**os.environ, "KERAS_BACKEND": keras.backend.backend(),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")]))}


def test_base_install_builds_fits_saves_and_loads_every_family_without_extras():
    # Every family's toy model with TensorFlow (except as the backend), tensorflow-datasets,
    # keras-tuner, matplotlib, scikit-learn and networkx refused at import.
    result = subprocess.run([sys.executable, str(CHECK)], capture_output=True, text=True,
                            env=_env(), cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith(f"base install check ({keras.backend.backend()}): built, fitted")
    checked = line.split("called ")[1].split(";")[0].split(", ")
    assert len(checked) == len(zoo.constants.FAMILIES)
    assert {zoo.get_spec(name).family for name in checked} == set(zoo.constants.FAMILIES)
    blocked = line.split("none of ")[1]
    assert ("tensorflow," in blocked) == (keras.backend.backend() != "tensorflow")
    assert "keras_tuner" in blocked and "tensorflow_datasets" in blocked


_CLI_SCRIPT = textwrap.dedent("""
    import contextlib, io, json, sys
    sys.path.insert(0, {tests!r})
    import base_install_check as check
    sys.path.pop(0)
    refused = check.blocked_modules()
    finder = check.Refuse(refused)
    sys.meta_path.insert(0, finder)
    from applications import cli
    import zoo
    finder.lookups = True  # from now on the extras look uninstalled to find_spec too
    zoo.save(zoo.build("dense_autoencoder_toy"), {model!r})
    results = {{}}
    for argv in (["list", "gcn*"], ["describe", "gcn"], ["inspect", {model!r}],
                 ["run", "reconstruction"], ["tasks"], ["compare", "vae", "--task", "generation"],
                 ["tune", "dense_autoencoder", "--toy"],
                 ["tune", "lstm_seq2seq", "--task", "reversal"]):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(argv)
        results[" ".join(argv[:2])] = [status, out.getvalue(), err.getvalue()]
    results["imported"] = sorted(name for name in refused if name in sys.modules)
    print(json.dumps(results))
""")


def test_commands_say_which_extra_is_missing_and_list_needs_only_the_base(tmp_path):
    script = _CLI_SCRIPT.format(tests=str(ROOT / "tests"), model=str(tmp_path / "ae.keras"))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=_env(), cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(result.stdout.strip().splitlines()[-1])
    assert results.pop("imported") == []
    assert results["list gcn*"][0] == 0 and results["list gcn*"][1].split()[0] == "gcn"
    assert results["describe gcn"][0] == 0 and "gcn" in results["describe gcn"][1]
    assert results["inspect " + str(tmp_path / "ae.keras")][0] == 0
    expected = {
        "run reconstruction": "zoo run needs the 'applications' extra: "
                              'pip install "encoder-zoo[applications]"',
        "tasks": "zoo tasks needs the 'applications' extra: "
                 'pip install "encoder-zoo[applications]"',
        "compare vae": "zoo compare needs the 'applications' extra: "
                       'pip install "encoder-zoo[applications]"',
        "tune dense_autoencoder": "zoo tune needs the 'tuner' extra: "
                                  'pip install "encoder-zoo[tuner]"',
        "tune lstm_seq2seq": "zoo tune needs the 'tuner' and 'applications' extras: "
                             'pip install "encoder-zoo[tuner,applications]"',
    }
    for command, message in expected.items():
        status, out, err = results[command]
        assert (status, out, err) == (2, "", message + "\n"), command


def test_python_m_tuner_sends_task_searches_to_zoo_tune():
    result = subprocess.run([sys.executable, "-m", "tuner", "lstm_seq2seq", "--task", "reversal"],
                            capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=300)
    assert result.returncode == 2
    # (TensorFlow's C++ logging may write to stderr before it.)
    assert result.stderr.strip().splitlines()[-1] == (
        "python -m tuner: --task needs `zoo tune` from the 'applications' extra: "
        'pip install "encoder-zoo[applications]"')


@pytest.mark.parametrize("extra", ["applications", "tuner", "export", "tensorflow", "jax", "torch",
                                   "test",
                                   "bench", "bench-graph", "all"])
def test_pyproject_declares_each_extra_and_a_light_base(extra):
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["dependencies"] == ["keras>=3.14", "numpy", "h5py"]
    extras = project["optional-dependencies"]
    assert extras[extra]
    named = {extra.split("[")[0].split("=")[0].split(">")[0] for extra in extras[extra]}
    if extra == "all":
        listed = extras["all"][0].split("[")[1].rstrip("]").split(",")
        # Every extra but the benchmarks' anchors (keras-hub pulls tensorflow-text;
        # torch_geometric serves only the PyG comparison).
        assert sorted(listed) == sorted(set(extras) - {"all", "bench", "bench-graph"})
    if extra == "bench":
        assert named == {"keras-hub"}
    if extra == "bench-graph":
        assert named == {"torch_geometric"}
    if extra == "applications":
        assert named == {"tensorflow", "tensorflow-datasets", "matplotlib", "scikit-learn",
                         "networkx"}
    if extra == "tuner":
        assert {"keras-tuner", "tensorboard", "grpcio", "protobuf"} <= named
    if extra == "export":  # zoo.exporting.CONVERTERS and RUNTIMES, but litert-torch
        assert named == {"tensorflow", "onnx", "onnxruntime", "onnxscript", "tf2onnx", "jax2onnx",
                         "ai-edge-litert", "openvino"}
