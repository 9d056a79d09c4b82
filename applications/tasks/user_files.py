"""A user's own data (``--data PATH``): finding the splits and building vocabularies.

One file is split 80/10/10 (seeded). A folder keeps the splits its files
name: ``*train*``, ``*dev*`` / ``*valid*`` / ``*val*`` and ``*test*`` (a
folder without a validation file gives 10% of training to validation).
The readers themselves live in ``applications.formats``.
"""

import collections
import dataclasses
import pathlib
import re

import numpy as np

from applications.formats.errors import format_error
from applications.formats.labels import index_labels, split_records
from zoo.untrusted import quoted

SPLITS = ("train", "validation", "test")
_SPLIT_WORDS = {"train": ("train",), "validation": ("dev", "valid", "validation", "val"),
                "test": ("test",)}


def _split_of(name):
    words = set(re.split(r"[^a-z0-9]+", name.lower()))
    found = [split for split, names in _SPLIT_WORDS.items() if words & set(names)]
    return found[0] if len(found) == 1 else None


def split_files(folder, suffixes):
    """``{split: path}`` of the files in ``folder`` ending in one of ``suffixes``.

    Raises:
        DataFormatError: no training file, two files for one split, or no
            file of the format at all.
    """
    folder = pathlib.Path(folder)
    chosen = {}
    candidates = sorted(path for path in folder.iterdir() if path.is_file()
                        and any(path.name.lower().endswith(s) for s in suffixes))
    for path in candidates:
        split = _split_of(path.name)
        if split is None:
            continue
        if split in chosen:
            raise format_error(folder, f"holds two {split} files ({chosen[split].name} and "
                               f"{path.name}); keep one per split",
                               received=quoted(path.name))
        chosen[split] = path
    if "train" not in chosen:
        raise format_error(folder, f"holds no training file: a file named like *train* ending "
                           f"in {' or '.join(suffixes)} (and *dev* or *valid*, *test*)",
                           received=quoted(", ".join(p.name for p in candidates) or "no such "
                                           "files"))
    return chosen


def read_splits(data, reader, suffixes, seed):
    """``{split: Records}`` of a user's file or folder, read with ``reader(path)``.

    A folder without a test file gives 10% of training to test as well.
    """
    path = pathlib.Path(data)
    if not path.is_dir():
        return dict(zip(SPLITS, split_records(reader(path), (0.8, 0.1, 0.1), seed)))
    files = split_files(path, suffixes)
    records = {split: reader(file) for split, file in files.items()}
    missing = [split for split in ("validation", "test") if split not in records]
    if missing:
        fractions = {1: (0.9, 0.1), 2: (0.8, 0.1, 0.1)}[len(missing)]
        parts = split_records(records["train"], fractions, seed)
        records["train"] = parts[0]
        records.update(zip(missing, parts[1:]))
    return records


def cap(records, limit):
    """``records`` cut to ``limit`` examples (``None``: all)."""
    if limit is None or len(records.items) <= limit:
        return records
    labels = None if records.labels is None else records.labels[:limit]
    return dataclasses.replace(records, items=records.items[:limit], labels=labels,
                               lines=records.lines[:limit])


def indexed_splits(records, limit):
    """``(classes, records, ids)``: the label vocabulary of the whole training split
    (``index_labels``), then every split and its class ids cut to ``limit`` examples
    (``None``: all)."""
    classes, train_ids, other_ids = index_labels(
        records["train"], [records[split] for split in SPLITS[1:]])
    ids = dict(zip(SPLITS, [train_ids, *other_ids]))
    if limit is not None:
        records = {key: cap(value, limit) for key, value in records.items()}
        ids = {key: value[:limit] for key, value in ids.items()}
    return classes, records, ids


class TokenVocabulary:
    """Word ids for already-split tokens: 0 padding, 1 unknown, then words by frequency.

    Words seen fewer than ``min_count`` times in training map to the unknown
    id, so the model learns what to do with words it never saw.

    Args:
        sentences: token lists of the training split.
        max_tokens: the most ids (padding and unknown included).
        min_count: the fewest training occurrences a word needs for its own id.
        lower: case-fold tokens.
    """

    def __init__(self, sentences, max_tokens=20000, min_count=2, lower=True):
        self.lower = lower
        counts = collections.Counter(self._norm(token) for sentence in sentences
                                     for token in sentence)
        words = [word for word, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                 if count >= min_count][:max(max_tokens - 2, 0)]
        self.words = ["", "[UNK]"] + words
        self.ids = {word: i for i, word in enumerate(self.words)}

    def _norm(self, token):
        return token.lower() if self.lower else token

    def __len__(self):
        return len(self.words)

    def encode(self, sentences, length):
        """``[len(sentences), length]`` int32 ids (cut or padded with 0)."""
        rows = np.zeros((len(sentences), length), "int32")
        for i, sentence in enumerate(sentences):
            ids = [self.ids.get(self._norm(token), 1) for token in sentence[:length]]
            rows[i, :len(ids)] = ids
        return rows


def tag_rows(tag_ids, length):
    """Per-token class ids (+1; 0 is padding) as ``[len(tag_ids), length]`` int32."""
    rows = np.zeros((len(tag_ids), length), "int32")
    for i, row in enumerate(tag_ids):
        row = np.asarray(row[:length], "int32") + 1
        rows[i, :len(row)] = row
    return rows
