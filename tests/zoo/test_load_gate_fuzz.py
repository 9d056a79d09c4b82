"""Fuzz the load gate: mutated copies of valid ``.keras`` files end in a clean
load (a ``keras.Model``) or an ``UnsafeModelError``, never anything else.

Three tiny valid files (two zoo models saved with ``zoo.save``, one plain
``keras.Sequential``) are mutated, deterministically (one seed per backend):

- raw bytes of the archive: flipped, truncated, inserted, deleted, and
  flipped inside the zip headers (where they are not caught by a CRC);
- rebuilt archives: a member's bytes damaged (its CRC recomputed, so the
  HDF5 and JSON readers see the damage); ``config.json`` values replaced (huge, negative, NaN,
  strings, containers), keys renamed or dropped, values nested deep, class
  names / modules / registered names changed; members dropped, duplicated,
  renamed, added; weight arrays reshaped, retyped, dropped, added; the
  compression method changed; the card and metadata replaced.

Any other exception fails the test, naming the mutation and keeping the file.
Every 20th case also checks that ``inspect``'s verdict is ``load``'s outcome.
"""

import io
import json
import math
import random
import shutil
import time
import warnings
import zipfile

import h5py
import keras
import numpy as np
import pytest

import zoo
from tests.zoo.keras_files import (archive_bytes, datasets, members, set_compression_method)

# Each backend's session fuzzes its own 700 files (its own seed), so one CI run (three
# sessions) feeds the gate 2,100 different mutated files.
SEED = {"tensorflow": 15, "jax": 16, "torch": 17}.get(keras.backend.backend(), 18)
BYTE_CASES = 450  # cheap: most die at the zip's CRC or headers
STRUCTURED_CASES = 250  # most reach Keras
CI_SESSIONS = 3
PARITY_EVERY = 20

VALUES = [10**11, -1, -(10**9), 0, 1, 3, 2**63, float("nan"), float("inf"), -float("inf"),
          1e308, 0.5, -0.5, "x", "", "relu", "float64", "int8", "mixed_float16", "zoo>ZooModel",
          "keras.layers", "../../etc/passwd", "\x1b[2J\rverdict: safe", None, True, False, [],
          {}, [None], [10**11, 10**11], [-1], {"class_name": "Lambda", "config": {}},
          {"class_name": "Dense", "config": {"units": 10**11}, "module": "keras.layers"}]
CLASS_NAMES = ["Dense", "Conv2D", "LSTM", "Embedding", "Lambda", "Functional", "Sequential",
               "Model", "InputLayer", "Adam", "GlorotUniform", "function", "ZooModel",
               "CorruptionNoise", "Dropout", "Add", "GetItem", "TFSMLayer", "StringLookup",
               "Evil", "", "__init__"]
MODULES = [None, "keras", "keras.layers", "keras.src.models.functional", "zoo.model",
           "zoo.layers.noise", "os", "builtins", "keras.src.ops.numpy", "keras.utils", 7]
REGISTERED = [None, "zoo>ZooModel", "zoo>CorruptionNoise", "zoo>Nope", "evil>Evil", "", 1]
DTYPES = ["float64", "float16", "int8", "uint64", "bool", "complex64", "vlen", "compound",
          "S4"]


# ------------------------------------------------------------ the valid files

@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz_bases")
    zoo.save(zoo.build("dense_autoencoder_toy"), folder / "zoo.keras")
    zoo.save(zoo.build("denoising_autoencoder", size="toy"), folder / "noise.keras")
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="dense")])
    plain.compile(optimizer="adam", loss="mse")
    plain.save(folder / "plain.keras")
    found = {}
    for name in ("zoo", "noise", "plain"):
        raw = (folder / f"{name}.keras").read_bytes()
        assert isinstance(zoo.load(folder / f"{name}.keras"), keras.Model)
        found[name] = (raw, members(raw))
    return found


# ------------------------------------------------------------ byte mutations

def _flip(rng, raw):
    data = bytearray(raw)
    count = rng.choice([1, 1, 2, 4])
    for _ in range(count):
        data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
    return f"flip {count} byte(s)", bytes(data)


def _truncate(rng, raw):
    at = rng.randrange(len(raw))
    return f"truncate at {at}", raw[:at]


def _insert(rng, raw):
    at, size = rng.randrange(len(raw)), rng.randint(1, 16)
    return f"insert {size} at {at}", raw[:at] + rng.randbytes(size) + raw[at:]


def _delete(rng, raw):
    at, size = rng.randrange(len(raw)), rng.randint(1, 16)
    return f"delete {size} at {at}", raw[:at] + raw[at + size:]


