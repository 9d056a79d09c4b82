"""Hostile ``.keras`` files, built here from a good one: every one must be refused.

Each payload would create a sentinel file (or flip Keras into unsafe mode) if
it ever ran; after ``zoo.load`` refuses the file the sentinel must not exist.
Where it is cheap, a control proves the payload is live: run the unsafe way,
it does create the sentinel.
"""

import base64
import importlib
import io
import json
import os
import pickle
import re
import sys
import threading
import zipfile

import h5py
import keras
import numpy as np
import pytest

import zoo
from tests.zoo.keras_files import (archive_bytes, assert_printable, config_of, edit_weights,
                                   first_layer, members, set_compression_method, with_config,
                                   write)

PAYLOAD_MODULE = "zoo_test_payload"


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """A folder with a good file, a sentinel path and an importable payload module."""
    sentinel = tmp_path / "SENTINEL"
    (tmp_path / f"{PAYLOAD_MODULE}.py").write_text(
        f"open({str(sentinel)!r}, 'w').close()\nclass Evil:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, PAYLOAD_MODULE, raising=False)
    good = tmp_path / "good.keras"
    zoo.save(zoo.build("dense_autoencoder_toy"), good)

    class Lab:
        path, sentinel_path = tmp_path, sentinel

        @staticmethod
        def members():
            with zipfile.ZipFile(good) as archive:
                return {info.filename: archive.read(info) for info in archive.infolist()}

        @staticmethod
        def write(name, members, compression=zipfile.ZIP_STORED):
            path = tmp_path / name
            with zipfile.ZipFile(path, "w", compression) as archive:
                for member, data in members.items():
                    archive.writestr(member, data)
            return path

        @classmethod
        def with_config(cls, name, edit):
            members = cls.members()
            config = json.loads(members["config.json"])
            edit(config, first_dense(config))
            members["config.json"] = json.dumps(config)
            return cls.write(name, members)

    yield Lab
    assert_safe_mode_is_on(tmp_path)


def assert_safe_mode_is_on(directory):
    """Keras' global safe mode is still on: a plain load of a Lambda is refused.

    (Keras has no public getter for the setting, so ask its behaviour.)
    """
    probe = directory / "safe_mode_probe.keras"
    if not probe.exists():
        inputs = keras.Input((2,))
        keras.Model(inputs, keras.layers.Lambda(lambda t: t)(inputs)).save(probe)
    with pytest.raises(ValueError, match="safe_mode"):
        keras.saving.load_model(probe)


def touching_lambda(path):
    """A lambda that creates ``path``; the path is a constant in its bytecode."""
    return eval(f"lambda t: (open({str(path)!r}, 'w').close(), t)[1]")


def first_dense(config):
    return next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense")


def refused(path, sentinel, match):
    with pytest.raises(zoo.UnsafeModelError, match=match) as error:
        zoo.load(path)
    assert isinstance(error.value, ValueError)
    report = zoo.inspect(path)
    assert report["verdict"] == "refused" and report["reason"]
    assert not sentinel.exists(), "the payload ran"
    assert PAYLOAD_MODULE not in sys.modules
    assert_safe_mode_is_on(sentinel.parent)
    return str(error.value)


def test_lambda_layer(lab):
    touch = touching_lambda(lab.sentinel_path)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(touch, name="payload")(inputs))
    model.save(lab.path / "lambda.keras")
    lab.sentinel_path.unlink()  # wiring the model called the lambda once
    refused(lab.path / "lambda.keras", lab.sentinel_path, "Lambda refused")
    # control: Keras' unsafe mode runs it
    keras.saving.load_model(lab.path / "lambda.keras", safe_mode=False)
    assert lab.sentinel_path.exists()


