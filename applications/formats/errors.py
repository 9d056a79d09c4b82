"""The one error every reader raises for a file it cannot use.

A message names the file, then the line (or field) and what is wrong, and
ends with what was received, in one line:

>>> from applications.formats.errors import DataFormatError, format_error
>>> str(format_error("reviews.csv", "has 3 fields where the header has 2", line=7,
...                  received="'a,b,c'"))
"reviews.csv, line 7: has 3 fields where the header has 2. Received: 'a,b,c'"
>>> isinstance(format_error("x", "empty"), ValueError)      # the command's status 2
True
"""

import os

from zoo.untrusted import printable

#: The most bytes a text reader reads (a bigger file is refused, not truncated).
TEXT_LIMIT = 2 << 30


class DataFormatError(ValueError):
    """A data file that cannot be read as the format it was given as.

    Attributes:
        path: the file.
        line: the 1-based line (text formats) or None.
        field: the column, key or header field at fault, or None.
    """

    def __init__(self, message, path=None, line=None, field=None):
        super().__init__(message)
        self.path, self.line, self.field = path, line, field


def format_error(path, message, line=None, field=None, received=None):
    """A ``DataFormatError`` whose text is ``"<file>[, line N][, field F]: <message>.
    Received: <received>"``. The file and field are made printable here; the caller
    passes ``received`` already printable (``zoo.untrusted.quoted``)."""
    where = printable(os.fspath(path)) if path is not None else "<data>"
    if line is not None:
        where += f", line {line}"
    if field is not None:
        where += f", field {printable(field, 80)}"
    text = f"{where}: {message.rstrip('. ')}."
    if received is not None:
        text += f" Received: {received}"
    return DataFormatError(text, path=path, line=line, field=field)
