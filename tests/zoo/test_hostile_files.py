"""Hostile ``.keras`` files, built here from a good one: every one must be refused.

Each payload would create a sentinel file (or flip Keras into unsafe mode) if
it ever ran; after ``zoo.load`` refuses the file the sentinel must not exist.
Where it is cheap, a control proves the payload is live: run the unsafe way,
it does create the sentinel.
"""

import base64
import importlib
import json
import pickle
import sys
import zipfile

import h5py
import keras
import numpy as np
import pytest

import zoo

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