def test_module_named_in_config_is_never_imported(lab):
    def edit(config, dense):
        dense.update(module=PAYLOAD_MODULE, class_name="Evil", registered_name=None)

    path = lab.with_config("module.keras", edit)
    refused(path, lab.sentinel_path, f"class 'Evil' from module '{PAYLOAD_MODULE}'")
    importlib.import_module(PAYLOAD_MODULE)  # control: importing it is the attack
    assert lab.sentinel_path.exists()


def test_unregistered_custom_class(lab):
    def edit(config, dense):
        dense.update(module=PAYLOAD_MODULE, class_name="Evil", registered_name="evil>Evil")

    path = lab.with_config("custom.keras", edit)
    refused(path, lab.sentinel_path, "custom class 'evil>Evil'.*not registered by the zoo")


def test_zoo_name_with_a_foreign_module(lab):
    def edit(config, dense):
        dense.update(module=PAYLOAD_MODULE, registered_name="zoo>ZooModel")

    path = lab.with_config("impostor.keras", edit)
    refused(path, lab.sentinel_path, "custom class 'zoo>ZooModel'")


def test_gadget_function_get_file(lab):
    source = lab.path / "payload.txt"
    source.write_text("downloaded")

    def edit(config, dense):
        dense["config"]["kernel_initializer"] = {
            "module": "keras.utils", "class_name": "get_file", "registered_name": None,
            "config": {"origin": source.as_uri(), "fname": lab.sentinel_path.name,
                       "cache_dir": str(lab.path), "cache_subdir": "."}}

    path = lab.with_config("gadget.keras", edit)
    refused(path, lab.sentinel_path, "class 'get_file' from module 'keras.utils'")
    keras.utils.get_file(**json.loads(zipfile.ZipFile(path).read("config.json"))
                         ["config"]["layers"][1]["config"]["kernel_initializer"]["config"])
    assert lab.sentinel_path.exists()  # control: the gadget writes the file


def test_config_cannot_switch_unsafe_mode_on(lab):
    touch = touching_lambda(lab.sentinel_path)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(touch)(keras.layers.Dense(4)(inputs)))
    model.save(lab.path / "toggle_base.keras")
    lab.sentinel_path.unlink()
    members = zipfile.ZipFile(lab.path / "toggle_base.keras")
    members = {info.filename: members.read(info) for info in members.infolist()}
    config = json.loads(members["config.json"])
    first_dense(config)["config"]["activation"] = {
        "module": "keras.config", "class_name": "function", "registered_name": None,
        "config": "enable_unsafe_deserialization"}
    members["config.json"] = json.dumps(config)
    path = lab.write("toggle.keras", members)
    refused(path, lab.sentinel_path, "function keras.config.enable_unsafe_deserialization refused")


def test_tfsmlayer(lab):
    def edit(config, dense):
        dense.update(class_name="TFSMLayer", module="keras.layers")
        dense["config"] = {"filepath": str(lab.path / "saved_model"), "call_endpoint": "serve"}

    refused(lab.with_config("tfsm.keras", edit), lab.sentinel_path, "TFSMLayer refused")


class _TouchOnUnpickle:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, "w")


def test_torch_module_wrapper_pickle(lab):
    payload = base64.b64encode(pickle.dumps(_TouchOnUnpickle(str(lab.sentinel_path)))).decode()

    def edit(config, dense):
        dense.update(class_name="TorchModuleWrapper", module="keras.layers")
        dense["config"] = {"module": payload, "name": "wrapped"}

    refused(lab.with_config("torch.keras", edit), lab.sentinel_path,
            "TorchModuleWrapper refused")
    pickle.loads(base64.b64decode(payload)).close()  # control: unpickling is the attack
    assert lab.sentinel_path.exists()


