"""Binary data readers: IDX and Keras ``.npz`` images, Planetoid graphs (with the
allow-listed unpickler), and datasets already in the Keras cache. Every test writes
its own small files; the real-data tests read ``../shared/data``."""

import gzip
import io
import os
import pathlib
import pickle
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from applications.formats import cache, idx, planetoid
from applications.formats.errors import DataFormatError

TYPE_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
              np.float32: 0x0D, np.float64: 0x0E}


@pytest.fixture
def real_planetoid(real_data):
    return real_data("planetoid")


@pytest.fixture
def real_fashion_mnist(real_data):
    return real_data("fashion-mnist")


# ------------------------------------------------------------------ IDX helpers

def idx_bytes(array, code=None):
    array = np.asarray(array)
    code = TYPE_CODES[array.dtype.type] if code is None else code
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        int(size).to_bytes(4, "big") for size in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, gz=False):
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def images_and_labels(count, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (count, 4, 3), dtype=np.uint8),
            rng.integers(0, 10, count).astype(np.uint8))


def write_image_folder(folder, gz=True, dotted=False, counts=(6, 4)):
    folder.mkdir(exist_ok=True)
    written = {}
    for split, prefix, count in (("train", "train", counts[0]), ("test", "t10k", counts[1])):
        images, labels = images_and_labels(count, seed=count)
        for kind, suffix, array in (("images", "idx3", images), ("labels", "idx1", labels)):
            name = f"{prefix}-{kind}{'.' if dotted else '-'}{suffix}-ubyte" + (".gz" if gz else "")
            write_idx(folder / name, array, gz=gz)
        written[split] = (images, labels)
    return written


# ------------------------------------------------------------------ read_idx

@pytest.mark.parametrize("dtype", list(TYPE_CODES))
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_every_type_code(tmp_path, dtype, gz):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype is np.uint8:
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    got = idx.read_idx(write_idx(tmp_path / "a-idx3-ubyte", array, gz=gz))
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, array)
    got.flat[0] = 1  # writable


def test_gzip_is_detected_by_magic_not_name(tmp_path):
    array = np.arange(6, dtype=np.uint8).reshape(6)
    plain_named_gz = tmp_path / "labels.gz"
    plain_named_gz.write_bytes(idx_bytes(array))
    gz_named_plain = tmp_path / "labels-idx1-ubyte"
    gz_named_plain.write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(idx.read_idx(plain_named_gz), array)
    np.testing.assert_array_equal(idx.read_idx(gz_named_plain), array)


@pytest.mark.parametrize("data, match", [
    (b"", r"x-idx, field magic: is too short for an IDX header.*Received: ''"),
    (b"\x00\x00", r"field magic: is too short.*Received: '00 00'"),
    (b"\x50\x4b\x03\x04rest", r"field magic: does not start with the IDX magic.*"
                              r"Received: '50 4b 03 04'"),
    (b"\x00\x00\x07\x01" + bytes(8), r"field type code: has an unknown IDX type code.*"
                                     r"Received: '0x07'"),
    (b"\x00\x00\x08\x00", r"field dimensions: declares 0 dimensions. Received: '0'"),
    (b"\x00\x00\x08\x03" + bytes(6), r"field dimensions: has a truncated IDX header: 3 "
                                     r"dimensions need 16 header bytes. Received: '10 bytes'"),
])
def test_read_idx_header_errors(tmp_path, data, match):
    path = tmp_path / "x-idx"
    path.write_bytes(data)
    with pytest.raises(DataFormatError, match=match):
        idx.read_idx(path)


def test_read_idx_dims_that_do_not_match_the_payload(tmp_path):
    header = bytes([0, 0, 0x08, 3]) + b"".join(n.to_bytes(4, "big") for n in (60000, 28, 28))
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(header + bytes(1000))
    with pytest.raises(DataFormatError, match=r"train-images-idx3-ubyte, field dimensions: "
                       r"header says 60000 x 28 x 28 uint8 \(47,040,000 bytes\) but the file "
                       r"holds 1,000 bytes of data\. Received: '1,000 bytes'"):
        idx.read_idx(path)
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((2, 2), np.float32))[:-1]))
    with pytest.raises(DataFormatError, match=r"header says 2 x 2 float32 \(16 bytes\) but the "
                       r"file holds 15 bytes of data \(after decompression\)"):
        idx.read_idx(path)
    path.write_bytes(idx_bytes(np.zeros(3, np.uint8)) + b"\x00")
    with pytest.raises(DataFormatError, match="header says 3 uint8 .3 bytes. but the file "
                                              "holds 4 bytes"):
        idx.read_idx(path)


