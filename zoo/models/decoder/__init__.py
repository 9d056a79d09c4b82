"""Decoder-only family: next-token language models.

- ``lstm_lm.py``: ``lstm_lm`` and its generation stepper;
- ``gpt.py``: ``gpt_decoder`` and its stepper;
- ``common.py``: next-token targets, example data, compile and the stepper
  base every language model shares.

Importing this package registers every decoder-only model.
"""

from zoo.models.decoder import gpt, lstm_lm  # noqa: F401  (registers the models)
from zoo.models.decoder.common import (LanguageModelStepper, compile_language_model,
                                       lm_example_data, next_token_targets)
from zoo.models.decoder.gpt import GptStepper
from zoo.models.decoder.lstm_lm import LstmLmStepper

__all__ = ["GptStepper", "LanguageModelStepper", "LstmLmStepper", "compile_language_model",
           "lm_example_data", "next_token_targets"]
