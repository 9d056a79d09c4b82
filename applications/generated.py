"""Generated sequence tasks (clearly synthetic data; no download needed).

Token ids follow the zoo's seq2seq convention: 0 padding, 1 start, 2 end,
then one id per character of the task's alphabet.
"""

import numpy as np

from zoo.constants import PAD_ID as PAD
from zoo.models.seq2seq import teacher_forcing

START, END = 1, 2


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


# --- date normalisation -----------------------------------------------------------------------

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DATES = CharVocab("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ,-/.")


def _date_text(day, rng):
    month, weekday = MONTHS[day.month - 1], WEEKDAYS[day.weekday()]
    formats = (
        f"{month} {day.day}, {day.year}",
        f"{day.day} {month} {day.year}",
        f"{month[:3]} {day.day} {day.year}",
        f"{day.day:02d}.{day.month:02d}.{day.year}",
        f"{day.year}/{day.month:02d}/{day.day:02d}",
        f"{weekday}, {month} {day.day}, {day.year}",
        f"{weekday[:3]} {day.day} {month[:3]} {day.year}",
        f"{day.day} {month[:3].lower()} {str(day.year)[2:]}",
    )
    return formats[int(rng.integers(len(formats)))]


def date_normalisation(n, seed, exclude=()):
    """Dates written eight human ways -> ISO ``YYYY-MM-DD`` (1950-2049).

    ``"Tue 5 Mar 2024"``, ``"March 5, 2024"``, ``"05.03.2024"``,
    ``"5 mar 24"`` -> ``"2024-03-05"``. Two-digit years mean 1950-2049.

    Returns:
        ``(x, y, sources, targets)``: teacher-forcing arrays and the strings;
        no source appears twice or in ``exclude``.
    """
    import datetime

    rng = np.random.default_rng(seed)
    first, span = datetime.date(1950, 1, 1), 36524
    excluded, seen, sources, targets = set(exclude), set(), [], []
    while len(sources) < n:
        day = first + datetime.timedelta(days=int(rng.integers(span)))
        text = _date_text(day, rng)
        if text not in seen and text not in excluded:
            seen.add(text)
            sources.append(text)
            targets.append(day.isoformat())
    x, y = string_pairs_to_arrays(sources, targets, DATES)
    return x, y, sources, targets


# --- text for classification and tagging (generated, rule-labelled) ---------------------------

_SUBJECTS = ("the film", "the movie", "the acting", "the plot", "the script", "the ending",
             "the soundtrack", "the cast", "the direction", "the dialogue", "the pacing",
             "the story", "the camera work", "the lead actor", "the sequel")
_POSITIVE = ("great", "wonderful", "brilliant", "moving", "funny", "clever", "charming",
             "gripping", "beautiful", "superb", "delightful", "memorable", "fresh", "tense")
_NEGATIVE = ("awful", "boring", "dull", "clumsy", "predictable", "tedious", "bland",
             "messy", "weak", "forgettable", "silly", "slow", "flat", "painful")
_INTENSIFIERS = ("", "", "really ", "very ", "quite ", "truly ", "rather ")
_VERBS = ("was", "is", "felt", "seemed")
_NEUTRAL = ("i saw it on a sunday", "we watched it at home", "it runs two hours",
            "my friend picked it", "it came out last year", "there is a dog in it")


_PRODUCT_SUBJECTS = ("the battery", "the screen", "the price", "the delivery", "the case",
                     "the camera", "the sound", "the keyboard", "the charger", "the app",
                     "the box", "the manual", "support")
_PRODUCT_NEUTRAL = ("i bought it in may", "it came in blue", "we use it at work",
                    "my sister has one too", "it replaced my old one")


def synthetic_product_reviews(n, seed):
    """Generated one-line product reviews: another domain and another rule.

    The clauses are built like ``synthetic_reviews``' (the same opinion words
    and negations) about products instead of films, and the label is the
    polarity of the last clause, the verdict a buyer ends on ("the screen was
    great but the battery was awful" is negative), not the majority. A model
    trained on the movie reviews must adapt to both the words and the rule:
    the fine-tuning task of ``zoo run sentiment --from FILE --lora R``.

    Returns:
        ``(texts, labels)``: a list of strings and an int32 array ``[n]``.
    """
    return _reviews(n, seed, _PRODUCT_SUBJECTS, ([1, 2, 3], [0.3, 0.4, 0.3]),
                    ("and", "but", "then"), _PRODUCT_NEUTRAL,
                    label=lambda polarities: polarities[-1])


def synthetic_reviews(n, seed):
    """Generated one-line movie reviews labelled 1 (positive) or 0 (negative).

    Each review joins one to three clauses such as "the plot was not dull"
    with "and"/"but", plus optional neutral filler. A clause's polarity is its
    adjective's, flipped by "not"/"never"; the label is the majority polarity
    (an odd number of opinion clauses, so no ties). Word counts alone do not
    decide the label: negation and which words go together matter.

    Returns:
        ``(texts, labels)``: a list of strings and an int32 array ``[n]``.
    """
    return _reviews(n, seed, _SUBJECTS, ([1, 3], [0.5, 0.5]),
                    ("and", "but", "while", "although"), _NEUTRAL,
                    label=lambda polarities: int(2 * sum(polarities) > len(polarities)))