@pytest.mark.parametrize("damage", ["truncate", "flip", "only_magic"])
def test_read_idx_corrupt_gzip(tmp_path, damage):
    packed = bytearray(gzip.compress(idx_bytes(np.arange(100, dtype=np.uint8)), mtime=0))
    if damage == "truncate":
        packed = packed[:len(packed) // 2]
    elif damage == "flip":
        packed[-6] ^= 0xFF  # the CRC
    else:
        packed = packed[:2]
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(DataFormatError, match=r"labels-idx1-ubyte.gz, field gzip: is a corrupt "
                                              r"or truncated gzip stream. Received: '"):
        idx.read_idx(path)


def test_read_idx_gzip_bomb_is_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(idx, "IDX_LIMIT", 1000)
    path = tmp_path / "bomb-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(5000, np.uint8))))
    with pytest.raises(DataFormatError, match="field gzip: unpacks to over 1,000 bytes"):
        idx.read_idx(path)


def test_read_idx_refuses_a_directory_and_reports_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="directory"):
        idx.read_idx(tmp_path)
    with pytest.raises(FileNotFoundError):
        idx.read_idx(tmp_path / "absent")


# ------------------------------------------------------------------ pairs and folders

def test_read_idx_pair(tmp_path):
    images, labels = images_and_labels(5)
    got_images, got_labels = idx.read_idx_pair(write_idx(tmp_path / "i", images),
                                               write_idx(tmp_path / "l", labels, gz=True))
    assert got_images.dtype == np.uint8 and got_labels.dtype == np.int32
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_read_idx_pair_errors(tmp_path):
    images, labels = images_and_labels(5)
    write_idx(tmp_path / "imgs", images)
    write_idx(tmp_path / "labs", labels[:4])
    with pytest.raises(DataFormatError, match=r"imgs, field dimensions: holds 5 images but "
                       r"'.*labs' holds 4 labels. Received: '5 images, 4 labels'"):
        idx.read_idx_pair(tmp_path / "imgs", tmp_path / "labs")
    write_idx(tmp_path / "flat", images.reshape(5, 12))
    with pytest.raises(DataFormatError, match=r"flat, field dimensions: must hold uint8 images "
                                              r"of dimensions N x H x W. Received: '5 x 12 uint8'"):
        idx.read_idx_pair(tmp_path / "flat", tmp_path / "labs")
    write_idx(tmp_path / "float", images.astype(np.float32))
    with pytest.raises(DataFormatError, match=r"Received: '5 x 4 x 3 float32'"):
        idx.read_idx_pair(tmp_path / "float", tmp_path / "labs")
    write_idx(tmp_path / "labs2", labels.reshape(5, 1))
    with pytest.raises(DataFormatError, match=r"labs2, field dimensions: must hold integer "
                                              r"labels of one dimension N. "
                                              r"Received: '5 x 1 uint8'"):
        idx.read_idx_pair(tmp_path / "imgs", tmp_path / "labs2")


@pytest.mark.parametrize("gz, dotted", [(True, False), (False, False), (False, True),
                                        (True, True)])
def test_read_image_folder(tmp_path, gz, dotted):
    written = write_image_folder(tmp_path / "mnist", gz=gz, dotted=dotted)
    got = idx.read_image_folder(tmp_path / "mnist")
    assert set(got) == {"train", "test"}
    for split in got:
        np.testing.assert_array_equal(got[split][0], written[split][0])
        np.testing.assert_array_equal(got[split][1], written[split][1])
        assert got[split][1].dtype == np.int32
    assert idx.read_images(tmp_path / "mnist")["test"][0].shape == (4, 4, 3)


