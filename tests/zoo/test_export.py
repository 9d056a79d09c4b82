"""zoo.export: the export matrix on this backend, and what a user gets wrong.

The matrix test is every registered model x every format: a format this
backend or installation cannot produce is refused (with the reason
``zoo.export_support`` gives, and nothing written); every other cell must
export, run in the format's own runtime and match Keras within the
format's tolerance. ``python -m benchmarks.export_matrix`` writes the same
cells to the README's table.
"""

import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

import zoo
from zoo import exporting

NAMES = zoo.list_models()
ROOT = pathlib.Path(__file__).resolve().parents[2]


def _toy(name):
    keras.utils.set_random_seed(0)
    return zoo.build(name, **zoo.get_spec(name).toy)


def _target(tmp_path, format):
    return tmp_path / ("artefact" + exporting.SUFFIXES.get(format, ""))


@pytest.mark.parametrize("format", exporting.FORMATS)
@pytest.mark.parametrize("name", NAMES)
def test_export_matrix_cell(name, format, tmp_path):
    model = _toy(name)
    target = _target(tmp_path, format)
    reason = zoo.export_support(model, format)
    if reason:
        with pytest.raises(zoo.ExportError, match="Cannot export"):
            zoo.export(model, target, format)
        assert list(tmp_path.iterdir()) == []  # nothing half-written
        return
    report = zoo.export(model, target, format, check=True)
    assert report.within_tolerance, report
    assert report.max_abs_diff <= exporting.TOLERANCES[format]
    assert target.exists() and [p.name for p in tmp_path.iterdir()
                                if p.name.startswith(".")] == []


def test_unknown_format_names_the_choices(tmp_path):
    with pytest.raises(ValueError, match=r"format.*Received: format='pdf'"):
        zoo.export(_toy("dense_autoencoder"), tmp_path / "m.pdf", "pdf")


def test_a_path_with_the_wrong_ending_is_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match=r"must end with '\.onnx'.*Received: path="):
        zoo.export(_toy("dense_autoencoder"), tmp_path / "m.bin", "onnx")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_artefact_is_never_replaced_unless_asked(tmp_path):
    model = _toy("dense_autoencoder")
    target = tmp_path / "m.onnx"
    target.write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        zoo.export(model, target, "onnx")
    assert target.read_bytes() == b"mine"
    report = zoo.export(model, target, "onnx", overwrite=True)
    assert report.within_tolerance and target.read_bytes() != b"mine"


def test_a_folder_artefact_is_replaced_whole_with_overwrite(tmp_path):
    # A SavedModel is a folder: the new one replaces the old one whole (no stale files).
    target = tmp_path / "served"
    target.mkdir()
    (target / "stale.txt").write_text("old")
    work = tmp_path / ".served.partial"
    (work / "served").mkdir(parents=True)
    (work / "served" / "saved_model.pb").write_text("new")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        exporting._move_into_place(work, target, overwrite=False)
    assert (target / "stale.txt").exists()
    moved = exporting._move_into_place(work, target, overwrite=True)
    assert moved == [str(target)] and sorted(p.name for p in target.iterdir()) == [
        "saved_model.pb"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".served.partial", "served"]


def test_a_check_over_the_tolerance_writes_nothing(tmp_path, monkeypatch):
    real = exporting._run_artefact

    def off_by_one(*args):
        return [np.asarray(out) + 1.0 for out in real(*args)]

    monkeypatch.setattr(exporting, "_run_artefact", off_by_one)
    target = tmp_path / "m.onnx"
    with pytest.raises(zoo.ExportError, match=r"differs from Keras by 1.*nothing was written"):
        zoo.export(_toy("dense_autoencoder"), target, "onnx", check=True)
    assert list(tmp_path.iterdir()) == []
    report = zoo.export(_toy("dense_autoencoder"), target, "onnx", check=False)
    assert not report.within_tolerance and report.max_abs_diff == pytest.approx(1.0)
    assert "OVER" in str(report) and target.exists()


def test_a_converter_failure_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("converter fell over\nwith detail")

    model = _toy("dense_autoencoder")
    monkeypatch.setattr(model, "export", broken)
    with pytest.raises(zoo.ExportError, match="converter fell over with detail"):
        zoo.export(model, tmp_path / "m.onnx", "onnx")
    assert list(tmp_path.iterdir()) == []


def test_a_model_outside_the_registry_needs_example_data(tmp_path):
    inputs = keras.Input((3,), name="x")
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(zoo.ExportError, match="pass `data=`"):
        zoo.export(model, tmp_path / "m.onnx", "onnx")
    report = zoo.export(model, tmp_path / "m.onnx", "onnx",
                        data=np.ones((2, 3), "float32"))
    assert report.within_tolerance


def test_a_dict_input_model_exports_by_input_name(tmp_path):
    model = _toy("lstm_seq2seq")
    report = zoo.export(model, tmp_path / "s2s.onnx", "onnx")
    assert report.within_tolerance
    import onnxruntime

    names = {node.name for node in onnxruntime.InferenceSession(
        str(tmp_path / "s2s.onnx")).get_inputs()}
    assert len(names) == 2


def test_export_cell_reports_a_refusal_without_writing(tmp_path):
    model = _toy("dense_autoencoder")
    other = "torch" if keras.backend.backend() != "torch" else "tf_saved_model"
    cell = exporting.export_cell(model, other, tmp_path)
    if zoo.export_support(model, other):
        assert cell["status"] == "refused" and cell["reason"]
        assert list(tmp_path.iterdir()) == []


def _zoo(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "applications", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_zoo_export_command_loads_checks_and_reports(tmp_path):
    zoo.save(_toy("dense_autoencoder"), tmp_path / "ae.keras")
    result = _zoo("export", "ae.keras", "--format", "onnx", "--out", "ae.onnx", "--check",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "max |difference|" in result.stdout and "ok" in result.stdout
    again = _zoo("export", "ae.keras", "--format", "onnx", "--out", "ae.onnx", cwd=tmp_path)
    assert again.returncode == 2 and "exists" in again.stderr


def test_zoo_export_refuses_a_file_zoo_load_refuses(tmp_path):
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    result = _zoo("export", "bad.keras", "--format", "onnx", "--out", "b.onnx", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "zip" in result.stderr
    bogus = _zoo("export", "bad.keras", "--format", "pdf", "--out", "b.pdf", cwd=tmp_path)
    assert bogus.returncode == 2 and "Received: --format 'pdf'" in bogus.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.keras"]
