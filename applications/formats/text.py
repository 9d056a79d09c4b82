"""Readers for text data: labelled CSV/TSV, CoNLL-U, CoNLL-2003 and sentence pairs.

Every reader returns a ``Records``: the examples (``items``), their labels
and the 1-based line each example starts on, so a later check (a label never
seen in training, say) can name the file and line. Files are UTF-8 (a BOM is
accepted, so are CRLF line endings); anything else fails with one line
naming the file and the line at fault.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "reviews.csv").write_text('text,label\\n"Great, really",pos\\nDull.,neg\\n')
>>> records = read_labelled_text(folder / "reviews.csv")
>>> records.items, records.labels, records.lines
(['Great, really', 'Dull.'], ['pos', 'neg'], [2, 3])
>>> _ = (folder / "pairs.txt").write_text("Go.\\tVa !\\tCC-BY 2.0\\n")
>>> sniff_text_format(folder / "pairs.txt"), read_sentence_pairs(folder / "pairs.txt").labels
('sentence_pairs', ['Va !'])
"""

import codecs
import csv
import dataclasses
import os

from applications.formats.errors import TEXT_LIMIT, format_error
from zoo.files import read_regular_file
from zoo.untrusted import quoted

#: The formats ``sniff_text_format`` names (each has a reader here).
TEXT_FORMATS = ("labelled_text", "conllu", "conll2003", "sentence_pairs")
#: The columns a CoNLL-U token line has.
CONLLU_FIELDS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps",
                 "misc")
#: The tag columns ``read_conllu`` can use.
CONLLU_TAG_COLUMNS = ("upos", "xpos")

_TAB_EXTENSIONS = (".tsv", ".tab")
_DESCRIPTIONS = ("labelled text (CSV/TSV with a header naming the text and label columns), "
                 "CoNLL-U (.conllu), CoNLL-2003 (token ... tag per line, blank lines between "
                 "sentences) and sentence pairs (source<TAB>target per line, as fra.txt)")


@dataclasses.dataclass(frozen=True)
class Records:
    """The examples of one data file, each with its label and source line.

    Args:
        path: the file read.
        items: the examples: texts, token lists, or a NumPy array of values.
        labels: one label per item (a string, a list of per-token tags, or
            an integer array), or None when the file has no labels.
        lines: the 1-based line each item starts on.
        format: the format the file was read as (``"conllu"``, ...).

    Example:

    >>> Records("a.csv", ["hi", "bye"], ["x", "y"], [2, 3]).items
    ['hi', 'bye']
    """

    path: str
    items: list
    labels: list
    lines: list
    format: str = ""

    def __len__(self):
        return len(self.lines)


def decode_text(path):
    """The text of ``path``: UTF-8 (a leading BOM is dropped), at most ``TEXT_LIMIT`` bytes.

    Args:
        path: the file.

    Returns:
        The decoded text, line endings untouched.

    Raises:
        DataFormatError: the file is not UTF-8 (names the line of the first
            bad byte).
        FileNotFoundError, ValueError: from ``zoo.files.read_regular_file``
            (no file, not a regular file, too big).
    """
    data = read_regular_file(path, TEXT_LIMIT)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise format_error(path, "is UTF-16 text; save it as UTF-8", line=1,
                           received=quoted(data[:2]))
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise format_error(path, f"is not UTF-8 text (byte {column} of the line cannot be "
                           "decoded); save the file as UTF-8", line=line,
                           received=quoted(data[error.start:error.start + 8])) from None


