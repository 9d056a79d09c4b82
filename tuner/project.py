"""A search's folder on disk: whose it is, who runs it, and which search it holds.

``search()`` keeps a search in ``directory/project_name`` and follows four
rules there:

- **Claimed.** A new search's folder is claimed with
  ``zoo.files.claim_directory`` (an atomic marker, ``.zoo-owner.json``, of
  kind ``"zoo tune search"``). Of two searches started on one folder at the
  same moment exactly one gets it. A folder that exists, is not empty and
  carries no marker is the user's: it is never written to, resumed or
  deleted.
- **Locked while it runs.** The process running a search holds an
  exclusive lock on ``.zoo-search.lock`` in that folder until it returns
  (released by the system even after ``kill -9``). A second search on the
  same folder fails at once instead of mixing its trials in.
- **Deleted only if ours.** ``resume=False`` deletes the folder only
  through ``zoo.files.remove_owned_directory``, which refuses a folder
  without the search marker; ``project_name`` is one plain folder name, so
  ``..`` cannot point the deletion at the parent of ``directory``.
- **One identity.** ``zoo_search.json`` records the settings that define
  the search: model, algorithm, objective and direction, space edits and
  overrides, epochs, batch size, seed, executions per trial and a
  fingerprint of the data (SHA-256 over the dtype, shape and bytes of
  every training and validation array, dict inputs in sorted key order).
  Resuming with any of them different is refused, naming the setting.

Searches made by an earlier release (``oracle.json`` and
``zoo_search.json`` but no marker) are resumed: the settings they recorded
are checked, the ones they did not record (data, epochs, batch size, seed,
...) cannot be, so a ``UserWarning`` says so and they are recorded from
then on. Such a folder is never deleted (``resume=False`` is refused with
a message); delete it yourself to start over.

Datasets (``tf.data``, ``keras.utils.PyDataset``, generators) are not read
to be fingerprinted: their identity is their type, element structure and
the ``dataset`` description the caller gives.

Distributed workers use the chief's folder as it is: they neither claim,
lock nor delete it, and they refuse to write into a folder that is not a
search.

>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> x = np.zeros((4, 3), "float32")
>>> settings = {"epochs": 1, "data": fingerprint((x, x))}
>>> lock = open_project(root / "search", settings, resume=True)
>>> lock.release()
>>> open_project(root / "search", {**settings, "epochs": 2}, resume=True)
Traceback (most recent call last):
...
ValueError: The search in '...search' was started with epochs=1; ... Received: epochs=2
"""

import contextlib
import hashlib
import json
import os
import pathlib
import socket
import time
import warnings

import numpy as np

from tuner import state
from zoo import files
from zoo.untrusted import printable, quoted

#: The kind recorded in the marker of a search's folder.
KIND = "zoo tune search"
#: The settings that identify a search (and a few facts about it).
SETTINGS_FILE = "zoo_search.json"
#: Held (``flock``) by the process running the search.
LOCK_FILE = ".zoo-search.lock"
#: ``format`` of ``SETTINGS_FILE``; files without it come from an earlier release.
SETTINGS_FORMAT = 2
_ORACLE_FILE = "oracle.json"
_CHUNK = 1 << 22  # bytes hashed at a time from an array that is not contiguous


# ------------------------------------------------------------ names

def check_project_name(project_name):
    """``project_name`` as a string, if it is one plain folder name.

    Raises:
        TypeError: not a string (or path).
        ValueError: empty, ``.``, ``..``, or holding ``/``, ``\\`` or NUL.
    """
    if isinstance(project_name, os.PathLike):
        project_name = os.fspath(project_name)
    if not isinstance(project_name, str):
        raise TypeError("`project_name` must be a folder name (a string). "
                        f"Received: project_name={printable(repr(project_name))}")
    if (project_name in ("", ".", "..") or any(sep in project_name for sep in "/\\\0")
            or (os.altsep and os.altsep in project_name)):
        raise ValueError(
            "`project_name` must be one plain folder name inside `directory` (not empty, "
            "'.' or '..', without '/', '\\' or NUL characters). "
            f"Received: project_name={quoted(project_name)}")
    return project_name


