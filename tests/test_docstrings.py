"""Every ``>>>`` example in every module of ``zoo``, ``tuner`` and ``applications`` runs.

Each prints what it shows.

Each module's examples run with its own globals plus ``zoo``, ``keras`` and
``np``, inside a fresh temporary directory (examples may write files), with
``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``. One test per module, on every
backend; examples are meant to be tiny (toy sizes) and fast.
"""

import doctest
import importlib
import pkgutil

import keras
import numpy as np
import pytest

import zoo

PACKAGES = ("zoo", "tuner", "applications")
MODULES = [name for package in PACKAGES for name in (
    [package] + sorted(info.name for info in pkgutil.walk_packages(
        importlib.import_module(package).__path__, f"{package}."))) if name != "applications.__main__" and name != "tuner.__main__"]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def docstring_tests(name):
    """The doctests of module ``name`` (objects defined elsewhere are skipped)."""
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    return finder.find(module, name, extraglobs={"zoo": zoo, "keras": keras, "np": np})


def test_the_package_has_examples():
    counts = {name: sum(len(test.examples) for test in docstring_tests(name))
              for name in MODULES}
    assert sum(counts.values()) > 0
    # Each package's own front page shows how to use it.
    assert all(counts[package] > 0 for package in PACKAGES)


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in docstring_tests(name):
        runner.run(test, out=report.append)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, "".join(report)