def split_lines(text):
    """``text`` as a list of lines: split on ``\\n`` only, a trailing ``\\r`` dropped.

    Unlike ``str.splitlines`` this keeps form feeds and Unicode line
    separators inside a line, so line numbers match what editors show.

    Args:
        text: decoded file text.

    Returns:
        The lines, without their endings (no empty last line for a final
        newline).
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _no_examples(path, what="examples"):
    return format_error(path, f"holds no {what}", received=quoted(os.path.basename(path)))


def _guess_delimiter(path, first_line):
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension in _TAB_EXTENSIONS:
        return "\t"
    if extension == ".csv":
        return ","
    return "\t" if "\t" in first_line else ","


def read_csv_table(path, delimiter=None):
    """The header and rows of a CSV/TSV file, each row with the line it starts on.

    Quoted fields may hold delimiters and newlines; blank lines are skipped;
    every row must have as many fields as the header.

    Args:
        path: the file.
        delimiter: the field separator; None: tab for ``.tsv``/``.tab``,
            comma for ``.csv``, else tab if the header line has one.

    Returns:
        ``(header, rows, row_lines)``: header names (stripped), the rows
        (lists of strings) and each row's 1-based first line.

    Raises:
        DataFormatError: not UTF-8, no header, a ragged row, a malformed
            quote, or no rows at all ("holds no examples").
    """
    lines = split_lines(decode_text(path))
    if delimiter is None:
        delimiter = _guess_delimiter(path, next((line for line in lines if line.strip()), ""))
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\r\n\"":
        raise ValueError(f"delimiter must be one character other than a quote or newline. "
                         f"Received: delimiter={quoted(delimiter)}")
    reader = csv.reader((line + "\n" for line in lines), delimiter=delimiter, strict=True)
    header, rows, row_lines, previous = None, [], [], 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise format_error(path, f"cannot be read as CSV ({error}); check its quotes",
                               line=previous + 1,
                               received=quoted(lines[previous] if previous < len(lines)
                                               else "")) from None
        start, previous = previous + 1, reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if header is None:
            header = [name.strip() for name in row]
            width = len(header)
            continue
        if len(row) != width:
            raw = "\n".join(lines[start - 1:reader.line_num])
            hint = "" if delimiter != "," or "\t" not in raw else " (is it tab-separated?)"
            raise format_error(path, f"has {len(row)} fields where the header has {width}; "
                               f"quote fields that hold the delimiter{hint}", line=start,
                               received=quoted(raw))
        rows.append(row)
        row_lines.append(start)
    if not rows:
        raise _no_examples(path)
    return header, rows, row_lines


def column_index(path, header, name, option):
    """The position of column ``name`` in ``header``.

    Args:
        path: the file (for the message).
        header: the header's column names.
        name: the column wanted.
        option: the command-line option that names it, e.g. ``"--text-column"``.

    Returns:
        The 0-based index.

    Raises:
        DataFormatError: no such column (the message lists the header's).
    """
    if name in header:
        return header.index(name)
    columns = ", ".join(quoted(column, 60) for column in header)
    raise format_error(path, f"has no column {quoted(name, 60)} (choose one with {option}); "
                       f"the header's columns are {columns}", line=1, field=name,
                       received=quoted(name))


def read_labelled_text(path, text_column="text", label_column="label", delimiter=None):
    """Texts and their labels from a CSV or TSV file with a header row.

    Args:
        path: the file.
        text_column: the header name of the text column.
        label_column: the header name of the label column.
        delimiter: the field separator; None: from the extension or the
            header line (see ``read_csv_table``).

    Returns:
        ``Records`` with ``items`` the texts and ``labels`` the label strings
        (stripped of surrounding spaces).

    Raises:
        DataFormatError: a missing column, a row with the wrong number of
            fields, an empty text or label, not UTF-8, or no rows.
    """
    header, rows, row_lines = read_csv_table(path, delimiter)
    text_at = column_index(path, header, text_column, "--text-column")
    label_at = column_index(path, header, label_column, "--label-column")
    texts, labels = [], []
    for row, line in zip(rows, row_lines):
        text, label = row[text_at], row[label_at].strip()
        if not text.strip():
            raise format_error(path, "has an empty text", line=line, field=text_column,
                               received=quoted(text))
        if not label:
            raise format_error(path, "has an empty label", line=line, field=label_column,
                               received=quoted(row[label_at]))
        texts.append(text)
        labels.append(label)
    return Records(os.fspath(path), texts, labels, row_lines, "labelled_text")


def read_conllu(path, tag_column="upos"):
    """Sentences and their part-of-speech tags from a CoNLL-U file (Universal Dependencies).

    Token lines hold 10 tab-separated fields; ``#`` lines are comments; a
    blank line ends a sentence. Multiword-token lines (ID ``3-4``) and empty
    nodes (ID ``5.1``) are skipped, so the tokens are the syntactic words.

    Args:
        path: the file.
        tag_column: ``"upos"`` (universal tags) or ``"xpos"`` (the
            treebank's own tags), in any case.

    Returns:
        ``Records`` with ``items`` lists of word forms, ``labels`` lists of
        tags, ``lines`` the line of each sentence's first token.

    Raises:
        ValueError: ``tag_column`` is not ``upos`` or ``xpos``.
        DataFormatError: a token line without 10 fields, a non-numeric ID,
            a missing (``_``) tag, not UTF-8, or no sentences.
    """
    choice = str(tag_column).strip().lower() if isinstance(tag_column, str) else None
    if choice not in CONLLU_TAG_COLUMNS:
        raise ValueError(f"tag_column must be one of {', '.join(map(quoted, CONLLU_TAG_COLUMNS))}"
                         f" for a CoNLL-U file. Received: tag_column={quoted(tag_column)}")
    tag_at = CONLLU_FIELDS.index(choice)
    sentences, tags, starts = [], [], []
    words, sentence_tags, start = [], [], None
    for number, line in enumerate(split_lines(decode_text(path)), 1):
        if not line.strip():
            if words:
                sentences.append(words)
                tags.append(sentence_tags)
                starts.append(start)
            words, sentence_tags = [], []
            continue
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != len(CONLLU_FIELDS):
            hint = (" (separate the fields with tabs, not spaces)"
                    if len(line.split()) == len(CONLLU_FIELDS) else "")
            raise format_error(path, f"has {len(fields)} tab-separated fields where a CoNLL-U "
                               f"token line has 10{hint}", line=number, received=quoted(line))
        token_id = fields[0].strip()
        if "-" in token_id or "." in token_id:
            continue
        if not token_id.isdigit():
            raise format_error(path, "has a token ID that is not a number", line=number,
                               field="ID", received=quoted(token_id))
        tag = fields[tag_at].strip()
        if tag in ("", "_"):
            hint = ("; this file has no XPOS tags: use --tag-column upos"
                    if choice == "xpos" else "; the file must be tagged")
            raise format_error(path, f"has no {choice.upper()} tag{hint}", line=number,
                               field=choice.upper(), received=quoted(tag))
        if not words:
            start = number
        words.append(fields[1])
        sentence_tags.append(tag)
    if words:
        sentences.append(words)
        tags.append(sentence_tags)
        starts.append(start)
    if not sentences:
        raise _no_examples(path, "examples (no sentences)")
    return Records(os.fspath(path), sentences, tags, starts, "conllu")


def read_conll2003(path, tag_column=-1):
    """Sentences and their tags from a CoNLL-2003-style file (one token per line).

    Token lines are whitespace-separated columns, the token first
    (CoNLL-2003: ``token POS chunk NER``; many files: ``token tag``); blank
    lines separate sentences; ``-DOCSTART-`` lines are skipped. Every token
    line must have as many columns as the file's first one.

    Args:
        path: the file.
        tag_column: the column of the tag: an index from the start (1 is
            the first after the token) or negative from the end (-1: the
            last, the NER tag of CoNLL-2003).

    Returns:
        ``Records`` with ``items`` token lists, ``labels`` tag lists and
        ``lines`` the line of each sentence's first token.

    Raises:
        ValueError: ``tag_column`` is not an integer, or is 0 (the token).
        DataFormatError: a token line with too few columns or a different
            number than the first token line, not UTF-8, or no sentences.
    """
    if isinstance(tag_column, bool) or not isinstance(tag_column, int) or tag_column == 0:
        raise ValueError("tag_column must be a non-zero column number (negative counts from "
                         f"the end; 0 is the token). Received: tag_column={quoted(tag_column)}")
    needed = tag_column + 1 if tag_column > 0 else 1 - tag_column
    sentences, tags, starts = [], [], []
    tokens, sentence_tags, start, width, first = [], [], None, None, None
    for number, line in enumerate(split_lines(decode_text(path)), 1):
        columns = line.split()
        if not columns or columns[0] == "-DOCSTART-":
            if tokens:
                sentences.append(tokens)
                tags.append(sentence_tags)
                starts.append(start)
            tokens, sentence_tags = [], []
            continue
        if len(columns) < needed:
            raise format_error(path, f"has {len(columns)} columns; a token and tag column "
                               f"{tag_column} need at least {needed}", line=number,
                               received=quoted(line))
        if width is None:
            width, first = len(columns), number
        elif len(columns) != width:
            raise format_error(path, f"has {len(columns)} columns where the first token line "
                               f"(line {first}) has {width}", line=number, received=quoted(line))
        if not tokens:
            start = number
        tokens.append(columns[0])
        sentence_tags.append(columns[tag_column])
    if tokens:
        sentences.append(tokens)
        tags.append(sentence_tags)
        starts.append(start)
    if not sentences:
        raise _no_examples(path, "examples (no sentences)")
    return Records(os.fspath(path), sentences, tags, starts, "conll2003")


def read_sentence_pairs(path):
    """Source and target sentences, one tab-separated pair a line (the Anki/Tatoeba ``fra.txt``).

    Only the first two fields are used (``fra.txt`` has an attribution
    third); there is no header; blank lines are skipped.

    Args:
        path: the file.

    Returns:
        ``Records`` with ``items`` the source and ``labels`` the target
        sentences (stripped of surrounding spaces).

    Raises:
        DataFormatError: a line without a tab, an empty side, not UTF-8, or
            no pairs.
    """
    sources, targets, lines = [], [], []
    for number, line in enumerate(split_lines(decode_text(path)), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            raise format_error(path, "has 1 tab-separated field where a sentence pair needs 2 "
                               "(source<TAB>target)", line=number, received=quoted(line))
        source, target = fields[0].strip(), fields[1].strip()
        for side, text in (("source", source), ("target", target)):
            if not text:
                raise format_error(path, f"has an empty {side} sentence", line=number,
                                   received=quoted(line))
        sources.append(source)
        targets.append(target)
        lines.append(number)
    if not sources:
        raise _no_examples(path, "examples (no sentence pairs)")
    return Records(os.fspath(path), sources, targets, lines, "sentence_pairs")


def _has_text_header(fields):
    names = {field.strip().strip('"').lower() for field in fields}
    return bool(names & {"text", "label", "sentence", "review"})


def sniff_text_format(path, sample=50):
    """Which text format ``path`` holds, from its extension and first lines.

    Args:
        path: the file.
        sample: how many non-blank, non-comment lines to look at.

    Returns:
        One of ``TEXT_FORMATS``: ``"labelled_text"``, ``"conllu"``,
        ``"conll2003"`` or ``"sentence_pairs"``.

    Raises:
        DataFormatError: the file is empty, not UTF-8, or none of these
            formats (the message lists the ones read).
    """
    extension = os.path.splitext(os.fspath(path))[1].lower()
    lines = split_lines(decode_text(path))
    content, blank_between = [], False
    for line in lines:
        if not line.strip():
            blank_between = blank_between or bool(content)
            continue
        if line.startswith("#") and not content:
            continue
        content.append(line)
        if len(content) >= sample:
            break
    if not content:
        raise _no_examples(path)
    if extension == ".conllu":
        return "conllu"
    first = content[0]
    if extension == ".csv" or (extension in _TAB_EXTENSIONS
                               and _has_text_header(first.split("\t"))):
        return "labelled_text"
    tokens = [line for line in content if not line.startswith("#")]
    if tokens and all(len(line.split("\t")) == 10 for line in tokens[:5]):
        return "conllu"
    if _has_text_header(first.split("\t")) or _has_text_header(first.split(",")):
        return "labelled_text"
    if first.split()[0] == "-DOCSTART-":
        return "conll2003"
    tabbed = [line.split("\t") for line in content]
    if all(len(fields) >= 2 for fields in tabbed):
        spaced = any(" " in field.strip() for fields in tabbed for field in fields[:2])
        if spaced or not blank_between:
            return "sentence_pairs"
        return "conll2003"
    widths = {len(line.split()) for line in content}
    if len(widths) == 1 and widths.pop() >= 2:
        return "conll2003"
    raise format_error(path, f"is not a text format the zoo reads: it reads {_DESCRIPTIONS}",
                       line=lines.index(first) + 1, received=quoted(first))