# ------------------------------------------------------------ data fingerprint

def _leaves(value, path):
    if value is None:
        yield path, None
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            yield from _leaves(value[key], f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    else:
        yield path, value


def _as_array(value):
    """``value`` as a NumPy array (no copy for NumPy arrays), or None for a pipeline."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (bool, int, float, complex, str, bytes, np.generic)):
        return np.asarray(value)
    if not hasattr(value, "__array__") and not hasattr(value, "numpy"):
        return None  # a dataset, a generator, a PyDataset: not read here
    try:
        return np.asarray(value)
    except Exception:  # e.g. a tensor on an accelerator
        try:
            import keras

            return keras.ops.convert_to_numpy(value)
        except Exception:
            return None


def _hash_array(hasher, array):
    """Hash ``array``'s bytes in C order without copying more than ``_CHUNK`` at a time."""
    if array.dtype.hasobject:
        hasher.update(repr(array.tolist()).encode())
        return
    if array.size == 0:
        return  # the dtype and shape, hashed already, say it all
    if array.flags.c_contiguous:
        flat = array.reshape(-1).view(np.uint8)  # a view: nothing is copied
        for start in range(0, flat.size, _CHUNK):
            hasher.update(flat[start:start + _CHUNK])
        return
    # A slice or Fortran order: a few rows at a time (a row too big, element by element).
    row_bytes = array[0].nbytes
    if row_bytes > _CHUNK:
        for row in array:
            _hash_array(hasher, row)
        return
    rows = max(1, _CHUNK // max(row_bytes, 1))
    for start in range(0, array.shape[0], rows):
        chunk = np.ascontiguousarray(array[start:start + rows])
        hasher.update(chunk.reshape(-1).view(np.uint8))
        del chunk  # before the next one is made


def _parts(train, validation):
    for name, data in (("train", train), ("validation", validation)):
        if isinstance(data, (tuple, list)) and len(data) in (2, 3):
            labels = ("x", "y", "sample_weight")
            for label, item in zip(labels, data):
                yield from _leaves(item, f"{name}.{label}")
        else:
            yield from _leaves(data, name)


def fingerprint(train, validation=None, description=None):
    """A string that identifies the data of a search.

    For arrays: ``"sha256:<hex> of <name> <dtype>[<shape>], ..."``, a
    SHA-256 over every array's name, dtype, shape and bytes (C order, so a
    Fortran-ordered copy of the same values matches), dict entries in
    sorted key order. Contiguous arrays are hashed in place; others a few
    rows at a time, so nothing large is copied.

    For datasets (anything that is not an array): their type and element
    structure and ``description``; their contents are not read.

    >>> x = np.arange(12, dtype="float32").reshape(4, 3)
    >>> fingerprint((x, x)) == fingerprint((np.asfortranarray(x), x.copy()))
    True
    >>> fingerprint((x, x)) == fingerprint((x, x[::-1]))
    False
    """
    hasher = hashlib.sha256()
    shown, pipelines = [], []
    for path, leaf in _parts(train, validation):
        hasher.update(f"\0{path}\0".encode())
        if leaf is None:
            hasher.update(b"None")
            continue
        array = _as_array(leaf)
        if array is None:
            kind = f"{type(leaf).__module__}.{type(leaf).__qualname__}"
            spec = getattr(leaf, "element_spec", None)
            pipelines.append(f"{path}: {kind}" + (f" {spec}" if spec is not None else ""))
            continue
        hasher.update(f"{array.dtype.str}{array.shape}\0".encode())
        _hash_array(hasher, array)
        shown.append(f"{path} {array.dtype.name}{list(array.shape)}")
    if pipelines:
        text = "; ".join(pipelines) + " (contents not fingerprinted)"
        if description:
            text += f", described as {description!r}"
        if shown:
            text += f"; arrays sha256:{hasher.hexdigest()} of {', '.join(shown)}"
        return text
    return f"sha256:{hasher.hexdigest()} of {', '.join(shown)}"


# ------------------------------------------------------------ the lock

class ProjectLock:
    """An exclusive lock on a search's folder, held until ``release()``."""

    def __init__(self, fd, path):
        self._fd = fd
        self.path = path

    def release(self):
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                _unlock(fd)
            os.close(fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


try:
    import fcntl

    def _try_lock(fd):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd):
        fcntl.flock(fd, fcntl.LOCK_UN)
except ImportError:  # pragma: no cover - Windows
    import msvcrt

    def _try_lock(fd):
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd):
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def lock_project(project_dir):
    """Lock ``project_dir`` for this process, or fail at once if another holds it.

    Raises:
        FileExistsError: another process (or another search in this one)
            is running the search in ``project_dir``.
    """
    path = os.path.join(os.fspath(project_dir), LOCK_FILE)
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o644)
    try:
        _try_lock(fd)
    except OSError:
        holder = ""
        with contextlib.suppress(OSError, ValueError):
            record = json.loads(os.pread(fd, 4096, 0) or b"{}")
            holder = f" (process {int(record['pid'])} on {printable(record['host'], 80)})"
        os.close(fd)
        raise FileExistsError(
            f"The search in {quoted(project_dir)} is being run by another process{holder}; "
            "wait for it to finish, or choose another project_name (--project-name). "
            f"Received: project_dir={quoted(project_dir)}") from None
    try:
        record = json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, record, 0)
    except OSError:
        pass  # the lock holds without the note of who holds it
    return ProjectLock(fd, path)


