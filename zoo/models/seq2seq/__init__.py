"""Seq2seq family: recurrent (plain and attentional) and Transformer encoder-decoders.

- ``recurrent.py``: ``lstm_seq2seq`` (one builder, ``recurrent_seq2seq``,
  with ``cell`` and ``attention`` parameters) and its presets
  ``gru_seq2seq`` and ``attention_seq2seq``, plus their generation stepper;
- ``transformer.py``: ``transformer_seq2seq`` and its stepper;
- ``common.py``: token conventions, checks, example data, compile and the
  stepper base every seq2seq model shares.

Importing this package registers every seq2seq model.
"""

from zoo.models.seq2seq import recurrent, transformer  # noqa: F401  (registers the models)
from zoo.models.seq2seq.common import (Seq2SeqStepper, compile_seq2seq, seq2seq_example_data,
                                       teacher_forcing)
from zoo.models.seq2seq.recurrent import RecurrentSeq2SeqStepper
from zoo.models.seq2seq.transformer import TransformerSeq2SeqStepper

__all__ = ["RecurrentSeq2SeqStepper", "Seq2SeqStepper", "TransformerSeq2SeqStepper",
           "compile_seq2seq", "seq2seq_example_data", "teacher_forcing"]
