"""Build ``.keras`` archives by hand for the load-gate tests: read a good
file's members, edit them (config, weights, card, raw zip headers), write
them back.

Shared by ``test_hostile_files.py`` and ``test_load_gate_fuzz.py``.
"""

import io
import json
import struct
import unicodedata
import zipfile

import h5py

LOCAL_HEADER = b"PK\x03\x04"
CENTRAL_HEADER = b"PK\x01\x02"


def members(path_or_bytes):
    """``{name: bytes}`` of every member, in archive order."""
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with zipfile.ZipFile(source) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def archive_bytes(contents, compression=zipfile.ZIP_STORED):
    """A zip archive of ``contents`` (``{name: bytes or str}`` or a list of pairs,
    which may repeat a name)."""
    buffer = io.BytesIO()
    items = contents.items() if isinstance(contents, dict) else contents
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in items:
            archive.writestr(name, data)
    return buffer.getvalue()


def write(path, contents, compression=zipfile.ZIP_STORED):
    path.write_bytes(archive_bytes(contents, compression))
    return path


def config_of(contents):
    return json.loads(contents["config.json"])


def with_config(contents, config):
    """``contents`` with ``config.json`` replaced (``config`` a dict or raw text)."""
    text = config if isinstance(config, (str, bytes)) else json.dumps(config)
    return {**contents, "config.json": text}


def layer_configs(config):
    """Every dict in ``config`` that names a class (depth first)."""
    found, stack = [], [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "class_name" in node:
                found.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def first_layer(config, class_name):
    """The config entry of the first layer of ``class_name`` in a model config."""
    return next(layer for layer in config["config"]["layers"] if layer["class_name"] == class_name)


def edit_weights(contents, edit):
    """``contents`` with ``model.weights.h5`` edited in place by ``edit(h5py.File)``."""
    buffer = io.BytesIO(contents["model.weights.h5"])
    with h5py.File(buffer, "a") as handle:
        edit(handle)
    return {**contents, "model.weights.h5": buffer.getvalue()}


def datasets(handle):
    """The paths of every dataset in an open HDF5 file, sorted."""
    found = []
    handle.visititems(lambda name, item: found.append(name)
                      if isinstance(item, h5py.Dataset) else None)
    return sorted(found)


def set_compression_method(data, method):
    """``data`` (a zip archive) with every member's compression method field
    (local and central headers) set to ``method``, nothing else changed."""
    data = bytearray(data)
    for signature, offset in ((LOCAL_HEADER, 8), (CENTRAL_HEADER, 10)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            data[start + offset:start + offset + 2] = struct.pack("<H", method)
            start += 4
    return bytes(data)


def assert_printable(text, newlines=False):
    """``text`` has no character that could control a terminal."""
    for char in text:
        if newlines and char == "\n":
            continue
        assert unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}, (
            f"{char!r} in {text!r}")
