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


ARITHMETIC = CharVocab("0123456789+")


def digit_addition(n, seed, max_digits=3, exclude=()):
    """``"123+45"`` -> ``"168"``: operands of 1 to ``max_digits`` digits.

    Returns:
        ``(x, y, sources, targets)``: teacher-forcing arrays and the strings;
        no source appears twice or in ``exclude``.
    """
    rng = np.random.default_rng(seed)
    excluded = set(exclude)
    sources, seen = [], set()
    while len(sources) < n:
        a, b = (int(rng.integers(0, 10 ** int(rng.integers(1, max_digits + 1))))
                for _ in range(2))
        text = f"{a}+{b}"
        if text not in seen and text not in excluded:
            seen.add(text)
            sources.append(text)
    targets = [str(sum(map(int, text.split("+")))) for text in sources]
    x, y = string_pairs_to_arrays(sources, targets, ARITHMETIC)
    return x, y, sources, targets


def digit_reversal(n, seed, min_length=3, max_length=8, exclude=()):
    """Digit strings and their reversals.

    Returns:
        ``(x, y, sources, targets)``: teacher-forcing arrays and the strings.
    """
    sources = random_digit_strings(n, min_length, max_length, seed, exclude)
    targets = [text[::-1] for text in sources]
    x, y = string_pairs_to_arrays(sources, targets, DIGITS)
    return x, y, sources, targets


# --- classification and tagging tasks (generated; each needs one inductive bias) -------------

MARK_A, MARK_B = 1, 2  # two marker tokens; filler tokens are 3 .. vocab_size - 1


def _filler(rng, n, length, vocab_size):
    tokens = rng.integers(3, vocab_size, size=(n, length)).astype("int32")
    lengths = rng.integers(length // 2, length + 1, size=n)
    return tokens, lengths


def _pad(tokens, lengths):
    tokens[np.arange(tokens.shape[1])[None, :] >= lengths[:, None]] = PAD
    return tokens


def marker_order(n, seed, length=16, vocab_size=12):
    """Order-sensitive sequences: label 1 iff marker A comes before marker B.

    Each row holds one A and one B at random positions among random filler,
    so the label depends on order alone (a bag of words is at chance).
    """
    rng = np.random.default_rng(seed)
    tokens, lengths = _filler(rng, n, length, vocab_size)
    labels = rng.integers(0, 2, size=n)
    for row in range(n):
        first, second = sorted(rng.choice(lengths[row], size=2, replace=False))
        a, b = (first, second) if labels[row] else (second, first)
        tokens[row, a], tokens[row, b] = MARK_A, MARK_B
    return _pad(tokens, lengths), labels[:, None].astype("int32")


def adjacent_motif(n, seed, length=16, vocab_size=12):
    """Local-pattern sequences: label 1 iff the bigram "A B" occurs.

    Negative rows hold the same markers, but as "B A" or apart, so only the
    local order of neighbours tells the classes apart.
    """
    rng = np.random.default_rng(seed)
    tokens, lengths = _filler(rng, n, length, vocab_size)
    labels = rng.integers(0, 2, size=n)
    for row in range(n):
        start = int(rng.integers(0, lengths[row] - 1))
        if labels[row]:
            tokens[row, start:start + 2] = (MARK_A, MARK_B)
        elif rng.random() < 0.5:
            tokens[row, start:start + 2] = (MARK_B, MARK_A)
        else:
            first, second = sorted(rng.choice(lengths[row], size=2, replace=False))
            while second - first == 1:
                first, second = sorted(rng.choice(lengths[row], size=2, replace=False))
            tokens[row, first], tokens[row, second] = MARK_A, MARK_B
    return _pad(tokens, lengths), labels[:, None].astype("int32")


def rise_tags(n, seed, length=16, vocab_size=12):
    """Per-token tags from a rule that needs the left neighbour.

    Tag 2 where a token is larger than the token before it, tag 1 elsewhere
    (and on the first token); 0 on padding.
    """
    rng = np.random.default_rng(seed)
    tokens, lengths = _filler(rng, n, length, vocab_size)
    tokens = _pad(tokens, lengths)
    rises = np.zeros_like(tokens)
    rises[:, 1:] = tokens[:, 1:] > tokens[:, :-1]
    return tokens, np.where(tokens == PAD, 0, 1 + rises).astype("int32")


def oriented_bars(n, seed, size=16, noise=0.3):
    """Images with one bar: label 0 horizontal, 1 vertical, 2 diagonal.

    Bars have random position and length on uniform noise, so orientation,
    not brightness or place, is what separates the classes.
    """
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, noise, size=(n, size, size, 1)).astype("float32")
    labels = rng.integers(0, 3, size=n)
    for row, label in enumerate(labels):
        length = int(rng.integers(size // 2, size - 1))
        r, c = (int(v) for v in rng.integers(0, size - length, size=2))
        fixed = int(rng.integers(0, size))
        steps = np.arange(length)
        if label == 0:
            images[row, fixed, c + steps, 0] = 1.0
        elif label == 1:
            images[row, r + steps, fixed, 0] = 1.0
        else:
            images[row, r + steps, c + steps, 0] = 1.0
    return images, labels.astype("int32")


# --- language-model tasks ---------------------------------------------------------------------

SEPARATOR, FULL_STOP = 1, 2  # for language models: "s | s ." with symbols 3 ..


def copy_language(n, seed, min_length=3, max_length=6, symbols=8):
    """Sentences ``s | s .``: a random string, a separator, the same string again.

    Every token after the separator is determined by a token up to
    ``max_length + 1`` positions back: long-range structure a next-token
    model must carry.

    Returns:
        ``(tokens, prefixes, continuations)``: 0-padded ids ``[n, 2 *
        max_length + 2]``, and per row the prompt ``s |`` and what must
        follow it, ``s .``.
    """
    rng = np.random.default_rng(seed)
    tokens = np.zeros((n, 2 * max_length + 2), "int32")
    prefixes, continuations = [], []
    for row in range(n):
        length = int(rng.integers(min_length, max_length + 1))
        body = rng.integers(3, 3 + symbols, size=length)
        sentence = np.concatenate([body, [SEPARATOR], body, [FULL_STOP]])
        tokens[row, :len(sentence)] = sentence
        prefixes.append(sentence[:length + 1])
        continuations.append(sentence[length + 1:])
    return tokens, prefixes, continuations
