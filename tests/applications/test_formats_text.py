"""The text and table readers of ``applications.formats``: happy paths and every error."""


import numpy as np
import pytest

from applications.formats.errors import DataFormatError
from applications.formats.labels import index_labels, split_records
from applications.formats.tables import GraphTable, read_graph_tables, read_series
from applications.formats.text import (Records, read_conll2003, read_conllu,
                                       read_labelled_text, read_sentence_pairs,
                                       sniff_text_format)

def write(tmp_path, name, text, encoding="utf-8", newline="\n"):
    path = tmp_path / name
    data = text.replace("\n", newline).encode(encoding) if isinstance(text, str) else text
    path.write_bytes(data)
    return path


def one_line(error):
    text = str(error.value)
    assert "\n" not in text and "Received: " in text
    return text


# ------------------------------------------------------------ shared decoding

def test_bom_and_crlf_are_accepted(tmp_path):
    path = write(tmp_path, "r.csv", "\ufefftext,label\nfine,pos\nbad,neg\n", newline="\r\n")
    records = read_labelled_text(path)
    assert records.items == ["fine", "bad"] and records.labels == ["pos", "neg"]
    assert records.lines == [2, 3] and records.path == str(path)


def test_non_utf8_names_the_line(tmp_path):
    path = write(tmp_path, "r.csv", b"text,label\nok,pos\ncaf\xe9,neg\n")
    with pytest.raises(DataFormatError, match=r"r\.csv, line 3: is not UTF-8.*Received: "
                                              r"'\\\\xe9"):
        read_labelled_text(path)


def test_utf16_is_named(tmp_path):
    path = write(tmp_path, "r.tsv", "text\tlabel\nhi\tpos\n", encoding="utf-16")
    with pytest.raises(DataFormatError, match="line 1: is UTF-16 text; save it as UTF-8"):
        read_labelled_text(path)


@pytest.mark.parametrize("reader, text", [
    (read_labelled_text, ""), (read_labelled_text, "text,label\n"),
    (read_conllu, "# sent_id = 1\n# text = x\n\n"), (read_conll2003, "-DOCSTART- -X- O O\n\n"),
    (read_sentence_pairs, "\n\n"), (read_series, "value\n"),
    (sniff_text_format, "\n")])
def test_no_examples(tmp_path, reader, text):
    path = write(tmp_path, "empty.csv" if reader is read_series else "empty.txt", text)
    with pytest.raises(DataFormatError, match="empty.*: holds no examples") as error:
        reader(path)
    one_line(error)


# ------------------------------------------------------------ labelled text

def test_labelled_text_quoted_fields_and_string_labels(tmp_path):
    path = write(tmp_path, "reviews.csv",
                 'id,text,label\n1,"Great, really.\nTwo lines",positive\n\n2,Dull., negative\n'
                 '3,"He said ""no""",positive\n')
    records = read_labelled_text(path)
    assert records.items == ["Great, really.\nTwo lines", "Dull.", 'He said "no"']
    assert records.labels == ["positive", "negative", "positive"]
    assert records.lines == [2, 5, 6] and records.format == "labelled_text"


def test_labelled_text_delimiters(tmp_path):
    tsv = write(tmp_path, "a.tsv", "label\ttext\n1\tone, two\n0\tthree\n")
    assert read_labelled_text(tsv).items == ["one, two", "three"]
    sniffed = write(tmp_path, "a.txt", "\n\ntext\tlabel\nx, y\t1\n")
    assert read_labelled_text(sniffed).labels == ["1"]
    assert read_labelled_text(sniffed).lines == [4]
    given = write(tmp_path, "b.txt", "text;label\nx, y;1\n")
    assert read_labelled_text(given, delimiter=";").items == ["x, y"]
    renamed = write(tmp_path, "c.csv", "review,sentiment\nok,1\n")
    assert read_labelled_text(renamed, "review", "sentiment").labels == ["1"]