def test_read_image_folder_missing_file_lists_what_was_looked_for(tmp_path):
    write_image_folder(tmp_path / "m")
    (tmp_path / "m" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataFormatError, match=r"m, field test labels: holds no test labels: "
                       r"looked for 't10k-labels-idx1-ubyte', 't10k-labels-idx1-ubyte.gz', "
                       r"'t10k-labels.idx1-ubyte', 't10k-labels.idx1-ubyte.gz'. "
                       r"Received: 't10k-images-idx3-ubyte.gz, train-images"):
        idx.read_image_folder(tmp_path / "m")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataFormatError, match=r"field train images: holds no train images.*"
                                              r"Received: '\(empty\)'"):
        idx.read_image_folder(empty)
    with pytest.raises(DataFormatError, match=r"is not a folder of IDX files"):
        idx.read_image_folder(tmp_path / "m" / "train-images-idx3-ubyte.gz")


def test_read_image_folder_mismatched_counts(tmp_path):
    write_image_folder(tmp_path / "m")
    write_idx(tmp_path / "m" / "train-labels-idx1-ubyte.gz", np.zeros(7, np.uint8), gz=True)
    with pytest.raises(DataFormatError, match=r"train-images-idx3-ubyte.gz, field dimensions: "
                       r"holds 6 images but '.*train-labels-idx1-ubyte.gz' holds 7 labels"):
        idx.read_image_folder(tmp_path / "m")


# ------------------------------------------------------------------ .npz archives

def write_npz(path, **arrays):
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    path.write_bytes(buffer.getvalue())
    return path


def mnist_arrays(channels=None, dtype=np.uint8):
    rng = np.random.default_rng(1)
    shape = (6, 5, 5) + ((channels,) if channels else ())
    test_shape = (3,) + shape[1:]
    return {"x_train": rng.integers(0, 256, shape).astype(dtype),
            "y_train": rng.integers(0, 10, 6).astype(np.uint8),
            "x_test": rng.integers(0, 256, test_shape).astype(dtype),
            "y_test": rng.integers(0, 10, 3).astype(np.int64)}


@pytest.mark.parametrize("channels, dtype", [(None, np.uint8), (3, np.float32), (1, np.uint8)])
def test_read_npz_images(tmp_path, channels, dtype):
    arrays = mnist_arrays(channels, dtype)
    path = write_npz(tmp_path / "mnist.npz", **arrays)
    for got in (idx.read_npz_images(path), idx.read_images(path)):
        np.testing.assert_array_equal(got["train"][0], arrays["x_train"])
        np.testing.assert_array_equal(got["test"][1], arrays["y_test"])
        assert got["train"][1].dtype == np.int32 and got["test"][1].dtype == np.int32
        assert got["train"][0].dtype == dtype


def test_read_npz_images_accepts_n_by_1_labels_and_zip_magic_without_the_suffix(tmp_path):
    arrays = mnist_arrays()
    arrays["y_train"] = arrays["y_train"].reshape(-1, 1)
    got = idx.read_images(write_npz(tmp_path / "cifar_like.bin", **arrays))
    assert got["train"][1].shape == (6,)


def test_read_npz_images_errors(tmp_path):
    arrays = mnist_arrays()
    missing = {key: value for key, value in arrays.items() if key != "y_test"}
    with pytest.raises(DataFormatError, match=r"m.npz, field y_test: has no array 'y_test'.*"
                       r"Received: 'keys x_test, x_train, y_train'"):
        idx.read_npz_images(write_npz(tmp_path / "m.npz", **missing))
    with pytest.raises(DataFormatError, match=r"field x_train: holds an object \(pickled\) array;"
                       r" refused.*Received: 'dtype object'"):
        idx.read_npz_images(write_npz(tmp_path / "o.npz", **{
            **arrays, "x_train": np.array([os.system] * 6, dtype=object)}))
    with pytest.raises(DataFormatError, match=r"field y_train: holds 6 images in x_train but 5 "
                                              r"labels in y_train. Received: '6 images, 5 labels'"):
        idx.read_npz_images(write_npz(tmp_path / "c.npz", **{**arrays,
                                                             "y_train": arrays["y_train"][:5]}))
    with pytest.raises(DataFormatError, match=r"field y_test: must hold integer labels \[N\]. "
                                              r"Received: 'shape \(3,\) float32'"):
        idx.read_npz_images(write_npz(tmp_path / "f.npz", **{
            **arrays, "y_test": arrays["y_test"].astype(np.float32)}))
    with pytest.raises(DataFormatError, match=r"field x_test: must hold numeric images"):
        idx.read_npz_images(write_npz(tmp_path / "s.npz", **{
            **arrays, "x_test": arrays["x_test"].reshape(3, 25)}))
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataFormatError, match=r"bad.npz: is not a readable .npz archive"):
        idx.read_npz_images(tmp_path / "bad.npz")
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    (tmp_path / "single.npz").write_bytes(buffer.getvalue())
    with pytest.raises(DataFormatError, match=r"single.npz: is a single .npy array"):
        idx.read_npz_images(tmp_path / "single.npz")