def _flip_header(rng, raw):
    """Flip a byte in a zip header, where no CRC guards it."""
    starts = [i for signature in (b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06")
              for i in _find_all(raw, signature)]
    at = rng.choice(starts) + rng.randrange(4, 46)
    data = bytearray(raw)
    if at < len(data):
        data[at] ^= rng.randrange(1, 256)
    return f"flip header byte {at}", bytes(data)


def _find_all(data, needle):
    found, start = [], 0
    while (start := data.find(needle, start)) != -1:
        found.append(start)
        start += 1
    return found


BYTE_MUTATIONS = [_flip, _flip, _truncate, _insert, _delete, _flip_header, _flip_header]


# ------------------------------------------------------------ structured mutations

def _leaves(node, found=None):
    """``(container, key)`` of every scalar in a JSON value."""
    found = [] if found is None else found
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        if isinstance(value, (dict, list)):
            _leaves(value, found)
        else:
            found.append((node, key))
    return found


def _dicts(node, found=None):
    found = [] if found is None else found
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            _dicts(value, found)
    elif isinstance(node, list):
        for value in node:
            _dicts(value, found)
    return found


def _edit_json(rng, contents, member, edit):
    value = json.loads(contents[member])
    label = edit(rng, value)
    return label, {**contents, member: json.dumps(value)}


def _values(rng, config):
    leaves = _leaves(config)
    count = rng.choice([1, 1, 2, 3])
    labels = []
    for _ in range(count):
        container, key = rng.choice(leaves)
        value = rng.choice(VALUES)
        container[key] = value
        labels.append(f"{key!r}={value!r}"[:60])
    return "config values " + ", ".join(labels)


def _keys(rng, config):
    node = rng.choice([d for d in _dicts(config) if d])
    key = rng.choice(list(node))
    action = rng.choice(["drop", "rename", "rename"])
    if action == "drop":
        del node[key]
        return f"config key {key!r} dropped"
    new = rng.choice(["bogus", key + "_x", "", "\r\x1b[2Kverdict:   safe to load", key.upper()])
    node[new] = node.pop(key)
    return f"config key {key!r} renamed {new!r}"


def _nest(rng, config):
    container, key = rng.choice(_leaves(config))
    depth = rng.choice([5, 30, 60, 64, 65, 200, 800])
    value = container[key]
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"k": value}
    container[key] = value
    return f"config {key!r} nested {depth} deep"


def _classes(rng, config):
    node = rng.choice([d for d in _dicts(config) if "class_name" in d])
    field, choices = rng.choice([("class_name", CLASS_NAMES), ("module", MODULES),
                                 ("registered_name", REGISTERED)])
    value = rng.choice(choices)
    node[field] = value
    return f"{node.get('class_name')!r}: {field}={value!r}"


def _config(rng, contents):
    edit = rng.choice([_values, _values, _values, _keys, _nest, _classes, _classes])
    return _edit_json(rng, contents, "config.json", edit)


def _card(rng, contents):
    member = rng.choice(["zoo_card.json", "metadata.json"])
    if member not in contents:
        member = "metadata.json"
    choice = rng.choice(["[]", '"text"', "{}", "null", '{"zoo_name": "\\u001b]0;x\\u0007"}',
                         "[" * 100 + "]" * 100, "{broken"])
    return f"{member} = {choice[:30]}", {**contents, member: choice}


def _members(rng, contents):
    names = list(contents)
    name = rng.choice(names)
    action = rng.choice(["drop", "duplicate", "rename", "add"])
    if action == "drop":
        return f"member {name} dropped", {k: v for k, v in contents.items() if k != name}
    if action == "duplicate":
        pairs = list(contents.items()) + [(name, rng.choice([contents[name], b"{}", b""]))]
        return f"member {name} duplicated", pairs
    if action == "rename":
        new = rng.choice(["Config.json", "assets/" + name, name + ".bak", "model.weights.h5",
                          "zoo_card.json", "../" + name])
        return f"member {name} renamed {new}", {(new if k == name else k): v
                                                for k, v in contents.items()}
    new = rng.choice(["assets/vocabulary.txt", "assets/x/y.bin", "run.py", "metadata.json"])
    return f"member {new} added", {**contents, new: rng.randbytes(rng.randint(0, 64))}


def _weights(rng, contents):
    buffer = io.BytesIO(contents["model.weights.h5"])
    with h5py.File(buffer, "a") as handle:
        paths = datasets(handle)
        action = rng.choice(["reshape", "retype", "retype", "drop", "add", "scalar", "empty"])
        if not paths:
            action = "add"
        path = rng.choice(paths) if paths else "layers/new"
        if action == "add":
            path = rng.choice(paths + ["vars"]) + "_extra" if paths else "layers/new"
            handle.create_dataset(path, data=np.zeros((2, 2), "float32"))
        elif action == "drop":
            del handle[path]
        else:
            old = handle[path][()]
            del handle[path]
            if action == "reshape":
                shape = rng.choice([(1,), (7,), (2, 3), (old.size, 1), (0,), (1, 1, 1, 1)])
                handle.create_dataset(path, data=np.resize(old, shape))
                path += f" -> shape {shape}"
            elif action == "scalar":
                handle.create_dataset(path, data=np.float32(1.5))
            elif action == "empty":
                handle.create_dataset(path, shape=np.shape(old), dtype="float32")
            else:
                dtype = rng.choice(DTYPES)
                handle.create_dataset(path, data=_retyped(old, dtype))
                path += f" -> {dtype}"
    return f"weights {action} {path}", {**contents, "model.weights.h5": buffer.getvalue()}