def test_file_path_vocabulary(lab):
    secret = lab.path / "secret.txt"
    secret.write_text("a\nb\n")

    def edit(config, dense):
        dense.update(class_name="StringLookup", module="keras.layers")
        dense["config"] = {"vocabulary": str(secret), "name": dense["config"]["name"]}

    refused(lab.with_config("vocab.keras", edit), lab.sentinel_path,
            "vocabulary='.*secret.txt' is a file path")


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_hdf5_model(lab, suffix):
    touch = touching_lambda(lab.sentinel_path)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(touch)(inputs))
    model.save(lab.path / "legacy.h5")
    lab.sentinel_path.unlink()
    path = lab.path / f"legacy_renamed{suffix}"
    path.write_bytes((lab.path / "legacy.h5").read_bytes())
    refused(path, lab.sentinel_path, "only .keras files" if suffix == ".h5" else "HDF5 file")


@pytest.mark.parametrize("member", ["../SENTINEL", "/tmp/zoo_abs_SENTINEL", "assets/../../SENTINEL",
                                    "C:\\SENTINEL"])
def test_archive_path_traversal(lab, member):
    members = lab.members()
    members[member] = b"x"
    refused(lab.write("traversal.keras", members), lab.sentinel_path,
            "absolute or escaping path")


def test_unexpected_and_duplicate_members(lab):
    members = lab.members()
    refused(lab.write("extra.keras", {**members, "run_me.py": b"x"}), lab.sentinel_path,
            "unexpected archive member 'run_me.py'")
    path = lab.write("dup.keras", members)
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr("config.json", "{}")
    refused(path, lab.sentinel_path, "'config.json' appears twice")