def test_read_npz_images_corrupt_member(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for key, value in mnist_arrays().items():
            member = io.BytesIO()
            np.save(member, value)
            archive.writestr(f"{key}.npy", member.getvalue())
    data = bytearray(buffer.getvalue())
    start = data.index(b"x_train.npy") + len("x_train.npy") + 80
    data[start:start + 4] = b"\xff\xff\xff\xff"  # damage x_train's values: the CRC fails
    (tmp_path / "crc.npz").write_bytes(bytes(data))
    with pytest.raises(DataFormatError, match=r"crc.npz, field x_train: holds a corrupt array"):
        idx.read_npz_images(tmp_path / "crc.npz")


def test_read_images_dispatch_errors(tmp_path):
    single = write_idx(tmp_path / "train-images-idx3-ubyte.gz", images_and_labels(2)[0], gz=True)
    with pytest.raises(DataFormatError, match=r"is a single IDX file; give the folder holding "
                                              r"the four files 'train-images-idx3-ubyte'"):
        idx.read_images(single)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataFormatError, match=r"notes.txt: is neither a folder of IDX files "
                                              r"nor a Keras .npz archive. Received: '68 65 6c 6c'"):
        idx.read_images(tmp_path / "notes.txt")


def test_real_fashion_mnist(real_fashion_mnist):
    start = time.perf_counter()
    data = idx.read_images(real_fashion_mnist)
    seconds = time.perf_counter() - start
    assert data["train"][0].shape == (60000, 28, 28) and data["train"][1].shape == (60000,)
    assert data["test"][0].shape == (10000, 28, 28) and data["test"][1].shape == (10000,)
    assert data["train"][0].dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(data["train"][1]), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(data["test"][1]), [1000] * 10)
    assert seconds < 3, seconds


# ------------------------------------------------------------------ Planetoid files

try:
    import scipy.sparse as scipy_sparse
except ImportError:  # pragma: no cover - scipy is only for building test files
    scipy_sparse = None


def sparse(matrix):
    """A CSR matrix where scipy is installed (as the real files hold), else the array."""
    return scipy_sparse.csr_matrix(matrix) if scipy_sparse is not None else matrix


def dump(path, value, protocol=2):
    path.write_bytes(pickle.dumps(value, protocol=protocol))


def write_planetoid(folder, name="cora", gap=False, labelled=6, allx=510, tests=10, seed=0):
    """Small valid Planetoid files; returns what was written. With ``gap`` one id is
    left out of the test range (as CiteSeer's isolated test nodes are)."""
    import collections

    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    features, classes = 5, 3
    all_x = rng.integers(0, 2, (allx, features)).astype(np.float32)
    all_y = np.eye(classes, dtype=np.int32)[rng.integers(0, classes, allx)]
    tx = np.arange(tests * features, dtype=np.float32).reshape(tests, features) + 2
    ty = np.eye(classes, dtype=np.int32)[np.arange(tests) % classes]
    ids = list(range(allx, allx + tests + (1 if gap else 0)))
    if gap:
        ids.remove(allx + 2)
    test_order = rng.permutation(ids)
    num_nodes = allx + tests + (1 if gap else 0)
    graph = collections.defaultdict(list)
    for node in range(num_nodes):
        graph[node].append((node + 1) % num_nodes)       # one direction only
    graph[0] += [1, 1, 0]                                # a duplicate and a self-loop
    parts = {"x": sparse(all_x[:labelled]), "y": all_y[:labelled], "tx": sparse(tx), "ty": ty,
             "allx": sparse(all_x), "ally": all_y, "graph": graph}
    for part, value in parts.items():
        dump(folder / f"ind.{name}.{part}", value)
    (folder / f"ind.{name}.test.index").write_text("".join(f"{i}\n" for i in test_order))
    return {"allx": all_x, "ally": all_y, "tx": tx, "ty": ty, "test_order": test_order,
            "num_nodes": num_nodes}


