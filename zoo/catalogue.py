"""The registry's catalogue as data, so ``zoo list`` and ``zoo describe`` answer without Keras.

Importing Keras takes 2-7 seconds (it starts the backend); listing the
models needs none of it. ``catalogue.json``, next to this file, holds each
registered model's name, family, task, description and ``zoo describe``
text, plus the families, tasks and backends the command line offers. It is
generated from the registry and committed; a test fails when it is out of
date. Regenerate it with::

    python -m zoo.catalogue            # rewrites zoo/catalogue.json
    python -m zoo.catalogue --check    # exit status 1 when it is out of date

This module imports only the standard library at module level, so the
command line can load it by its file path without importing the ``zoo``
package (whose ``__init__`` imports Keras). Only ``build``/``write``, which
read the registry, import ``zoo``.

>>> import zoo
>>> catalogue = build()                      # from the registry (imports zoo)
>>> names(catalogue, "*seq2seq*") == zoo.list_models("*seq2seq*")
True
>>> names(catalogue, family="no such family") is None   # the registry says why
True
"""

import fnmatch
import json
import pathlib
import sys

#: The committed catalogue.
PATH = pathlib.Path(__file__).with_name("catalogue.json")
#: Bumped when the layout of the file changes; a reader ignores other versions.
FORMAT = 1
#: A catalogue is our own package data, but bound the read anyway.
MAX_BYTES = 16 << 20


def build():
    """The catalogue of the registry as it is now (imports ``zoo``, hence Keras)."""
    import zoo
    from zoo.constants import BACKENDS, FAMILIES

    names_in_order = zoo.list_models()
    models = {}
    for name in names_in_order:
        spec = zoo.get_spec(name)
        models[name] = {"family": spec.family, "task": spec.task,
                        "description": spec.description, "describe": str(zoo.describe(name))}
    return {"format": FORMAT, "backends": list(BACKENDS), "families": list(FAMILIES),
            "tasks": sorted({entry["task"] for entry in models.values()}),
            "order": names_in_order, "models": models}


def dumps(catalogue):
    """The file's text: stable (sorted keys, one form) so regenerating changes nothing."""
    return json.dumps(catalogue, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def write(path=PATH):
    """Regenerate ``path`` from the registry; returns True when its text changed."""
    path = pathlib.Path(path)
    text = dumps(build())
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = None
    if old == text:
        return False
    temp = path.with_name(f".{path.name}.partial")
    temp.write_text(text, encoding="utf-8")
    temp.replace(path)
    return True


def read(path=PATH):
    """The committed catalogue, or None when it is missing, unreadable or of another format
    (callers then ask the registry)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            return None
        catalogue = json.loads(data)
    except (OSError, ValueError):
        return None
    if not isinstance(catalogue, dict) or catalogue.get("format") != FORMAT:
        return None
    if not all(isinstance(catalogue.get(key), list) for key in
               ("backends", "families", "tasks", "order")):
        return None
    if not isinstance(catalogue.get("models"), dict):
        return None
    return catalogue


def names(catalogue, pattern="*", family=None, task=None):
    """What ``zoo.list_models(pattern, family, task)`` returns, read from ``catalogue``.

    Returns None when ``family`` or ``task`` is not one the catalogue knows:
    the registry then raises its own error.
    """
    if family is not None and family not in catalogue["families"]:
        return None
    if task is not None and task not in catalogue["tasks"]:
        return None
    if not isinstance(pattern, str):
        return None
    models = catalogue["models"]
    return [name for name in catalogue["order"]
            if fnmatch.fnmatchcase(name, pattern)
            and (family is None or models[name]["family"] == family)
            and (task is None or models[name]["task"] == task)]


def entry(catalogue, name):
    """The catalogue entry of ``name``, or None (the registry then says what is close)."""
    found = catalogue["models"].get(name) if isinstance(name, str) else None
    return found if isinstance(found, dict) else None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv not in ([], ["--check"]):
        print("usage: python -m zoo.catalogue [--check]", file=sys.stderr)
        return 2
    if argv == ["--check"]:
        try:
            current = PATH.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != dumps(build()):
            print(f"{PATH} is out of date with the registry; regenerate it with "
                  f"`python -m zoo.catalogue`.", file=sys.stderr)
            return 1
        return 0
    changed = write(PATH)
    print(f"{PATH}: {'rewritten' if changed else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