def test_labelled_text_missing_column(tmp_path):
    path = write(tmp_path, "r.csv", "review,label\nok,1\n")
    with pytest.raises(DataFormatError, match=r"r\.csv, line 1, field text: has no column "
                       r"'text' \(choose one with --text-column\); the header's columns are "
                       r"'review', 'label'\. Received: 'text'"):
        read_labelled_text(path)
    with pytest.raises(DataFormatError, match="has no column 'y'.*--label-column"):
        read_labelled_text(path, text_column="review", label_column="y")


def test_labelled_text_ragged_row(tmp_path):
    path = write(tmp_path, "r.csv", "text,label\nok,1\nfine, really,0\n")
    with pytest.raises(DataFormatError, match=r"line 3: has 3 fields where the header has 2.*"
                       r"Received: 'fine, really,0'") as error:
        read_labelled_text(path)
    assert error.value.line == 3


def test_labelled_text_ragged_row_tab_hint(tmp_path):
    path = write(tmp_path, "r.csv", "text,label\nok\t1\n")
    with pytest.raises(DataFormatError, match=r"line 2: has 1 fields.*is it tab-separated"):
        read_labelled_text(path)


@pytest.mark.parametrize("row, what", [('" ",pos', "empty text"), ("hello,  ", "empty label")])
def test_labelled_text_empty_fields(tmp_path, row, what):
    path = write(tmp_path, "r.csv", f"text,label\nok,neg\n{row}\n")
    with pytest.raises(DataFormatError, match=f"line 3, field (text|label): has an {what}"):
        read_labelled_text(path)


def test_labelled_text_bad_quote(tmp_path):
    path = write(tmp_path, "r.csv", 'text,label\n"ok" x,1\n')
    with pytest.raises(DataFormatError, match="line 2: cannot be read as CSV .*quotes"):
        read_labelled_text(path, delimiter=",")
    open_quote = write(tmp_path, "q.csv", 'text,label\nfine,1\n"open,1\nnext,0\n')
    with pytest.raises(DataFormatError, match=r"q\.csv, line 3: cannot be read as CSV "
                       r"\(unexpected end of data\).*Received: '\"open,1'"):
        read_labelled_text(open_quote)
    with pytest.raises(ValueError, match="delimiter must be one character"):
        read_labelled_text(path, delimiter=",,")


# ------------------------------------------------------------ CoNLL-U

CONLLU = """# newdoc id = d1
# sent_id = 1
# text = I can't go.
1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_
2-3\tcan't\t_\t_\t_\t_\t_\t_\t_\t_
2\tca\tcan\tAUX\tMD\t_\t3\taux\t_\t_
3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_
4\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_
4.1\tgone\tgo\tVERB\tVBN\t_\t_\t_\t4:conj\t_
5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_

# sent_id = 2
1\tYes\tyes\tINTJ\tUH\t_\t0\troot\t_\t_"""


def test_conllu_skips_multiword_tokens_empty_nodes_and_comments(tmp_path):
    path = write(tmp_path, "ud.conllu", CONLLU)
    records = read_conllu(path)
    assert records.items == [["I", "ca", "n't", "go", "."], ["Yes"]]
    assert records.labels == [["PRON", "AUX", "PART", "VERB", "PUNCT"], ["INTJ"]]
    assert records.lines == [4, 13] and records.format == "conllu"
    assert read_conllu(path, tag_column="XPOS").labels == [["PRP", "MD", "RB", "VB", "."],
                                                             ["UH"]]


def test_conllu_bad_tag_column(tmp_path):
    path = write(tmp_path, "ud.conllu", CONLLU)
    with pytest.raises(ValueError, match=r"one of 'upos', 'xpos'.*Received: tag_column='lemma'"):
        read_conllu(path, tag_column="lemma")
    with pytest.raises(ValueError, match="Received: tag_column='3'"):
        read_conllu(path, tag_column=3)


def test_conllu_wrong_field_count(tmp_path):
    path = write(tmp_path, "ud.conllu", "1\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_\n2\tam\tbe\tAUX\n")
    with pytest.raises(DataFormatError, match=r"ud\.conllu, line 2: has 4 tab-separated fields "
                       r"where a CoNLL-U token line has 10\. Received: '2\\tam"):
        read_conllu(path)
    spaced = write(tmp_path, "sp.conllu", "1 I I PRON PRP _ 0 root _ _\n")
    with pytest.raises(DataFormatError, match="line 1: has 1 .*with tabs, not spaces"):
        read_conllu(spaced)


