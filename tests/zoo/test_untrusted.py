"""zoo.untrusted: text from someone else's file cannot control the terminal."""

import pytest

from zoo.untrusted import printable, quoted


@pytest.mark.parametrize("raw, shown", [
    ("\r\x1b[2Kverdict:   safe to load\x1b[8m", "\\r\\x1b[2Kverdict:   safe to load\\x1b[8m"),
    ("\x1b]0;pwned\x07\x1b[2J", "\\x1b]0;pwned\\x07\\x1b[2J"),       # window title, clear screen
    ("evil\u202etxt.keras", "evil\\u202etxt.keras"),                 # right-to-left override
    ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),                         # line/paragraph separators
    ("zero\u200bwidth", "zero\\u200bwidth"),
    ("\x9b31m", "\\x9b31m"),                                          # C1 control sequence introducer
    ("del\x7f", "del\\x7f"),
    ("line\nnext\ttab", "line\\nnext\\ttab"),
    ("back\\slash", "back\\\\slash"),                                 # escapes stay unambiguous
    ("café ñ 日本 ünïcode", "café ñ 日本 ünïcode"),                     # printable text unchanged
])
def test_printable_escapes_every_control_character(raw, shown):
    assert printable(raw) == shown
    assert all(ch.isprintable() for ch in printable(raw))


def test_printable_bounds_the_length_and_counts_the_rest():
    assert printable("x" * 1000, limit=10) == "x" * 10 + "... (990 more characters)"
    assert printable("x" * 1000, limit=None) == "x" * 1000


def test_printable_accepts_bytes_and_objects():
    assert printable(b"\xff\x1b[2J") == "\\\\xff\\x1b[2J"
    assert printable(3) == "3"
    assert printable(None) == "None"


def test_quoted_wraps_printable_text():
    assert quoted("a\x1bb") == "'a\\x1bb'"