# ------------------------------------------------------------ opening a project

def is_legacy_search(project_dir):
    """A search made by an earlier release: keras-tuner's and our state, no marker."""
    project_dir = pathlib.Path(project_dir)
    return (files.owner(project_dir) is None and (project_dir / _ORACLE_FILE).is_file()
            and (project_dir / SETTINGS_FILE).is_file())


def is_search(project_dir):
    """True for a folder claimed by a search, or a search of an earlier release."""
    record = files.owner(project_dir)
    if record is not None:
        return record.get("kind") == KIND
    return is_legacy_search(project_dir)


def _is_empty_dir(path):
    return path.is_dir() and not path.is_symlink() and not any(path.iterdir())


def _not_a_search(path, record):
    if record is not None:
        what = f"belongs to {quoted(record.get('kind'))}, not to a zoo tune search"
    else:
        what = f"is not a zoo tune search (it has no {files.MARKER} marker)"
    return ValueError(
        f"{quoted(path)} exists and {what}; it is left untouched. Choose another "
        "directory or project_name (--directory, --project-name). "
        f"Received: project_dir={quoted(path)}")


def _delete(path):
    """``resume=False``: delete the search at ``path``, if it is one we made."""
    if not path.exists() and not path.is_symlink():
        return
    if _is_empty_dir(path):
        return  # nothing to delete; claimed below
    if not path.is_symlink() and is_legacy_search(path):
        raise ValueError(
            f"{quoted(path)} is a search made by an earlier release of zoo tune (it has no "
            f"{files.MARKER} marker), so resume=False (--no-resume) does not delete it; "
            "delete it yourself, resume it, or choose another project_name "
            f"(--project-name). Received: project_dir={quoted(path)}")
    record = None if path.is_symlink() else files.owner(path)
    if record is None or record.get("kind") != KIND:
        files.remove_owned_directory(path, KIND)  # refuses, with its reason
        raise AssertionError("unreachable: remove_owned_directory refused nothing")
    with lock_project(path):  # refuses a search that is running
        files.remove_owned_directory(path, KIND)


