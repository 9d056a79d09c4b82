"""The export matrix: every registered model x format on this backend, checked by its runtime.

    KERAS_BACKEND=tensorflow python -m benchmarks.export_matrix   # writes one backend's cells
    KERAS_BACKEND=jax python -m benchmarks.export_matrix
    KERAS_BACKEND=torch python -m benchmarks.export_matrix
    python -m benchmarks.export_matrix --table                    # results/export_matrix.md

Each model is built at its ``toy`` size and exported with ``zoo.export`` to
every format; the artefact is run by the format's own runtime on the
model's example data (two rows) and compared with Keras. A cell is
``works`` (with the largest absolute difference), ``refused`` (the one-line
reason ``zoo.export_support`` gives), ``over`` (exported, over the
tolerance) or ``fails`` (the converter or runtime failed). One backend's
cells go to ``results/export_matrix/<backend>.json``; ``--table`` joins the
backends into ``results/export_matrix.md`` (counts, worst differences, and
every cell). ``tests/zoo/test_export.py`` runs the same cells as a test.
"""

import argparse
import fnmatch
import json
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "export_matrix"
TABLE = ROOT / "results" / "export_matrix.md"
BACKENDS = ("tensorflow", "jax", "torch")
MARKS = {"works": "ok", "refused": "-", "over": "OVER", "fails": "FAIL"}


def run_backend(pattern="*", formats=None):
    """Every cell of this backend: ``{model: [cell, ...]}``."""
    import keras

    import zoo
    from zoo import exporting

    formats = formats or exporting.FORMATS
    cells = {}
    for name in zoo.list_models():
        if not fnmatch.fnmatch(name, pattern):
            continue
        spec = zoo.get_spec(name)
        keras.utils.set_random_seed(0)
        model = zoo.build(name, **spec.toy)
        row = []
        for format in formats:
            with tempfile.TemporaryDirectory() as folder:
                row.append(exporting.export_cell(model, format, folder))
            cell = row[-1]
            print(f"{name:28s} {format:15s} {cell['status']:8s} "
                  f"{cell['max_abs_diff'] if cell['max_abs_diff'] is not None else ''} "
                  f"{cell['reason'] or ''}"[:220], flush=True)
        cells[name] = row
    return cells


def write_backend(cells, backend, out=OUT):
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{backend}.json"
    old = json.loads(path.read_text()) if path.exists() else {"models": {}}
    old["models"].update(cells)
    old.update(backend=backend, measured=time.strftime("%Y-%m-%d"))
    path.write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")
    return path


def _load(out=OUT):
    return {backend: json.loads((out / f"{backend}.json").read_text())["models"]
            for backend in BACKENDS if (out / f"{backend}.json").exists()}


def summary_rows(matrix):
    """``(backend, format, works, refused, other, worst difference)`` per pair."""
    rows = []
    for backend, models in matrix.items():
        formats = sorted({cell["format"] for row in models.values() for cell in row},
                         key=lambda f: ("onnx", "tf_saved_model", "litert", "torch",
                                        "openvino").index(f))
        for format in formats:
            cells = [cell for row in models.values() for cell in row if cell["format"] == format]
            diffs = [cell["max_abs_diff"] for cell in cells if cell["status"] == "works"]
            rows.append((backend, format, sum(c["status"] == "works" for c in cells),
                         sum(c["status"] == "refused" for c in cells),
                         sum(c["status"] in ("over", "fails") for c in cells),
                         max(diffs) if diffs else None))
    return rows


def table(matrix):
    """Markdown: the counts per backend and format, then every refusal reason and cell."""
    lines = ["# Export matrix", "",
             "Every registered model (toy size) exported with `zoo.export` and run by the "
             "format's own runtime on its example data; the difference is the largest "
             "absolute difference from Keras. Written by `python -m benchmarks.export_matrix` "
             "(once per backend, then `--table`).", "",
             "| backend | format | works | refused | fails | worst difference |",
             "|---|---|---:|---:|---:|---:|"]
    for backend, format, works, refused, other, worst in summary_rows(matrix):
        lines.append(f"| {backend} | {format} | {works} | {refused} | {other} | "
                     f"{'' if worst is None else f'{worst:.1e}'} |")
    reasons = {}
    for backend, models in matrix.items():
        for name, row in models.items():
            for cell in row:
                if cell["status"] != "works":
                    key = (backend, cell["format"], cell["reason"])
                    reasons.setdefault(key, []).append(name)
    lines += ["", "## Refusals and failures", ""]
    for (backend, format, reason), names in sorted(reasons.items()):
        lines.append(f"- **{backend} / {format}** ({len(names)} models): {reason}")
    pairs = [(b, c["format"]) for b, models in matrix.items()
             for c in next(iter(models.values()))]
    lines += ["", "## Every cell", "",
              "`ok` works (difference in the JSON files beside this one), `-` refused, "
              "`FAIL`/`OVER` failed or over the tolerance.", "",
              "| model | " + " | ".join(f"{b[:5]} {f}" for b, f in pairs) + " |",
              "|---|" + "---|" * len(pairs)]
    names = sorted({name for models in matrix.values() for name in models})
    for name in names:
        marks = []
        for backend, format in pairs:
            row = matrix[backend].get(name, [])
            cell = next((c for c in row if c["format"] == format), None)
            marks.append(MARKS[cell["status"]] if cell else "")
        lines.append(f"| {name} | " + " | ".join(marks) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="*", help="shell pattern of model names")
    parser.add_argument("--table", action="store_true",
                        help="join the backends' JSON files into results/export_matrix.md")
    parser.add_argument("--out", type=pathlib.Path, default=OUT)
    args = parser.parse_args(argv)
    if args.table:
        TABLE.write_text(table(_load(args.out)))
        print(f"wrote {TABLE}")
        return 0
    import keras

    cells = run_backend(args.models)
    path = write_backend(cells, keras.backend.backend(), args.out)
    bad = [(name, c["format"]) for name, row in cells.items() for c in row
           if c["status"] in ("over", "fails")]
    print(f"wrote {path}; {len(bad)} cells failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
