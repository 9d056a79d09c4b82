"""Image datasets in IDX files (the MNIST family) and Keras ``.npz`` archives.

IDX is the format of MNIST, Fashion-MNIST and Kuzushiji-MNIST: a 4-byte
magic (two zero bytes, a type code, the number of dimensions), the
dimensions as big-endian 32-bit integers, then the values, big-endian. A
file may be gzip-compressed (recognised by its first bytes, not its name).

>>> import gzip
>>> header = bytes([0, 0, 0x08, 3]) + (2).to_bytes(4, "big") * 3
>>> _ = open("tiny-idx3-ubyte.gz", "wb").write(gzip.compress(header + bytes(range(8))))
>>> read_idx("tiny-idx3-ubyte.gz")[1]
array([[4, 5],
       [6, 7]], dtype=uint8)
>>> _ = open("short-idx3-ubyte", "wb").write(header + bytes(5))
>>> read_idx("short-idx3-ubyte")
Traceback (most recent call last):
...
applications.formats.errors.DataFormatError: short-idx3-ubyte, field dimensions: header says \
2 x 2 x 2 uint8 (8 bytes) but the file holds 5 bytes of data. Received: '5 bytes'
"""

import gzip
import io
import math
import os
import pathlib
import zipfile
import zlib

import numpy as np

from applications.formats.errors import format_error
from zoo.files import read_regular_file
from zoo.untrusted import quoted

#: The most bytes an IDX file may have, compressed or not (MNIST's largest is 47 MB).
IDX_LIMIT = 4 << 30
#: The most bytes a ``.npz`` archive may have, and the most its arrays may unpack to.
NPZ_LIMIT = 4 << 30
NPZ_UNPACKED_LIMIT = 16 << 30

#: IDX type code -> big-endian dtype.
IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

#: The splits of an image dataset and the file-name prefixes of their IDX files.
SPLITS = {"train": "train", "test": "t10k"}
#: The keys of a Keras image ``.npz`` (``keras.datasets.mnist``): split -> (images, labels).
NPZ_KEYS = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}


def _hex(data):
    return quoted(" ".join(f"{byte:02x}" for byte in data))