def test_conllu_missing_tags(tmp_path):
    path = write(tmp_path, "ud.conllu", "1\tI\tI\tPRON\t_\t_\t0\troot\t_\t_\n")
    with pytest.raises(DataFormatError, match=r"line 1, field XPOS: has no XPOS tag; this file "
                       r"has no XPOS tags: use --tag-column upos\. Received: '_'"):
        read_conllu(path, tag_column="xpos")
    bare = write(tmp_path, "bare.conllu", "1\tI\tI\t_\t_\t_\t0\troot\t_\t_\n")
    with pytest.raises(DataFormatError, match="line 1, field UPOS: has no UPOS tag"):
        read_conllu(bare)
    bad_id = write(tmp_path, "id.conllu", "x\tI\tI\tPRON\t_\t_\t0\troot\t_\t_\n")
    with pytest.raises(DataFormatError, match="line 1, field ID: has a token ID that is not"):
        read_conllu(bad_id)


@pytest.fixture
def real_conllu(real_data):
    return real_data("ud_english_ewt") / "en_ewt-ud-test.conllu"


def test_real_ud_english_ewt_test_split(real_conllu):
    records = read_conllu(real_conllu)
    assert len(records.items) == 2077
    assert all(len(words) == len(tags) > 0 for words, tags in zip(records.items, records.labels))
    assert "NOUN" in {tag for tags in records.labels for tag in tags}
    assert sniff_text_format(real_conllu) == "conllu"


# ------------------------------------------------------------ CoNLL-2003