def _read_settings(path):
    settings_path = path / SETTINGS_FILE
    if not settings_path.exists():
        return None
    try:
        previous = json.loads(files.read_regular_file(settings_path, 1 << 22))
    except (OSError, ValueError) as error:
        raise ValueError(
            f"The settings of the search in {quoted(path)} cannot be read "
            f"({printable(error, 200)}); resume=False (--no-resume) starts it over. "
            f"Received: {quoted(settings_path)}") from None
    if not isinstance(previous, dict):
        raise ValueError(f"The settings of the search in {quoted(path)} are not a JSON object; "
                         "resume=False (--no-resume) starts it over. "
                         f"Received: {quoted(settings_path)}")
    return previous


def check_settings(project_dir, previous, settings):
    """Refuse to resume the search in ``project_dir`` with other ``settings``.

    A settings file of an earlier release (no ``format``) lacks some keys:
    those are not compared.
    """
    legacy = "format" not in previous
    keys = [key for key in settings if key != "format" and (not legacy or key in previous)]
    if not legacy:
        # A setting recorded only when used (several objectives, pruning) counts when absent.
        keys += [key for key in previous if key != "format" and key not in settings]
    changed = [key for key in keys if previous.get(key) != settings.get(key)]
    if changed:
        key = changed[0]
        raise ValueError(
            f"The search in {quoted(project_dir)} was started with "
            f"{key}={printable(repr(previous.get(key)))}; resume it with the same settings, "
            "or pass resume=False (--no-resume) to start over, or another project_name "
            f"(--project-name). Received: {key}={printable(repr(settings.get(key)))}")
    return [key for key in settings if key != "format" and key not in previous]


def open_project(project_dir, settings, resume=True):
    """Claim (or reopen) and lock the search folder ``project_dir`` for ``settings``.

    ``settings`` is JSON-like; it is normalised, checked against the
    recorded ones when a search is resumed, and written to
    ``SETTINGS_FILE``.

    Returns:
        The ``ProjectLock``; release it when the search returns.

    Raises:
        ValueError: the folder is not a search (the user's own), the
            search was started with other settings, or ``resume=False``
            for a folder the zoo did not make.
        FileExistsError: another process claimed or is running it.
    """
    path = pathlib.Path(project_dir)
    settings = json.loads(json.dumps({**settings, "format": SETTINGS_FORMAT}))
    if not resume:
        _delete(path)
    record = None if not path.exists() else files.owner(path)
    if not path.exists() or (record is None and _is_empty_dir(path)):
        try:
            files.claim_directory(path, KIND, details={"model_name": settings.get("model_name")})
        except FileExistsError:
            record = files.owner(path)
            for _ in range(40):
                # The winner creates its marker first and writes it a moment later.
                if record is not None or not (path / files.MARKER).exists():
                    break
                time.sleep(0.05)
                record = files.owner(path)
            if record is None or record.get("kind") != KIND:
                raise
            raise FileExistsError(
                f"The search folder {quoted(path)} was claimed by another zoo tune search at "
                "the same moment; wait for it to finish and resume, or choose another "
                f"project_name (--project-name). Received: project_dir={quoted(path)}") from None
    elif record is None and not is_legacy_search(path):
        raise _not_a_search(path, None)
    elif record is not None and record.get("kind") != KIND:
        raise _not_a_search(path, record)
    lock = lock_project(path)
    try:
        previous = _read_settings(path)
        if previous is not None:
            unchecked = check_settings(path, previous, settings)
            if unchecked:
                warnings.warn(
                    f"The search in {quoted(path)} was made by an earlier release, which did "
                    f"not record {', '.join(unchecked)}: they could not be checked against "
                    "this call's and are recorded from now on.", UserWarning, stacklevel=3)
        state.write_json_atomic(path / SETTINGS_FILE, settings)
    except BaseException:
        lock.release()
        raise
    return lock


def check_worker_directory(project_dir):
    """A worker's check before it writes: the chief's folder must be a search."""
    path = pathlib.Path(project_dir)
    if not is_search(path):
        raise _not_a_search(path, files.owner(path))
