"""How the tuner reports errors: one printable line naming the real cause.

A failed trial's error reaches the user three ways: the trial table, the
``search failed`` message and ``zoo tune``'s one line on stderr. All three
use ``describe`` (an exception) or ``trial_error`` (a trial's stored
message), which keep the exception's type and its first meaningful line:
blank lines, terminal colour codes and JAX's note that it "removed its
internal frames from the traceback" are skipped.

Nothing here imports Keras: ``zoo tune`` reports even a failed start-up.

>>> describe(ValueError("\\nExpected shape (None, 6), found (32, 5)\\n"
...                     "--------------------\\nFor simplicity, JAX has removed its "
...                     "internal frames from the traceback of the following exception."))
'ValueError: Expected shape (None, 6), found (32, 5)'
>>> trial_error("Traceback (most recent call last):\\n  File \\"x.py\\", line 1, in f\\n"
...             "    f()\\nKeyError: 'units'")
"KeyError: 'units'"
"""

import os
import re

#: Set to ``1`` to see the full traceback of a ``zoo`` command's failure (and of failed trials).
TRACEBACK_VARIABLE = "ZOO_TRACEBACK"

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
_NOISE = ("For simplicity, JAX has removed its internal frames",
          "Set JAX_TRACEBACK_FILTERING=off", "The stack trace below excludes JAX-internal frames",
          "The preceding is the original exception that occurred, unmodified.")
_FRAME = re.compile(r"^\s+File \"")
_LIMIT = 500


class SearchFailedError(RuntimeError):
    """A search ran but ended without a usable result (no trial completed,
    or too many failed in a row); the message names the last trial's error."""


def wants_traceback():
    """True when ``ZOO_TRACEBACK`` asks for full tracebacks (as the ``zoo`` command reads it:
    any value but empty, ``0``, ``false`` or ``no``)."""
    return os.environ.get(TRACEBACK_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def _escape(text):
    """Control, format and separator characters escaped; backslashes kept as they are
    (messages quote untrusted parts with ``zoo.untrusted.quoted`` already)."""
    try:
        from zoo.untrusted import printable
    except Exception:  # zoo itself failed to import: escape what is not printable
        def printable(char, limit=None):
            return char if char.isprintable() else repr(char)[1:-1]
    return "".join(char if char == "\\" else printable(char, None) for char in text)


def first_line(text, limit=_LIMIT):
    """The first meaningful line of ``text``, safe to print.

    Skips blank lines, JAX's traceback-filtering notes and separator lines;
    Keras' "Exception encountered when calling X" gets the next line (the
    cause) appended. Returns ``""`` when nothing is left.
    """
    text = _ANSI.sub("", str(text))
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines
             if line and not set(line) <= set("-=~^ ") and not line.startswith(_NOISE)]
    if not lines:
        return ""
    line = lines[0]
    if line.startswith("Exception encountered when calling") and len(lines) > 1:
        line = f"{line.rstrip('.:')}: {lines[1]}"
    if len(line) > limit:
        line = line[:limit] + "..."
    return _escape(line)


def describe(error):
    """``"TypeName: first meaningful line"`` of an exception."""
    name = type(error).__name__
    text = first_line(str(error))
    if not text and error.__cause__ is not None:
        return describe(error.__cause__)
    return f"{name}: {text}" if text else name


def trial_error(message):
    """The one-line error of a failed trial's stored ``message``.

    The tuner stores ``describe(error)`` as the first line (the traceback
    follows). Messages written by keras-tuner alone (a search made by an
    earlier release) are tracebacks: their last exception line is used.
    """
    if not message:
        return None
    text = _ANSI.sub("", str(message))
    lines = text.splitlines()
    if text.lstrip().startswith("Traceback (most recent call last):"):
        frames = [index for index, line in enumerate(lines) if _FRAME.match(line)]
        start = frames[-1] + 1 if frames else 0
        # The source line shown under the frame is indented; the exception is not.
        while start < len(lines) and (not lines[start].strip() or lines[start][:1].isspace()):
            start += 1
        lines = lines[start:]
    return first_line("\n".join(lines)) or None


def one_line(error):
    """``error`` as one printable line for a command's stderr.

    The errors a user causes (``ValueError``, ``TypeError``, ``OSError``)
    speak for themselves; any other is prefixed with its type.
    """
    if isinstance(error, (ValueError, TypeError, OSError, SearchFailedError)):
        text = first_line(str(error))
        if isinstance(error, OSError) and not text:
            text = first_line(os.strerror(error.errno)) if error.errno else ""
        return text or type(error).__name__
    return describe(error)
