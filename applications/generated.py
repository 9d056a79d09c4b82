"""Generated sequence tasks (clearly synthetic data; no download needed).

Token ids follow the zoo's seq2seq convention: 0 padding, 1 start, 2 end,
then one id per character of the task's alphabet.
"""

import numpy as np

from zoo.seq2seq import teacher_forcing

PAD, START, END = 0, 1, 2


class CharVocab:
    """Characters <-> token ids, with ids 0-2 reserved for pad/start/end.

    >>> vocab = CharVocab("0123456789")
    >>> vocab.decode(vocab.encode(["42"]))
    ['42']
    """

    def __init__(self, alphabet):
        self.alphabet = alphabet
        self.ids = {char: i + 3 for i, char in enumerate(alphabet)}

    @property
    def size(self):
        return len(self.alphabet) + 3

    def encode(self, strings, width=None):
        width = width or max(len(text) for text in strings)
        tokens = np.zeros((len(strings), width), "int32")
        for row, text in enumerate(strings):
            unknown = set(text) - set(self.ids)
            if unknown:
                raise ValueError(
                    f"Characters outside the alphabet {self.alphabet!r}. Received: {text!r}"
                )
            tokens[row, :len(text)] = [self.ids[char] for char in text]
        return tokens

    def decode(self, tokens):
        """Ids -> strings, stopping at the first padding or end id."""
        strings = []
        for row in np.asarray(tokens):
            chars = []
            for token in row:
                if token in (PAD, END):
                    break
                if token >= 3:
                    chars.append(self.alphabet[token - 3])
            strings.append("".join(chars))
        return strings


DIGITS = CharVocab("0123456789")


def random_digit_strings(n, min_length, max_length, seed, exclude=()):
    """``n`` distinct random digit strings, none of them in ``exclude``."""
    rng = np.random.default_rng(seed)
    excluded = set(exclude)
    strings = []
    seen = set()
    while len(strings) < n:
        length = int(rng.integers(min_length, max_length + 1))
        text = "".join(map(str, rng.integers(0, 10, size=length)))
        if text not in seen and text not in excluded:
            seen.add(text)
            strings.append(text)
    return strings


def string_pairs_to_arrays(sources, targets, vocab):
    """(inputs, targets) in the seq2seq teacher-forcing layout."""
    source = vocab.encode(sources)
    body = vocab.encode(targets)
    lengths = np.array([len(text) for text in targets])
    return teacher_forcing(body, lengths, START, END, source)


def digit_reversal(n, seed, min_length=3, max_length=8, exclude=()):
    """Digit strings and their reversals.

    Returns:
        ``(x, y, sources, targets)``: teacher-forcing arrays and the strings.
    """
    sources = random_digit_strings(n, min_length, max_length, seed, exclude)
    targets = [text[::-1] for text in sources]
    x, y = string_pairs_to_arrays(sources, targets, DIGITS)
    return x, y, sources, targets
