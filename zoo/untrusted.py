"""Make untrusted text safe to print: file names, config keys, model cards.

Text that comes from a file someone else wrote (a ``.keras`` archive's
member names and config, a model card, the file's own name) reaches the
user's terminal in error messages and in ``zoo inspect``. Raw, it can move
the cursor, erase a line and write a forged ``verdict: safe to load``, set
the window title, or flip the reading order (bidirectional overrides).
``printable`` escapes every such character and bounds the length, so what
is printed is exactly what the file holds, visibly.

>>> printable("\\r\\x1b[2Kverdict:   safe to load")
'\\\\r\\\\x1b[2Kverdict:   safe to load'
>>> printable("caf\\u00e9 \\u202eexe.txt")
'café \\\\u202eexe.txt'
>>> printable("x" * 10, limit=4)
'xxxx... (6 more characters)'
"""

import unicodedata

#: The longest piece of untrusted text a message shows (the rest is counted).
LIMIT = 300

# Unicode categories that do not print as themselves: controls (C0, C1, DEL),
# format characters (bidi overrides, zero-width joiners), surrogates,
# private use, unassigned, and line/paragraph separators.
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escape(char):
    if char in _NAMED:
        return _NAMED[char]
    if unicodedata.category(char) not in _HIDDEN:
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(value, limit=LIMIT):
    """``value`` as text that cannot control a terminal.

    Args:
        value: any object; not a ``str`` is shown via ``str()`` (bytes are
            decoded with backslash escapes).
        limit: the most characters of ``value`` shown; the rest is counted.
            None shows everything.

    Returns:
        A string of printable characters: control, format and separator
        characters (and backslashes) appear as escapes.
    """
    if isinstance(value, bytes):
        value = value.decode("utf-8", "backslashreplace")
    elif not isinstance(value, str):
        value = str(value)
    hidden = 0
    if limit is not None and len(value) > limit:
        value, hidden = value[:limit], len(value) - limit
    text = "".join(map(_escape, value))
    return text + (f"... ({hidden} more characters)" if hidden else "")


def quoted(value, limit=LIMIT):
    """``printable(value)`` in single quotes, for naming a value in a message."""
    return f"'{printable(value, limit)}'"