@pytest.mark.parametrize("name, gap", [("cora", False), ("pubmed", False), ("citeseer", True)])
def test_read_planetoid_small(tmp_path, name, gap):
    written = write_planetoid(tmp_path, name, gap=gap)
    graph = planetoid.read_planetoid(tmp_path, name)
    num_nodes = written["num_nodes"]
    assert graph.name == name and graph.num_nodes == num_nodes and graph.num_features == 5
    assert graph.node_features.dtype == np.float32 and graph.labels.dtype == np.int32
    assert graph.edge_index.dtype == np.int32
    for split in (graph.train_index, graph.val_index, graph.test_index):
        assert split.dtype == np.int64
    np.testing.assert_array_equal(graph.train_index, np.arange(6))
    np.testing.assert_array_equal(graph.val_index, np.arange(6, 506))
    np.testing.assert_array_equal(graph.test_index, np.sort(written["test_order"]))
    # The reordering: node test_order[i] gets row i of tx and ty.
    for row, node in enumerate(written["test_order"]):
        np.testing.assert_array_equal(graph.node_features[node], written["tx"][row])
        assert graph.labels[node] == row % 3
    np.testing.assert_array_equal(graph.node_features[:510], written["allx"])
    np.testing.assert_array_equal(graph.labels[:510], written["ally"].argmax(1))
    if gap:  # the isolated test node: zero features, label 0
        assert not graph.node_features[512].any() and graph.labels[512] == 0
        assert 512 not in graph.test_index
    # Edges: both directions, no duplicates, no self-loops, sorted.
    expected = sorted({(a, (a + 1) % num_nodes) for a in range(num_nodes)}
                      | {((a + 1) % num_nodes, a) for a in range(num_nodes)})
    assert [tuple(edge) for edge in graph.edge_index.T.tolist()] == expected
    assert graph.num_edges == 2 * num_nodes


def test_read_planetoid_without_scipy(tmp_path, monkeypatch):
    write_planetoid(tmp_path)
    for module in [name for name in sys.modules if name.split(".")[0] == "scipy"] + [
            "scipy", "scipy.sparse", "scipy.sparse.csr", "scipy.sparse._csr"]:
        monkeypatch.setitem(sys.modules, module, None)  # an import of scipy now fails
    graph = planetoid.read_planetoid(tmp_path, "cora")
    assert graph.num_nodes == 520
    if scipy_sparse is not None:
        matrix = planetoid.read_planetoid_pickle(tmp_path / "ind.cora.x")
        assert isinstance(matrix, planetoid.SparseMatrixStandIn)
    assert not any(getattr(value, "__module__", "").startswith("scipy")
                   for value in planetoid.PlanetoidUnpickler.ALLOWED.values())


def test_read_planetoid_unknown_name(tmp_path):
    with pytest.raises(ValueError, match=r"must be one of 'cora', 'citeseer', 'pubmed'. "
                                         r"Received: name='reddit'"):
        planetoid.read_planetoid(tmp_path, "reddit")