def _retyped(array, dtype):
    array = np.asarray(array)
    if dtype == "vlen":
        return np.array([str(x) for x in array.ravel()] or ["x"], dtype=h5py.string_dtype())
    if dtype == "compound":
        out = np.zeros(array.shape, [("a", "f4"), ("b", "i4")])
        out["a"] = array
        return out
    if dtype == "S4":
        return np.array([b"abcd"] * max(array.size, 1))
    with np.errstate(all="ignore"):
        return np.nan_to_num(array.astype("float64")).astype(dtype)


def _member_bytes(rng, contents):
    """Damage one member's bytes and rezip it (its CRC then matches): HDF5 and
    JSON parsers see the damage, not the zip reader."""
    name = rng.choice([n for n in contents if n != "metadata.json"] + ["model.weights.h5"] * 2)
    data = bytearray(contents[name])
    if not data:
        return f"member {name} empty", contents
    action = rng.choice(["flip", "flip", "truncate", "zero"])
    at = rng.randrange(len(data))
    if action == "flip":
        for _ in range(rng.choice([1, 2, 8])):
            data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
    elif action == "truncate":
        del data[at:]
    else:
        data[at:at + 64] = bytes(len(data[at:at + 64]))
    return f"member {name} bytes {action} at {at}", {**contents, name: bytes(data)}


def _compression(rng, contents):
    method = rng.choice(["deflated", "bzip2", "lzma", "method 99", "deflated+flip"])
    if method == "bzip2":
        return method, archive_bytes(contents, zipfile.ZIP_BZIP2)
    if method == "lzma":
        return method, archive_bytes(contents, zipfile.ZIP_LZMA)
    if method == "method 99":
        return method, set_compression_method(archive_bytes(contents), 99)
    data = archive_bytes(contents, zipfile.ZIP_DEFLATED)
    if method == "deflated+flip":
        data = bytearray(data)
        data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
        data = bytes(data)
    return method, data


STRUCTURED_MUTATIONS = [_config] * 6 + [_card, _members, _members, _weights, _weights,
                                        _weights, _member_bytes, _member_bytes, _compression]


# ------------------------------------------------------------ the test

def test_mutated_files_load_cleanly_or_are_refused(bases, tmp_path, monkeypatch):
    rng = random.Random(SEED)
    reached = []
    real_keras_load = zoo.sharing._keras_load

    def counting(*args, **kwargs):
        reached.append(1)
        return real_keras_load(*args, **kwargs)

    monkeypatch.setattr(zoo.sharing, "_keras_load", counting)
    outcomes = {"loaded": 0, "refused": 0}
    failures = []
    start = time.perf_counter()
    names = sorted(bases)
    plan = ([("bytes", i) for i in range(BYTE_CASES)]
            + [("structured", i) for i in range(STRUCTURED_CASES)])
    for number, (kind, i) in enumerate(plan):
        base = names[i % len(names)]
        raw, contents = bases[base]
        if kind == "bytes":
            label, made = rng.choice(BYTE_MUTATIONS)(rng, raw)
        else:
            mutation = rng.choice(STRUCTURED_MUTATIONS)
            label, made = mutation(rng, {k: v for k, v in contents.items()})
        data = made if isinstance(made, bytes) else archive_bytes(made)
        label = f"case {number} ({base}): {label}"
        path = tmp_path / "case.keras"
        path.write_bytes(data)
        outcome = _outcome(path)
        if isinstance(outcome, BaseException):
            kept = tmp_path / f"failure_{number}.keras"
            shutil.copy(path, kept)
            failures.append(f"{label}: {type(outcome).__name__}: {str(outcome)[:300]} "
                            f"(file kept: {kept})")
            continue
        outcomes[outcome] += 1
        if number % PARITY_EVERY == 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                verdict = zoo.inspect(path)["verdict"]
            expected = "safe to load" if outcome == "loaded" else "refused"
            if verdict != expected:
                failures.append(f"{label}: load {outcome} but inspect says {verdict}")
        if number % 200 == 199:
            keras.backend.clear_session()
    seconds = time.perf_counter() - start
    total = len(plan)
    print(f"\nload-gate fuzz on {keras.backend.backend()}: {total} mutated files, "
          f"{outcomes['loaded']} loaded, {outcomes['refused']} refused, {len(reached)} reached "
          f"Keras, {len(failures)} other outcomes, {seconds:.1f} s")
    assert total * CI_SESSIONS >= 2000
    assert not failures, "\n".join(failures[:20])
    # The mutations reach every stage: some files still load, many reach Keras.
    assert outcomes["loaded"] > 7 and len(reached) > 100, (outcomes, len(reached))


def _outcome(path):
    """``"loaded"``, ``"refused"`` or the unexpected exception."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = zoo.load(path)
        except zoo.UnsafeModelError:
            return "refused"
        except Exception as error:  # the failures this test looks for
            return error
    if not isinstance(model, keras.Model):
        return TypeError(f"zoo.load returned {type(model).__name__}")
    count = model.count_params()
    if not (isinstance(count, int) and count >= 0 and math.isfinite(count)):
        return ValueError(f"count_params() = {count!r}")
    return "loaded"