def _decompress(path, data, limit):
    """``data`` gunzipped if it starts with the gzip magic, at most ``limit`` bytes."""
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            plain = stream.read(limit + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise format_error(path, "is a corrupt or truncated gzip stream",
                           field="gzip", received=quoted(error)) from None
    if len(plain) > limit:
        raise format_error(path, f"unpacks to over {limit:,} bytes, over the limit",
                           field="gzip", received=quoted(f"{len(data):,} compressed bytes"))
    return plain


def _parse_idx(path, data, compressed=False):
    """The array an IDX file's bytes (already decompressed) hold."""
    if len(data) < 4:
        raise format_error(path, "is too short for an IDX header (4 magic bytes)",
                           field="magic", received=_hex(data))
    if data[:2] != b"\x00\x00":
        raise format_error(path, "does not start with the IDX magic (two zero bytes, a type "
                                 "code, a dimension count)", field="magic", received=_hex(data[:4]))
    code, ndim = data[2], data[3]
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{key:02x} ({value.name})" for key, value in IDX_TYPES.items())
        raise format_error(path, f"has an unknown IDX type code; known: {known}",
                           field="type code", received=quoted(f"0x{code:02x}"))
    if ndim == 0:
        raise format_error(path, "declares 0 dimensions", field="dimensions",
                           received=quoted(ndim))
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise format_error(path, f"has a truncated IDX header: {ndim} dimensions need "
                                 f"{offset} header bytes", field="dimensions",
                           received=quoted(f"{len(data)} bytes"))
    dims = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_TYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    held = len(data) - offset
    if expected != held:
        note = " (after decompression)" if compressed else ""
        raise format_error(
            path, f"header says {' x '.join(map(str, dims))} {dtype.name} ({expected:,} bytes) "
                  f"but the file holds {held:,} bytes of data{note}",
            field="dimensions", received=quoted(f"{held:,} bytes"))
    array = np.frombuffer(data, dtype=dtype, count=math.prod(dims), offset=offset)
    return array.astype(dtype.newbyteorder("="), copy=True).reshape(dims)


def read_idx(path):
    """The array in an IDX file, gzip-compressed or not.

    Args:
        path: the file (``train-images-idx3-ubyte``, ``...ubyte.gz``, ...).

    Returns:
        A NumPy array in native byte order, of the file's dtype and dimensions.

    Raises:
        DataFormatError: a bad magic, an unknown type code, a truncated header,
            dimensions that do not match the data, or a corrupt gzip stream.
        FileNotFoundError: nothing is at ``path``.
    """
    raw = read_regular_file(path, IDX_LIMIT)
    return _parse_idx(path, _decompress(path, raw, IDX_LIMIT), raw[:2] == _GZIP_MAGIC)


def _check_pair(images_path, labels_path, images, labels):
    if labels.shape[:1] != images.shape[:1]:
        raise format_error(images_path, f"holds {images.shape[0]:,} images but "
                                        f"{quoted(os.fspath(labels_path))} holds "
                                        f"{labels.shape[0]:,} labels", field="dimensions",
                           received=quoted(f"{images.shape[0]} images, {labels.shape[0]} "
                                           f"labels"))


def read_idx_pair(images_path, labels_path):
    """Images and their labels from two IDX files.

    Args:
        images_path: an IDX file of ``uint8`` images, dimensions [N, H, W].
        labels_path: an IDX file of N integer labels.

    Returns:
        ``(images, labels)``: ``uint8`` [N, H, W] and ``int32`` [N].

    Raises:
        DataFormatError: either file is not IDX, the images are not 3-D
            ``uint8``, the labels not 1-D integers, or the counts differ (the
            message names both files).
    """
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise format_error(images_path, "must hold uint8 images of dimensions N x H x W",
                           field="dimensions",
                           received=quoted(f"{' x '.join(map(str, images.shape))} "
                                           f"{images.dtype.name}"))
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise format_error(labels_path, "must hold integer labels of one dimension N",
                           field="dimensions",
                           received=quoted(f"{' x '.join(map(str, labels.shape))} "
                                           f"{labels.dtype.name}"))
    _check_pair(images_path, labels_path, images, labels)
    return images, labels.astype(np.int32)


def idx_names(split, kind):
    """The file names an IDX file of ``split`` ("train"/"test") and ``kind``
    ("images"/"labels") may have, in the order they are looked for."""
    stem = f"{SPLITS[split]}-{kind}"
    suffix = "idx3" if kind == "images" else "idx1"
    names = [f"{stem}-{suffix}-ubyte", f"{stem}.{suffix}-ubyte"]
    return [variant for name in names for variant in (name, name + ".gz")]


def read_image_folder(path):
    """An image dataset from a folder of MNIST-family IDX files.

    The folder holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each optionally
    ``.gz`` and with ``.idx3``/``.idx1`` for ``-idx3``/``-idx1``.

    Args:
        path: the folder.

    Returns:
        ``{"train": (images, labels), "test": (images, labels)}``, images
        ``uint8`` [N, H, W], labels ``int32`` [N].

    Raises:
        DataFormatError: ``path`` is not a folder, one of the four files is
            missing (the message lists the names looked for), or a file is bad.
    """
    folder = pathlib.Path(path)
    if not folder.is_dir():
        raise format_error(path, "is not a folder of IDX files", received=quoted(folder))
    found = {}
    for split in SPLITS:
        pair = []
        for kind in ("images", "labels"):
            names = idx_names(split, kind)
            match = next((folder / name for name in names if (folder / name).exists()), None)
            if match is None:
                present = sorted(entry.name for entry in folder.iterdir())[:20]
                raise format_error(
                    path, f"holds no {split} {kind}: looked for "
                          f"{', '.join(quoted(name) for name in names)}",
                    field=f"{split} {kind}", received=quoted(", ".join(present) or "(empty)"))
            pair.append(match)
        found[split] = read_idx_pair(*pair)
    return found


def _npz_images(path, data):
    """``read_npz_images`` on the archive's bytes."""
    if data[:6] == b"\x93NUMPY":
        raise format_error(path, "is a single .npy array, not a .npz archive of x_train, "
                                 "y_train, x_test, y_test", received=_hex(data[:6]))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        archive = np.load(io.BytesIO(data), allow_pickle=False)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise format_error(path, "is not a readable .npz archive",
                           received=quoted(error)) from None
    if unpacked > NPZ_UNPACKED_LIMIT:
        raise format_error(path, f"unpacks to {unpacked:,} bytes, over the limit of "
                                 f"{NPZ_UNPACKED_LIMIT:,}", received=quoted(unpacked))
    if not isinstance(archive, np.lib.npyio.NpzFile):  # pragma: no cover - zip checked above
        raise format_error(path, "is not a .npz archive", received=quoted(type(archive).__name__))
    with archive:
        keys = sorted(archive.files)
        result = {}
        for split, (image_key, label_key) in NPZ_KEYS.items():
            arrays = []
            for key in (image_key, label_key):
                if key not in archive.files:
                    raise format_error(path, f"has no array {quoted(key)}; a Keras image "
                                             f"archive has x_train, y_train, x_test, y_test",
                                       field=key,
                                       received=quoted(f"keys {', '.join(keys) or '(none)'}"))
                try:
                    arrays.append(archive[key])
                except ValueError as error:
                    if "allow_pickle" in str(error):
                        raise format_error(path, "holds an object (pickled) array; refused, "
                                                 "only numeric arrays are read", field=key,
                                           received=quoted("dtype object")) from None
                    raise format_error(path, "holds an unreadable array", field=key,
                                       received=quoted(error)) from None
                except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
                    raise format_error(path, "holds a corrupt array", field=key,
                                       received=quoted(error)) from None
            images, labels = arrays
            if images.ndim not in (3, 4) or images.dtype.kind not in "uif":
                raise format_error(path, "must hold numeric images [N, H, W] or [N, H, W, C]",
                                   field=image_key,
                                   received=quoted(f"shape {images.shape} {images.dtype}"))
            if labels.ndim == 2 and labels.shape[1] == 1:
                labels = labels[:, 0]
            if labels.ndim != 1 or labels.dtype.kind not in "iu":
                raise format_error(path, "must hold integer labels [N]", field=label_key,
                                   received=quoted(f"shape {labels.shape} {labels.dtype}"))
            if labels.shape[0] != images.shape[0]:
                raise format_error(path, f"holds {images.shape[0]:,} images in {image_key} "
                                         f"but {labels.shape[0]:,} labels in {label_key}",
                                   field=label_key,
                                   received=quoted(f"{images.shape[0]} images, "
                                                   f"{labels.shape[0]} labels"))
            result[split] = (images, labels.astype(np.int32))
    return result


def read_npz_images(path):
    """An image dataset from a Keras dataset archive such as ``mnist.npz``.

    Arrays are loaded with ``allow_pickle=False``: an object array is refused.

    Args:
        path: the ``.npz`` file, with arrays ``x_train``, ``y_train``,
            ``x_test``, ``y_test``.

    Returns:
        ``{"train": (images, labels), "test": (images, labels)}``: images as
        stored ([N, H, W] or [N, H, W, C], integer or float), labels ``int32`` [N].

    Raises:
        DataFormatError: not a zip archive, a missing key (the message lists
            the keys found), an object or corrupt array, or counts that differ.
    """
    return _npz_images(path, read_regular_file(path, NPZ_LIMIT))


def read_images(path):
    """An image dataset from a folder of IDX files or a Keras ``.npz`` archive.

    Args:
        path: a folder (see ``read_image_folder``) or a ``.npz`` file.

    Returns:
        ``{"train": (images, labels), "test": (images, labels)}``.

    Raises:
        DataFormatError: a single IDX file (give the folder holding the four
            files), a file that is neither, or any error of the readers.
    """
    if pathlib.Path(path).is_dir():
        return read_image_folder(path)
    data = read_regular_file(path, max(NPZ_LIMIT, IDX_LIMIT))
    if data[:4] in _ZIP_MAGICS or os.fspath(path).lower().endswith(".npz"):
        return _npz_images(path, data)
    if data[:2] in (b"\x00\x00", _GZIP_MAGIC):
        names = ", ".join(quoted(idx_names(split, kind)[0]) for split in SPLITS
                          for kind in ("images", "labels"))
        raise format_error(path, f"is a single IDX file; give the folder holding the four "
                                 f"files {names}", received=quoted(os.fspath(path)))
    raise format_error(path, "is neither a folder of IDX files nor a Keras .npz archive",
                       received=_hex(data[:4]))
