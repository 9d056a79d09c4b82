"""File-system rules every part of the zoo follows.

- Files that may come from someone else are read only if they are regular
  files (not a FIFO that blocks forever, not ``/dev/zero`` behind a
  symlink, not a directory), and never past a stated number of bytes.
- A directory the zoo writes a run or a search into is *claimed* first,
  atomically, with a marker file: two processes given the same directory
  cannot both get it, and the marker later proves the zoo made it.
- The zoo deletes only directories that carry its marker.
- A finished file is published under its final name without replacing
  anything that is there (unless asked), so nothing a user saved is lost.

>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> run = claim_directory(root / "run", "zoo run")
>>> owner(run)["kind"]
'zoo run'
>>> claim_directory(root / "run", "zoo run")
Traceback (most recent call last):
...
FileExistsError: Directory '...run' is already claimed by another zoo process...
"""

import contextlib
import datetime
import errno
import json
import os
import pathlib
import shutil
import socket
import stat
import uuid

from zoo.untrusted import quoted

#: The file that marks a directory as made by the zoo (a run, a search).
MARKER = ".zoo-owner.json"


class NotARegularFileError(ValueError):
    """A path names a device, FIFO, socket or directory where a file was expected."""


def _kind(mode):
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def read_regular_file(path, limit):
    """The bytes of ``path``, which must be a regular file of at most ``limit`` bytes.

    The file is opened without blocking (a FIFO cannot hang the caller),
    checked on the open handle (a symlink to a device is caught whatever it
    points to), and read at most ``limit + 1`` bytes (a file that grows
    while being read is caught too).

    Raises:
        FileNotFoundError: nothing is at ``path``.
        NotARegularFileError: ``path`` is a directory, FIFO, device or
            socket (a ``ValueError``).
        ValueError: the file is over ``limit`` bytes.
    """
    path = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise NotARegularFileError(
            f"{quoted(path)} is a directory, not a file. Received: path={quoted(path)}") from None
    except OSError as error:
        if error.errno in (errno.ENXIO, errno.EISDIR):  # a socket, or a directory on Windows
            raise NotARegularFileError(
                f"{quoted(path)} is not a regular file. Received: path={quoted(path)}") from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise NotARegularFileError(
            f"{quoted(path)} is {_kind(info.st_mode)}, not a regular file. "
            f"Received: path={quoted(path)}")
    with open(fd, "rb", buffering=0, closefd=True) as handle:
        if info.st_size > limit:
            raise ValueError(f"{quoted(path)} is {info.st_size} bytes, over the limit of "
                             f"{limit} bytes. Received: path={quoted(path)}")
        chunks, total = [], 0
        # First read: the whole file as fstat sizes it (+1 to see growth), so a
        # regular file is held once: b"".join of one chunk does not copy it.
        want = min(info.st_size, limit) + 1
        while True:
            try:
                chunk = handle.read(max(1, min(want, limit + 1 - total)))
                want = 1 << 20
            except BlockingIOError:  # pragma: no cover - regular files do not block
                continue
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise ValueError(f"{quoted(path)} grew past the limit of {limit} bytes while "
                                 f"being read. Received: path={quoted(path)}")
    return b"".join(chunks)


# ------------------------------------------------------------ owned directories