CONLL2003 = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
"""


def test_conll2003_with_docstart(tmp_path):
    path = write(tmp_path, "train.txt", CONLL2003, newline="\r\n")
    records = read_conll2003(path)
    assert records.items == [["EU", "rejects", "German"], ["Peter", "Blackburn"]]
    assert records.labels == [["B-ORG", "O", "B-MISC"], ["B-PER", "I-PER"]]
    assert records.lines == [3, 7] and records.format == "conll2003"
    assert read_conll2003(path, tag_column=1).labels[1] == ["NNP", "NNP"]
    assert read_conll2003(path, tag_column=-3).labels[0] == ["NNP", "VBZ", "JJ"]
    two = write(tmp_path, "two.bio", "Paris\tB-LOC\nis\tO\n\nOk\tO")
    assert read_conll2003(two).labels == [["B-LOC", "O"], ["O"]]


def test_conll2003_column_errors(tmp_path):
    path = write(tmp_path, "train.txt", CONLL2003)
    with pytest.raises(DataFormatError, match=r"train\.txt, line 3: has 4 columns; a token and "
                       r"tag column 4 need at least 5\. Received: 'EU NNP B-NP B-ORG'"):
        read_conll2003(path, tag_column=4)
    ragged = write(tmp_path, "ragged.txt", "EU NNP B-NP B-ORG\nrejects O\n")
    with pytest.raises(DataFormatError, match=r"line 2: has 2 columns where the first token "
                       r"line \(line 1\) has 4"):
        read_conll2003(ragged)
    alone = write(tmp_path, "alone.txt", "EU\n")
    with pytest.raises(DataFormatError, match="line 1: has 1 columns"):
        read_conll2003(alone)
    with pytest.raises(ValueError, match="non-zero column number.*Received: tag_column='0'"):
        read_conll2003(path, tag_column=0)


# ------------------------------------------------------------ sentence pairs

def test_sentence_pairs_fra_txt(tmp_path):
    path = write(tmp_path, "fra.txt",
                 "Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM)\n\n"
                 "Hi.\tSalut !\tCC-BY 2.0\nRun!\tCours\u202f!\n")
    records = read_sentence_pairs(path)
    assert records.items == ["Go.", "Hi.", "Run!"]
    assert records.labels == ["Va !", "Salut !", "Cours\u202f!"]
    assert records.lines == [1, 3, 4] and records.format == "sentence_pairs"


@pytest.mark.parametrize("line, message", [
    ("Hello there", r"has 1 tab-separated field where a sentence pair needs 2 \(source<TAB>"
                    r"target\)"),
    ("Hello\t  \tCC-BY", "has an empty target sentence"),
    ("\tBonjour", "has an empty source sentence")])
def test_sentence_pairs_errors(tmp_path, line, message):
    path = write(tmp_path, "fra.txt", f"Go.\tVa !\n{line}\n")
    with pytest.raises(DataFormatError, match=rf"fra\.txt, line 2: {message}\. Received: "):
        read_sentence_pairs(path)


# ------------------------------------------------------------ sniffing

@pytest.mark.parametrize("name, text, expected", [
    ("x.conllu", "# c\n1\tI\n", "conllu"),
    ("x.txt", "# sent_id = 1\n" + CONLLU.split("\n", 3)[3], "conllu"),
    ("x.csv", "a,b\n1,2\n", "labelled_text"),
    ("x.tsv", "text\tlabel\nhi\tpos\n", "labelled_text"),
    ("x.txt", "Text,Label\nhi,pos\n", "labelled_text"),
    ("fra.txt", "Go.\tVa !\tCC-BY 2.0\nHi.\tSalut !\tCC-BY 2.0\n", "sentence_pairs"),
    ("x.tsv", "Go.\tVa!\nHi.\tSalut!\n", "sentence_pairs"),
    ("x.txt", CONLL2003, "conll2003"),
    ("x.txt", "EU NNP B-ORG\nrejects VBZ O\n\nPeter NNP B-PER\n", "conll2003"),
    ("x.tsv", "Paris\tB-LOC\nis\tO\n\nOk\tO\n", "conll2003")])
def test_sniff_text_format(tmp_path, name, text, expected):
    assert sniff_text_format(write(tmp_path, name, text)) == expected


def test_sniff_unknown(tmp_path):
    path = write(tmp_path, "notes.txt", "just some prose\nof varying length here\n")
    with pytest.raises(DataFormatError, match=r"notes\.txt, line 1: is not a text format the zoo "
                       r"reads: it reads labelled text.*CoNLL-U.*CoNLL-2003.*sentence pairs.*"
                       r"Received: 'just some prose'"):
        sniff_text_format(path)


# ------------------------------------------------------------ series

def test_series(tmp_path):
    path = write(tmp_path, "s.csv", "t,value,anomaly\n0,1.5,0\n1, -2e3 ,1.0\n\n2,3,0\n")
    records = read_series(path, label_column="anomaly")
    assert records.items.dtype == np.float32 and records.items.tolist() == [1.5, -2000.0, 3.0]
    assert records.labels.dtype == np.int32 and records.labels.tolist() == [0, 1, 0]
    assert records.lines == [2, 3, 5]
    assert read_series(path).labels is None


@pytest.mark.parametrize("row, message", [
    ("2,abc,0", r"line 3, field value: is not a number\. Received: 'abc'"),
    ("2,,0", r"line 3, field value: is not a number\. Received: ''"),
    ("2,nan,0", r"line 3, field value: is not a finite number\. Received: 'nan'"),
    ("2,inf,0", "is not a finite number"),
    ("2,1,2", r"line 3, field anomaly: is not an anomaly flag: 0 \(normal\) or 1 \(anomaly\)\. "
              r"Received: '2'"),
    ("2,1,yes", "field anomaly: is not an anomaly flag")])
def test_series_errors(tmp_path, row, message):
    path = write(tmp_path, "s.csv", f"t,value,anomaly\n1,1,0\n{row}\n")
    with pytest.raises(DataFormatError, match=message):
        read_series(path, label_column="anomaly")


def test_series_missing_column(tmp_path):
    path = write(tmp_path, "s.csv", "t,level\n0,1\n")
    with pytest.raises(DataFormatError, match=r"line 1, field value: has no column 'value' "
                       r"\(choose one with --value-column\); the header's columns are 't', "
                       r"'level'"):
        read_series(path)
    with pytest.raises(DataFormatError, match="has no column 'flag'"):
        read_series(path, value_column="level", label_column="flag")


# ------------------------------------------------------------ graph tables

def test_graph_tables(tmp_path):
    nodes = write(tmp_path, "nodes.csv", "id,f1,label,f2\nn1,0.5,red,1\nn2,1,,2\nn3,2,blue,3\n"
                                         "n4,0,red,0\n")
    edges = write(tmp_path, "edges.csv", "source,target,weight\nn1,n2,1\nn2,n1,1\nn1,n2,1\n"
                                         "n3,n3,1\nn3,n4,1\n")
    graph = read_graph_tables(nodes, edges)
    assert isinstance(graph, GraphTable)
    assert graph.node_features.dtype == np.float32
    assert graph.node_features.tolist() == [[0.5, 1], [1, 2], [2, 3], [0, 0]]
    assert graph.feature_columns == ["f1", "f2"] and graph.ids == ["n1", "n2", "n3", "n4"]
    assert graph.labels == ["red", "", "blue", "red"] and graph.lines == [2, 3, 4, 5]
    assert graph.edge_index.dtype == np.int32
    assert graph.edge_index.T.tolist() == [[0, 1], [1, 0], [2, 3], [3, 2]]


def test_graph_tables_identity_features_and_renamed_columns(tmp_path):
    nodes = write(tmp_path, "n.tsv", "node\tclass\na\t0\nb\t1\nc\t0\n")
    edges = write(tmp_path, "e.tsv", "from\tto\na\tc\n")
    graph = read_graph_tables(nodes, edges, label_column="class", id_column="node",
                              source_column="from", target_column="to")
    assert graph.node_features.tolist() == np.eye(3).tolist() and graph.feature_columns == []
    assert graph.edge_index.tolist() == [[0, 2], [2, 0]]


def test_graph_tables_errors(tmp_path):
    nodes = write(tmp_path, "nodes.csv", "id,label,x\na,0,1\nb,1,2\n")
    edges = write(tmp_path, "edges.csv", "source,target\na,b\nb,zz\n")
    with pytest.raises(DataFormatError, match=r"edges\.csv, line 3, field target: names a node "
                       r"that is not in nodes\.csv\. Received: 'zz'"):
        read_graph_tables(nodes, edges)
    good_edges = write(tmp_path, "good.csv", "source,target\na,b\n")
    duplicate = write(tmp_path, "dup.csv", "id,label,x\na,0,1\nb,1,2\na,1,3\n")
    with pytest.raises(DataFormatError, match=r"dup\.csv, line 4, field id: repeats the node id "
                       r"of line 2\. Received: 'a'"):
        read_graph_tables(duplicate, good_edges)
    text = write(tmp_path, "text.csv", "id,label,x\na,0,1\nb,1,big\n")
    with pytest.raises(DataFormatError, match=r"line 3, field x: is not a number\. "
                       r"Received: 'big'"):
        read_graph_tables(text, good_edges)
    with pytest.raises(DataFormatError, match=r"nodes\.csv, line 1, field kind: has no column "
                       r"'kind'.*'id', 'label', 'x'"):
        read_graph_tables(nodes, good_edges, label_column="kind")
    with pytest.raises(DataFormatError, match=r"good\.csv, line 1, field src: has no column "
                       r"'src'.*'source', 'target'"):
        read_graph_tables(nodes, good_edges, source_column="src")
    empty_id = write(tmp_path, "empty_id.csv", "id,label\n,0\n")
    with pytest.raises(DataFormatError, match="line 2, field id: has an empty node id"):
        read_graph_tables(empty_id, good_edges)


# ------------------------------------------------------------ labels

def records(labels, path="train.csv", start=2):
    return Records(path, [f"x{i}" for i in range(len(labels))], labels,
                   list(range(start, start + len(labels))))


def test_index_labels_numeric_order_and_strings():
    vocabulary, train_ids, (test_ids,) = index_labels(records(["10", "2", "1", "2"]),
                                                      [records(["1"], "test.csv")])
    assert vocabulary == ["1", "2", "10"]
    assert train_ids.dtype == np.int32 and train_ids.tolist() == [2, 1, 0, 1]
    assert test_ids.tolist() == [0]
    vocabulary, ids, others = index_labels(records(["pos", "neg", "pos"]))
    assert vocabulary == ["neg", "pos"] and ids.tolist() == [1, 0, 1] and others == []


def test_index_labels_per_token():
    train = Records("t.conllu", [["a", "b"], ["c"]], [["NOUN", "VERB"], ["DET"]], [1, 4])
    dev = Records("d.conllu", [["d"]], [["VERB"]], [3])
    vocabulary, train_ids, (dev_ids,) = index_labels(train, [dev])
    assert vocabulary == ["DET", "NOUN", "VERB"]
    assert [ids.tolist() for ids in train_ids] == [[1, 2], [0]]
    assert dev_ids[0].dtype == np.int32 and dev_ids[0].tolist() == [2]
    unseen = Records("d.conllu", [["d", "e"]], [["VERB", "ADJ"]], [7])
    with pytest.raises(DataFormatError, match=r"d\.conllu, line 7: label 'ADJ' never appears in "
                       r"the training data \(t\.conllu, whose labels are 'DET', 'NOUN', 'VERB'\)"
                       r"\. Received: 'ADJ'"):
        index_labels(train, [unseen])


def test_index_labels_errors():
    with pytest.raises(DataFormatError, match=r"test\.csv, line 3: label 'maybe' never appears "
                       r"in the training data.*Received: 'maybe'") as error:
        index_labels(records(["pos", "neg"]), [records(["pos", "maybe"], "test.csv")])
    assert error.value.line == 3 and error.value.path == "test.csv"
    with pytest.raises(DataFormatError, match=r"train\.csv: needs at least two classes.*every "
                       r"label in the training data is 'pos'\. Received: 'pos'"):
        index_labels(records(["pos", "pos"]))
    with pytest.raises(ValueError, match="has no labels"):
        index_labels(Records("s.csv", np.zeros(2), None, [2, 3]))


def test_split_records():
    labelled = Records("all.csv", [f"t{i}" for i in range(20)], ["a", "b"] * 10,
                       list(range(2, 22)), "labelled_text")
    train, validation, test = split_records(labelled, seed=3)
    assert [len(part.items) for part in (train, validation, test)] == [16, 2, 2]
    assert sorted(train.lines + validation.lines + test.lines) == labelled.lines
    for part in (train, validation, test):
        assert part.format == "labelled_text" and part.path == "all.csv"
        assert all(part.items[i] == f"t{line - 2}" for i, line in enumerate(part.lines))
        assert all(part.labels[i] == "ab"[(line - 2) % 2] for i, line in enumerate(part.lines))
    again = split_records(labelled, seed=3)
    assert again[0].lines == train.lines and split_records(labelled, seed=4)[0].lines != \
        train.lines
    assert [len(part) for part in split_records(records(list("abc")))] == [1, 1, 1]
    assert [len(part) for part in split_records(records(list("ab" * 5)), (0.9, 0.1))] == [9, 1]
    series = Records("s.csv", np.arange(10, dtype="float32"), None, list(range(2, 12)))
    parts = split_records(series)
    assert isinstance(parts[1].items, np.ndarray) and parts[1].labels is None


def test_split_records_keeps_rare_labels_in_training():
    labelled = records(["a"] * 8 + ["rare", "b"])
    for seed in range(10):
        train, validation, test = split_records(labelled, seed=seed)
        index_labels(train, [validation, test])
        assert "rare" in train.labels and "b" in train.labels
        assert [len(part) for part in (train, validation, test)] == [8, 1, 1]
        assert sorted(train.lines + validation.lines + test.lines) == labelled.lines


def test_split_records_errors():
    with pytest.raises(DataFormatError, match=r"one\.csv: holds 2 examples; splitting it into "
                       r"training, validation and test needs at least 3\. Received: '2'"):
        split_records(records(["a", "b"], "one.csv"))
    with pytest.raises(ValueError, match="fractions must be two or more positive numbers"):
        split_records(records(list("abcd")), (0.5, 0.6, -0.1))
    with pytest.raises(ValueError, match="Received: fractions='\\(1.0,\\)'"):
        split_records(records(list("abcd")), (1.0,))