def test_size_bombs(lab):
    members = lab.members()
    bomb = lab.write("bomb.keras", {**members, "assets/bomb.bin": b"\0" * (64 << 20)},
                     compression=zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < (1 << 20)
    refused(bomb, lab.sentinel_path, "compression bomb")
    many = {**members, **{f"assets/{i}": b"" for i in range(1001)}}
    refused(lab.write("many.keras", many), lab.sentinel_path, "over the limit of 1000")
    json_bomb = {**members, "config.json": b" " * (65 << 20) + members["config.json"]}
    refused(lab.write("json.keras", json_bomb, compression=zipfile.ZIP_DEFLATED),
            lab.sentinel_path, "limit for JSON")


def _weights_variant(lab, name, edit):
    members = lab.members()
    weights = lab.path / f"{name}.h5"
    weights.write_bytes(members["model.weights.h5"])
    with h5py.File(weights, "a") as handle:
        edit(handle)
    members["model.weights.h5"] = weights.read_bytes()
    return lab.write(f"{name}.keras", members)


def test_weights_with_external_references(lab):
    outside = lab.path / "outside.h5"
    with h5py.File(outside, "w") as handle:
        handle["data"] = np.zeros(4, "float32")
    raw = lab.path / "raw.bin"
    raw.write_bytes(b"\0" * 16)

    def link(handle):
        handle["layers/link"] = h5py.ExternalLink(str(outside), "data")

    def external_storage(handle):
        handle.create_dataset("layers/ext", shape=(4,), dtype="float32",
                              external=[(str(raw), 0, 16)])

    refused(_weights_variant(lab, "extlink", link), lab.sentinel_path, "ExternalLink")
    refused(_weights_variant(lab, "extstore", external_storage), lab.sentinel_path,
            "external or virtual dataset")


def test_weights_decompression_bomb(lab):
    def huge(handle):
        handle.create_dataset("layers/huge", shape=(1 << 31,), dtype="float32",
                              chunks=(1 << 20,), compression="gzip", fillvalue=0.0)

    path = _weights_variant(lab, "h5bomb", huge)
    assert path.stat().st_size < (2 << 20)
    refused(path, lab.sentinel_path, "decompression bomb")


def test_tampered_byte(lab):
    good = lab.path / "good.keras"
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF
    good.write_bytes(bytes(data))
    message = refused(good, lab.sentinel_path, "SHA-256 mismatch")
    assert "good.keras.sha256" in message


# ------------------------------------------------------------ not a regular file

def _within(seconds, call):
    """``call()``'s exception (or result), failing if it has not returned in time
    (a FIFO must not hang the gate)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as error:  # noqa: B036 - handed back to the test
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    return outcome.get("error", outcome.get("value"))


@pytest.mark.parametrize("kind, match", [
    ("fifo", "is a FIFO"),
    ("dev_zero", "is a character device"),
    ("directory", "is a directory"),
])
def test_only_a_regular_file_is_read(lab, kind, match):
    path = lab.path / "model.keras"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev_zero":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()
    error = _within(20, lambda: zoo.load(path))
    assert isinstance(error, zoo.UnsafeModelError) and re.search(match, str(error)), error
    report = _within(20, lambda: zoo.inspect(path))
    assert report["verdict"] == "refused" and re.search(match, report["reason"])


def test_junk_is_refused_on_its_first_bytes_without_reading_it(lab, monkeypatch):
    junk = lab.path / "junk.keras"
    junk.write_bytes(b"JUNK" + bytes(1 << 20))

    def no_full_read(*args, **kwargs):
        raise AssertionError("the whole file was read")

    monkeypatch.setattr(zoo.files, "read_regular_file", no_full_read)
    refused(junk, lab.sentinel_path, r"this one is not a zip archive \(it starts with 'JUNK")
    empty = lab.path / "empty.keras"
    empty.write_bytes(b"")
    refused(empty, lab.sentinel_path, "this one is empty")


# ------------------------------------------------------------ every failure is ours

def _nested(depth):
    return "[" * depth + "]" * depth


def _method_99(lab):
    return lab.path / "method.keras", set_compression_method(
        archive_bytes(lab.members()), 99)


GATE_CASES = {
    # name: (make(lab) -> members or (path, raw bytes), match)
    "json nested 100,000 deep": (
        lambda lab: with_config(lab.members(), _nested(100_000)), "config.json nests too deeply"),
    "json nested 200 deep": (
        lambda lab: with_config(lab.members(), '{"class_name": ' + _nested(200) + "}"),
        "config.json nests 201 levels deep, over the limit of 64"),
    "config.json is a list": (
        lambda lab: with_config(lab.members(), "[1, 2]"), "config.json holds a JSON list"),
    "config.json is not UTF-8": (
        lambda lab: with_config(lab.members(), b"\xff\xfe\xfa"), "config.json is not valid JSON"),
    "zip method 99": (_method_99, "compressed with zip method 99; only stored or deflated"),
    "bzip2 member": (
        lambda lab: (lab.path / "bz.keras", archive_bytes(lab.members(), zipfile.ZIP_BZIP2)),
        "compressed with zip method 12"),
    "encrypted member": (
        lambda lab: (lab.path / "enc.keras", _encrypted_flag(archive_bytes(lab.members()))),
        "is encrypted"),
    "weights are not HDF5": (
        lambda lab: {**lab.members(), "model.weights.h5": b"\x89HDF\r\n\x1a\nbroken"},
        "model.weights.h5 cannot be read as HDF5 weights"),
    "vlen string weights": (
        lambda lab: edit_weights(lab.members(), lambda h5: h5.create_dataset(
            "layers/strings", data=["a", "b"], dtype=h5py.string_dtype())),
        "holds 'object' values; weights are numbers"),
    "compound weights": (
        lambda lab: edit_weights(lab.members(), lambda h5: h5.create_dataset(
            "layers/pairs", data=np.zeros(2, [("a", "f4"), ("b", "i4")]))),
        "weights are numbers"),
    "soft link in weights": (
        lambda lab: edit_weights(lab.members(), lambda h5: h5.__setitem__(
            "layers/soft", h5py.SoftLink("/layers"))),
        "is a SoftLink; links to other files or paths are refused"),
    "class named __class__": (
        lambda lab: _edit_config(lab, lambda config: first_dense(config).update(
            class_name="__class__")),
        "class '__class__' names a private Python attribute"),
    "module is a list": (
        lambda lab: _edit_config(lab, lambda config: first_dense(config).update(module=["x"])),
        r"module must be a string or null. Received: '\['x'\]'"),
    "600-deep build_config": (
        lambda lab: _edit_config(lab, lambda config: first_dense(config).update(
            build_config=json.loads(_nested(600)))),
        "config.json nests too deeply|nests 6.. levels deep"),
    "a layer, not a model": (
        lambda lab: _edit_config(lab, lambda config: config.update(first_dense(config))),
        "config.json describes a 'Dense', not a model"),
}


def _encrypted_flag(data):
    data = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            data[start + offset] |= 0x1
            start += 4
    return bytes(data)


def _edit_config(lab, edit):
    contents = lab.members()
    config = config_of(contents)
    edit(config)
    return with_config(contents, config)


def _materialize(lab, name, made):
    if isinstance(made, tuple):
        path, data = made
        path.write_bytes(data)
        return path
    return write(lab.path / f"{name.replace(' ', '_')}.keras", made)


@pytest.mark.parametrize("name", list(GATE_CASES))
def test_every_failure_of_the_gate_is_an_unsafe_model_error(lab, name):
    make, match = GATE_CASES[name]
    refused(_materialize(lab, name, make(lab)), lab.sentinel_path, match)


def test_a_flipped_byte_in_a_member_is_refused_as_damage(lab):
    contents = lab.members()
    for compression, match in ((zipfile.ZIP_STORED, "Bad CRC-32"),
                               (zipfile.ZIP_DEFLATED, "damaged")):
        data = bytearray(archive_bytes(contents, compression))
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
            info = archive.getinfo("model.weights.h5")
        middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
        data[middle] ^= 0xFF
        path = lab.path / f"flipped_{compression}.keras"
        path.write_bytes(bytes(data))
        message = refused(path, lab.sentinel_path, "archive member 'model.weights.h5' is damaged")
        assert re.search(match, message), message


def test_a_cycle_of_hard_links_in_the_weights_ends(lab):
    contents = edit_weights(lab.members(), lambda h5: h5.__setitem__("layers/loop", h5["layers"]))
    path = write(lab.path / "loop.keras", contents)
    model = _within(60, lambda: zoo.load(path))
    assert isinstance(model, keras.Model), model  # Keras reads only the paths it knows


# ------------------------------------------------------------ Keras' own failures

KERAS_FAILURES = {
    "unknown keyword on a zoo layer": (
        "denoising_autoencoder",
        lambda config: first_layer(config, "CorruptionNoise")["config"].update(bogus_keyword=1),
        "Keras could not load it: TypeError: .*bogus_keyword"),
    "shape mismatch": (
        "dense_autoencoder_toy",
        lambda config: first_dense(config)["config"].update(units=5),
        "Keras could not load it: ValueError: .*shape"),
    "units is a string": (
        "dense_autoencoder_toy",
        lambda config: first_dense(config)["config"].update(units="many"),
        "Keras could not load it: "),
}


@pytest.mark.parametrize("name", list(KERAS_FAILURES))
def test_a_keras_failure_after_the_checks_is_an_unsafe_model_error(lab, name):
    model_name, edit, match = KERAS_FAILURES[name]
    source = lab.path / f"{model_name}.keras"
    zoo.save(zoo.build(model_name, size="toy"), source)
    contents = members(source)
    config = config_of(contents)
    edit(config)
    path = write(lab.path / "edited.keras", with_config(contents, config))
    with pytest.raises(zoo.UnsafeModelError, match=match) as error:
        zoo.load(path)
    assert error.value.__cause__ is not None  # Keras' own error, chained
    assert not isinstance(error.value.__cause__, zoo.UnsafeModelError)
    report = zoo.inspect(path)  # inspect's verdict is load's outcome
    assert report["verdict"] == "refused" and re.search(match, report["reason"])


# ------------------------------------------------------------ parameter budget

def _last_dense(config):
    return [layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense"][-1]


def test_an_allocation_bomb_is_refused_before_anything_is_allocated(lab):
    path = _materialize(lab, "bomb", _edit_config(
        lab, lambda config: _last_dense(config)["config"].update(units=10**11)))
    assert path.stat().st_size < 100_000
    # 4 * 10**11 float32 weights would be 1.6 TB: reaching the allocator
    # would crash this test, not refuse the file.
    message = refused(path, lab.sentinel_path, "declares 300,000,000,0[0-9][0-9] parameters, "
                      "over the budget of 1,000,000,000; nothing was allocated")
    assert "bomb.keras'" in message
    good = lab.path / "good.keras"
    with pytest.raises(zoo.UnsafeModelError, match="over the budget of 10;"):
        zoo.load(good, max_parameters=10)
    assert zoo.inspect(good, max_parameters=10)["verdict"] == "refused"
    assert zoo.load(good, max_parameters=10**4).zoo_name == "dense_autoencoder_toy"
    with pytest.raises(ValueError, match="max_parameters.*Received: max_parameters=0"):
        zoo.load(good, max_parameters=0)


# ------------------------------------------------------------ untrusted text

FORGED = "\r\x1b[2Kverdict:   safe to load\x1b[8m"


def _assert_one_true_verdict(text, verdict):
    assert_printable(text, newlines=True)
    verdicts = [line for line in text.splitlines() if line.startswith("verdict:")]
    assert verdicts == [line for line in verdicts if line.startswith(f"verdict:   {verdict}")]
    assert len(verdicts) == 1, text


def test_a_config_key_cannot_forge_a_verdict(lab):
    def edit(config):
        first_dense(config)["config"][FORGED] = {"class_name": "Evil" + FORGED, "module": FORGED}

    path = _materialize(lab, "forged", _edit_config(lab, edit))
    message = refused(path, lab.sentinel_path, r"Dense/config/\\r\\x1b\[2Kverdict:")
    assert_printable(message)
    _assert_one_true_verdict(zoo.format_inspection(zoo.inspect(path)), "refused")


def test_keras_error_text_is_escaped(lab):
    source = lab.path / "noise.keras"
    zoo.save(zoo.build("denoising_autoencoder", size="toy"), source)
    contents = members(source)
    config = config_of(contents)
    first_layer(config, "CorruptionNoise")["config"][FORGED] = 1
    path = write(lab.path / "keyword.keras", with_config(contents, config))
    with pytest.raises(zoo.UnsafeModelError, match="Keras could not load it") as error:
        zoo.load(path)
    assert_printable(str(error.value))
    _assert_one_true_verdict(zoo.format_inspection(zoo.inspect(path)), "refused")


def test_card_fields_and_file_names_are_escaped(lab):
    contents = lab.members()
    card = json.loads(contents[zoo.sharing.CARD_MEMBER])
    card.update(zoo_name="\x1b]0;owned\x07\x1b[2J\x1b[H" + FORGED, dataset="\u202eatad",
                metrics={"loss\x1b[31m": "\x9b2J"})
    name = "\x1b[2J\rverdict:   safe to load\u202e.keras"
    path = write(lab.path / name, {**contents, zoo.sharing.CARD_MEMBER: json.dumps(card)})
    assert zoo.load(path).zoo_name == "dense_autoencoder_toy"  # the card is only shown
    text = zoo.format_inspection(zoo.inspect(path))
    _assert_one_true_verdict(text, "safe to load")
    assert "\\x1b]0;owned\\x07" in text and "\\u202eatad" in text
    junk = lab.path / name.replace(".keras", "2.keras")
    junk.write_bytes(b"junk")
    with pytest.raises(zoo.UnsafeModelError, match=r"/\\x1b\[2J\\rverdict") as error:
        zoo.load(junk)
    assert_printable(str(error.value))
    _assert_one_true_verdict(zoo.format_inspection(zoo.inspect(junk)), "refused")
    with pytest.raises(zoo.UnsafeModelError) as error:
        zoo.read_card(junk)
    assert_printable(str(error.value))