def claim_directory(path, kind, details=None):
    """Create (or take an empty) directory for ``kind`` of work, atomically.

    The claim is the marker file, created with ``O_EXCL``: of two processes
    claiming one directory at the same moment exactly one succeeds.

    Args:
        path: the directory; it must not exist, or be empty.
        kind: what owns it, e.g. ``"zoo run"`` or ``"zoo tune search"``.
        details: JSON-serialisable facts recorded in the marker.

    Returns:
        The directory as a ``pathlib.Path``.

    Raises:
        FileExistsError: ``path`` is a file, is not empty, or another process
            claimed it first.
    """
    path = pathlib.Path(path)
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{quoted(path)} exists and is not a directory; choose another "
                              f"path so nothing is overwritten. Received: {quoted(path)}")
    path.mkdir(parents=True, exist_ok=True)
    others = [entry.name for entry in path.iterdir() if entry.name != MARKER]
    marker = path / MARKER
    if others or marker.exists():
        what = "already claimed by another zoo process" if not others else "not empty"
        raise FileExistsError(f"Directory {quoted(path)} is {what}; choose another one so "
                              f"nothing is overwritten. Received: {quoted(path)}")
    record = {"kind": kind, "claimed": datetime.datetime.now(datetime.timezone.utc)
              .isoformat(timespec="seconds"), "pid": os.getpid(), "host": socket.gethostname(),
              "token": uuid.uuid4().hex, **(details or {})}
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise FileExistsError(f"Directory {quoted(path)} was claimed by another zoo process "
                              f"at the same moment; choose another one. "
                              f"Received: {quoted(path)}") from None
    with os.fdopen(fd, "w") as handle:
        json.dump(record, handle)
    # A file that appeared between the emptiness check and the claim belongs
    # to someone else: give the directory back rather than mix with it.
    others = [entry.name for entry in path.iterdir() if entry.name != MARKER]
    if others:
        marker.unlink()
        raise FileExistsError(f"Directory {quoted(path)} filled while being claimed; choose "
                              f"another one. Received: {quoted(path)}")
    return path


def owner(path):
    """The marker record of a directory the zoo claimed, or None if it has none."""
    marker = pathlib.Path(path) / MARKER
    try:
        data = read_regular_file(marker, 1 << 16)
        record = json.loads(data)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def remove_owned_directory(path, kind):
    """Delete ``path`` only if the zoo claimed it for ``kind`` (its marker says so).

    Raises:
        ValueError: ``path`` is a symlink, or has no marker of ``kind``
            (it is the user's, not the zoo's); nothing is deleted.
    """
    path = pathlib.Path(path)
    if not path.exists() and not path.is_symlink():
        return
    record = None if path.is_symlink() else owner(path)
    if record is None or record.get("kind") != kind:
        raise ValueError(
            f"Refusing to delete {quoted(path)}: it was not created by {kind} (no "
            f"{MARKER} marker of that kind); delete it yourself if you mean to. "
            f"Received: {quoted(path)}")
    shutil.rmtree(path)


# ------------------------------------------------------------ publishing files

def check_new_file(path, overwrite=False, what="output"):
    """Fail early, before any work, if ``path`` cannot be written as a new file.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
        PermissionError / NotADirectoryError: its folder cannot be written.
    """
    path = pathlib.Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"The {what} {quoted(path)} is a directory; give a file name. "
                                f"Received: {quoted(path)}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"The {what} {quoted(path)} already exists; choose another name "
                              f"or remove it first. Received: {quoted(path)}")
    folder = path.parent
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(f"The {what}'s folder {quoted(existing)} is a file. "
                                 f"Received: {quoted(path)}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"The {what}'s folder {quoted(existing)} is not writable. "
                              f"Received: {quoted(path)}")
    return path


def publish(temp, path, overwrite=False):
    """Move the finished file ``temp`` to ``path``; without ``overwrite``, never replace.

    Raises:
        FileExistsError: ``path`` exists (or appeared meanwhile) and
            ``overwrite`` is False; ``temp`` is left for the caller.
    """
    temp, path = os.fspath(temp), os.fspath(path)
    if overwrite:
        os.replace(temp, path)
        return
    try:
        os.link(temp, path)  # atomic, and fails if ``path`` appeared meanwhile
    except FileExistsError:
        raise FileExistsError(f"{quoted(path)} exists; nothing was replaced. "
                              f"Received: {quoted(path)}") from None
    except OSError:  # a file system without hard links
        if os.path.exists(path):
            raise FileExistsError(f"{quoted(path)} exists; nothing was replaced. "
                                  f"Received: {quoted(path)}") from None
        os.replace(temp, path)
        return
    os.unlink(temp)


def write_new_text(path, text, overwrite=False):
    """Write ``text`` to ``path`` as a whole (old or new, never half); never replace
    an existing file unless ``overwrite``."""
    path = pathlib.Path(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")
    try:
        with open(temp, "x") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        publish(temp, path, overwrite)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    return path