def _reviews(n, seed, subjects, clause_counts, joiners, neutral, label):
    """Reviews of ``subjects``: clauses of opinion words (each 1 positive or 0 negative,
    flipped by a negation), joined by ``joiners``, labelled ``label(polarities)``."""
    rng = np.random.default_rng(seed)
    texts, labels = [], np.zeros(n, "int32")
    for row in range(n):
        clauses, polarities = [], []
        for _ in range(int(rng.choice(clause_counts[0], p=clause_counts[1]))):
            positive = bool(rng.integers(2))
            negated = rng.random() < 0.35
            adjective = rng.choice(_POSITIVE if positive else _NEGATIVE)
            negation = str(rng.choice(["not ", "never "])) if negated else ""
            clauses.append(f"{rng.choice(subjects)} {rng.choice(_VERBS)} {negation}"
                           f"{rng.choice(_INTENSIFIERS) if not negated else ''}{adjective}")
            polarities.append(int(positive != negated))
        words = clauses[0]
        for clause in clauses[1:]:
            words += f" {rng.choice(list(joiners))} {clause}"
        if rng.random() < 0.4:
            words = f"{rng.choice(neutral)} and {words}"
        texts.append(words)
        labels[row] = label(polarities)
    return texts, labels


# Tags in the CoNLL-2003 order, so generated data and conll2003 share one label set.
NER_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")
_PEOPLE = ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Jordan", "Paris Hilton", "Kim",
           "Marie Curie", "Jean Paul Sartre", "Florence", "Victoria Adams", "Chen Wei",
           "Amara Okafor", "Lincoln")
_PLACES = ("Paris", "Jordan", "New York", "Florence", "Lagos", "Victoria", "Lincoln",
           "Buenos Aires", "Kyoto", "Oslo", "Cape Town", "Lima")
_ORGS = ("Acme Corp", "United Nations", "Red Cross", "Lincoln Motors", "Bank of Oslo",
         "Apple", "Kyoto University", "World Health Organization", "Jordan Airlines")
_MISC = ("French", "Olympic Games", "Nobel Prize", "World Cup", "Japanese", "Nigerian",
         "Champions League")
_TEMPLATES = (
    "{PER} works for {ORG} in {LOC} .",
    "{PER} flew from {LOC} to {LOC} last week .",
    "yesterday {ORG} hired {PER} .",
    "the {MISC} writer {PER} lives in {LOC} .",
    "{ORG} opened an office in {LOC} .",
    "{PER} won the {MISC} for {ORG} .",
    "in {LOC} , {PER} met {PER} .",
    "shares of {ORG} fell after the {MISC} .",
    "{PER} said {ORG} will stay in {LOC} .",
    "a {MISC} team visited {LOC} and {LOC} .",
)
_KINDS = {"PER": _PEOPLE, "LOC": _PLACES, "ORG": _ORGS, "MISC": _MISC}


def synthetic_entities(n, seed):
    """Generated sentences with person, place, organisation and misc entities.

    Sentences fill ten templates from name lists; several names are both a
    person and a place or part of an organisation ("Jordan", "Lincoln",
    "Florence"), so a tag depends on context, not on the word alone.

    Returns:
        ``(sentences, tags)``: lists of token lists and of tag-id lists
        (ids index ``NER_TAGS``).
    """
    rng = np.random.default_rng(seed)
    sentences, tags = [], []
    for _ in range(n):
        tokens, labels = [], []
        for piece in str(rng.choice(_TEMPLATES)).split():
            if piece.startswith("{"):
                kind = piece[1:-1]
                words = str(rng.choice(_KINDS[kind])).split()
                tokens += words
                labels += [NER_TAGS.index(f"B-{kind}")] + \
                    [NER_TAGS.index(f"I-{kind}")] * (len(words) - 1)
            else:
                tokens.append(piece)
                labels.append(0)
        sentences.append(tokens)
        tags.append(labels)
    return sentences, tags


# --- graphs -----------------------------------------------------------------------------------


def trees_and_cycles(n, seed, min_nodes=6, max_nodes=16):
    """Generated graphs: random trees (label 0) and trees with one extra edge,
    which closes a cycle (label 1).

    Both classes have similar sizes and degree ranges; a cycle differs by a
    single edge, so the model must relate edges to nodes across the graph.

    Returns:
        ``(graphs, labels)``: graph dicts (``node_features`` ``[N, 2]``:
        a constant 1 and the degree / 4; ``edge_index`` ``[2, E]``, both
        directions) and an int32 array ``[n]``.
    """
    rng = np.random.default_rng(seed)
    graphs, labels = [], rng.integers(0, 2, size=n).astype("int32")
    for label in labels:
        size = int(rng.integers(min_nodes, max_nodes + 1))
        edges = {(int(rng.integers(0, child)), child) for child in range(1, size)}
        while label and len(edges) < size:
            a, b = sorted(int(v) for v in rng.choice(size, size=2, replace=False))
            edges.add((a, b))
        pairs = np.array(sorted(edges), "int32").T
        edge_index = np.concatenate([pairs, pairs[::-1]], axis=1)
        degree = np.bincount(edge_index[0], minlength=size).astype("float32")
        features = np.stack([np.ones(size, "float32"), degree / 4.0], axis=1)
        graphs.append({"node_features": features, "edge_index": edge_index})
    return graphs, labels