class Call:
    """Pickles as a call of ``function(*args)``, as a malicious file would."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def evil_payloads(marker):
    return {
        "posix-system": (Call(os.system, f"touch {marker}"), f"{os.system.__module__}.system"),
        "eval": (Call(eval, f"open({str(marker)!r}, 'w')"), "eval"),
        "popen": (Call(subprocess.Popen, ["touch", str(marker)]), "subprocess.Popen"),
        # hidden inside an allowed container: still refused
        "nested": ({0: [Call(os.system, f"touch {marker}")]}, f"{os.system.__module__}.system"),
    }


@pytest.mark.parametrize("payload", ["posix-system", "eval", "popen", "nested"])
@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_planted_pickle_is_refused_and_never_runs(tmp_path, payload, protocol):
    write_planetoid(tmp_path)
    marker = tmp_path / "pwned"
    value, refused = evil_payloads(marker)[payload]
    dump(tmp_path / "ind.cora.graph", value, protocol=protocol)
    with pytest.raises(DataFormatError, match=r"ind.cora.graph: refuses to unpickle class "
                       r"'[\w.]*" + refused.split(".")[-1] + r"'; Planetoid files hold only "
                       r"numpy arrays, a scipy CSR matrix and a defaultdict. Received: "):
        planetoid.read_planetoid(tmp_path, "cora")
    assert not marker.exists()
    # Unpickled the ordinary way, the same file does run the code: the test is real.
    if payload == "posix-system" and protocol == 2:
        pickle.loads((tmp_path / "ind.cora.graph").read_bytes())
        assert marker.exists()


def test_refused_class_is_named_module_dot_name(tmp_path):
    dump(tmp_path / "ind.cora.x", Call(subprocess.Popen, ["true"]), protocol=4)
    with pytest.raises(DataFormatError, match=r"refuses to unpickle class 'subprocess.Popen'"
                                              r".*Received: 'subprocess.Popen'") as raised:
        planetoid.read_planetoid_pickle(tmp_path / "ind.cora.x")
    assert str(raised.value).count("\n") == 0


def test_restricted_codecs_and_constructors(tmp_path):
    path = tmp_path / "ind.cora.y"
    # _codecs.encode is allowed only to turn latin-1 text into bytes (as protocol 2 does).
    path.write_bytes(b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x05\x00\x00\x00rot13"
                     b"\x86R.")
    with pytest.raises(DataFormatError, match=r"ind.cora.y: is a truncated or corrupt pickle. "
                                              r"Received: 'TypeError: only latin-1"):
        planetoid.read_planetoid_pickle(path)
    dump(path, b"raw bytes")
    assert planetoid.read_planetoid_pickle(path) == b"raw bytes"
    # BUILD cannot set attributes on the allowed callables (they have no __dict__).
    path.write_bytes(b"\x80\x02c_codecs\nencode\n}X\x01\x00\x00\x00aK\x01sb.")
    with pytest.raises(DataFormatError, match=r"truncated or corrupt pickle. "
                                              r"Received: 'AttributeError"):
        planetoid.read_planetoid_pickle(path)


def test_persistent_ids_are_refused(tmp_path):
    class Persistent(pickle.Pickler):
        def persistent_id(self, obj):
            return "outside" if obj == "secret" else None

    buffer = io.BytesIO()
    Persistent(buffer, protocol=2).dump(["secret"])
    (tmp_path / "ind.cora.graph").write_bytes(buffer.getvalue())
    with pytest.raises(DataFormatError, match=r"ind.cora.graph: refuses a pickle persistent id"
                                              r".*Received: 'outside'"):
        planetoid.read_planetoid_pickle(tmp_path / "ind.cora.graph")


@pytest.mark.parametrize("cut", ["half", "garbage", "empty"])
def test_corrupt_pickles(tmp_path, cut):
    write_planetoid(tmp_path)
    path = tmp_path / "ind.cora.allx"
    data = path.read_bytes()
    path.write_bytes({"half": data[:len(data) // 2], "garbage": b"\x80\x02\xff\xfe junk",
                      "empty": b""}[cut])
    with pytest.raises(DataFormatError, match=r"ind.cora.allx: is a truncated or corrupt pickle."
                                              r" Received: '"):
        planetoid.read_planetoid(tmp_path, "cora")


def test_test_index_errors(tmp_path):
    write_planetoid(tmp_path)
    path = tmp_path / "ind.cora.test.index"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:2] + ["12a"] + lines[3:]) + "\n")
    with pytest.raises(DataFormatError, match=r"ind.cora.test.index, line 3: must hold one "
                                              r"non-negative integer per line. Received: '12a'"):
        planetoid.read_planetoid(tmp_path, "cora")
    path.write_text("\n".join(lines[:2] + ["-4"] + lines[3:]) + "\n")
    with pytest.raises(DataFormatError, match=r"line 3: must hold one non-negative.*'-4'"):
        planetoid.read_planetoid(tmp_path, "cora")
    path.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(DataFormatError, match=r"test.index: must hold 10 distinct node ids, one "
                                              r"per row of '.*ind.cora.tx'. Received: '9 ids"):
        planetoid.read_planetoid(tmp_path, "cora")
    path.write_text("\n".join(lines[:-1] + lines[:1]) + "\n")
    with pytest.raises(DataFormatError, match=r"Received: '10 ids, 9 distinct'"):
        planetoid.read_planetoid(tmp_path, "cora")
    path.write_text("\n".join(lines[:-1] + ["999"]) + "\n")
    with pytest.raises(DataFormatError, match=r"test.index: names a node outside 0..519. "
                                              r"Received: '999'"):
        planetoid.read_planetoid(tmp_path, "cora")
    path.write_text("\n\n")
    with pytest.raises(DataFormatError, match=r"test.index: holds no test node ids"):
        planetoid.read_planetoid(tmp_path, "cora")
    path.write_bytes(b"1\n\xff\xfe\n")
    with pytest.raises(DataFormatError, match=r"test.index: is not UTF-8 text"):
        planetoid.read_planetoid(tmp_path, "cora")


def test_planetoid_content_errors(tmp_path):
    write_planetoid(tmp_path)
    dump(tmp_path / "ind.cora.graph", {0: [1], 1: [600]})
    with pytest.raises(DataFormatError, match=r"ind.cora.graph, field node id: names a node "
                                              r"outside 0..519 \(the nodes with features\). "
                                              r"Received: '600'"):
        planetoid.read_planetoid(tmp_path, "cora")
    dump(tmp_path / "ind.cora.graph", {0: ["1"]})
    with pytest.raises(DataFormatError, match=r"field node id: must hold integer node ids. "
                                              r"Received: 'str'"):
        planetoid.read_planetoid(tmp_path, "cora")
    dump(tmp_path / "ind.cora.graph", {0: 1})
    with pytest.raises(DataFormatError, match=r"field node 0: must map each node to a list"):
        planetoid.read_planetoid(tmp_path, "cora")
    dump(tmp_path / "ind.cora.graph", [[0, 1]])
    with pytest.raises(DataFormatError, match=r"graph: must hold a dict of neighbour lists. "
                                              r"Received: 'list'"):
        planetoid.read_planetoid(tmp_path, "cora")
    write_planetoid(tmp_path)
    dump(tmp_path / "ind.cora.y", np.zeros((5, 3), np.int32))
    with pytest.raises(DataFormatError, match=r"ind.cora.y: holds 5 label rows but "
                                              r"'.*ind.cora.x' holds 6 feature rows"):
        planetoid.read_planetoid(tmp_path, "cora")
    dump(tmp_path / "ind.cora.y", np.zeros(6, np.int32))
    with pytest.raises(DataFormatError, match=r"ind.cora.y: must hold one-hot labels.*"
                                              r"Received: 'array of shape \(6,\)"):
        planetoid.read_planetoid(tmp_path, "cora")
    write_planetoid(tmp_path)
    dump(tmp_path / "ind.cora.tx", np.zeros((10, 4), np.float32))
    with pytest.raises(DataFormatError, match=r"ind.cora.tx: has 4 columns but '.*ind.cora.x' "
                                              r"has 5"):
        planetoid.read_planetoid(tmp_path, "cora")
    dump(tmp_path / "ind.cora.tx", {"not": "a matrix"})
    with pytest.raises(DataFormatError, match=r"ind.cora.tx: must hold a feature matrix.*"
                                              r"Received: 'dict'"):
        planetoid.read_planetoid(tmp_path, "cora")
    write_planetoid(tmp_path, labelled=30, allx=30)
    with pytest.raises(DataFormatError, match=r"ind.cora.y: leaves fewer than 500 validation "
                                              r"nodes among 40"):
        planetoid.read_planetoid(tmp_path, "cora")


def csr_state(**changes):
    state = {"_shape": (2, 3), "data": np.array([1.0, 2.0], np.float32),
             "indices": np.array([2, 0], np.int32), "indptr": np.array([0, 1, 2], np.int32),
             "format": "csr"}
    state.update(changes)
    matrix = planetoid.SparseMatrixStandIn()
    matrix.__setstate__(state)
    return matrix


@pytest.mark.parametrize("changes, match", [
    ({"format": "csc"}, r"m, field format: holds a sparse matrix that is not CSR. "
                        r"Received: 'csc'"),
    ({"data": None}, r"field data: holds a CSR matrix without a 1-D array here. "
                     r"Received: 'NoneType'"),
    ({"_shape": (2,)}, r"field shape: holds a CSR matrix without a 2-D shape"),
    ({"_shape": (1 << 20, 1 << 20)}, r"field shape: holds a 1048576 x 1048576 matrix, over"),
    ({"indptr": np.array([0, 2, 1])}, r"field indptr: holds a CSR matrix whose indptr, "
                                      r"indices and data do not agree"),
    ({"indices": np.array([2, 3])}, r"field indices: holds a CSR column index outside 0..2. "
                                    r"Received: '2..3'"),
    ({"data": np.array(["a", "b"])}, r"field data: holds a CSR matrix of non-numeric arrays"),
])
def test_sparse_stand_in_checks_its_arrays(changes, match):
    with pytest.raises(DataFormatError, match=match):
        csr_state(**changes).to_dense("m")


def test_sparse_stand_in_sums_duplicates_like_scipy():
    matrix = csr_state(data=np.array([1.0, 2.0, 3.0]), indices=np.array([1, 1, 0]),
                       indptr=np.array([0, 2, 3]))
    np.testing.assert_array_equal(matrix.to_dense("m"), [[0, 3, 0], [3, 0, 0]])
    if scipy_sparse is not None:
        dense = scipy_sparse.random(7, 9, density=0.3, format="csr", random_state=0)
        dump_path = io.BytesIO(pickle.dumps(dense, protocol=2))
        stand_in = planetoid.PlanetoidUnpickler(dump_path.getvalue(), "m").load()
        np.testing.assert_allclose(stand_in.to_dense("m"), dense.toarray(), rtol=1e-6)


def test_real_cora(real_planetoid):
    graph = planetoid.read_planetoid(real_planetoid, "cora")
    assert (graph.num_nodes, graph.num_features, graph.num_classes) == (2708, 1433, 7)
    assert graph.edge_index.shape == (2, 10556)
    assert (len(graph.train_index), len(graph.val_index), len(graph.test_index)) == (140, 500,
                                                                                     1000)
    np.testing.assert_array_equal(np.bincount(graph.labels[graph.train_index]), [20] * 7)
    np.testing.assert_array_equal(np.bincount(graph.labels), [351, 217, 418, 818, 426, 298, 180])
    assert set(np.unique(graph.node_features).tolist()) == {0.0, 1.0}
    edges = set(map(tuple, graph.edge_index.T.tolist()))
    assert all((b, a) in edges for a, b in edges) and all(a != b for a, b in edges)
    assert np.array_equal(graph.test_index, np.sort(graph.test_index))


# ------------------------------------------------------------------ the Keras cache

def test_keras_cache_dir_follows_keras(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert cache.keras_cache_dir() == tmp_path / "datasets"
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".keras").mkdir()  # importing Keras makes it
    assert cache.keras_cache_dir() == tmp_path / ".keras" / "datasets"
    # A Keras home that cannot be written (here: does not exist) falls back to /tmp/.keras.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "absent"))
    fallback = pathlib.Path("/tmp" if os.path.isdir("/tmp") else "", ".keras", "datasets")
    assert cache.keras_cache_dir() == fallback


def test_cached_mnist(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert cache.cached_images("mnist") is None
    (tmp_path / "datasets").mkdir()
    arrays = mnist_arrays()
    write_npz(tmp_path / "datasets" / "mnist.npz", **arrays)
    got = cache.cached_images("mnist")
    np.testing.assert_array_equal(got["train"][0], arrays["x_train"])
    np.testing.assert_array_equal(got["test"][1], arrays["y_test"])
    (tmp_path / "datasets" / "mnist.npz").write_bytes(b"PK\x03\x04 broken download")
    with pytest.raises(DataFormatError, match=r"mnist.npz: is not a readable .npz archive"):
        cache.cached_images("mnist")


def test_cached_fashion_mnist(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert cache.cached_images("fashion_mnist") is None
    folder = tmp_path / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    written = write_image_folder(folder, gz=True)
    got = cache.cached_images("fashion_mnist")
    np.testing.assert_array_equal(got["train"][0], written["train"][0])
    np.testing.assert_array_equal(got["test"][1], written["test"][1])
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b truncated")
    with pytest.raises(DataFormatError, match=r"t10k-images-idx3-ubyte.gz, field gzip: is a "
                                              r"corrupt or truncated gzip stream"):
        cache.cached_images("fashion_mnist")
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    assert cache.cached_images("fashion_mnist") is None


def test_cached_images_unknown_name():
    with pytest.raises(ValueError, match=r"one of 'mnist', 'fashion_mnist'. "
                                         r"Received: name='cifar10'"):
        cache.cached_images("cifar10")
