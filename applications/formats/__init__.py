"""Readers for the data files users have, in their standard public formats.

Every reader is NumPy and the standard library only (no TensorFlow), reads
with ``zoo.files.read_regular_file`` (a FIFO or device cannot hang it) and
raises ``DataFormatError`` (a ``ValueError``: the ``zoo`` command's status
2) naming the file and the line or field at fault.
"""
