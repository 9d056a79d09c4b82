"""What every decoder-only language model shares: targets, data, compile, stepper base.

Inputs are token ids with 0 as padding; the model predicts, at every
position, the next token (targets are the inputs shifted left by one, 0
where there is no next token).

>>> import zoo
>>> from zoo.models.decoder import next_token_targets
>>> next_token_targets([[5, 6, 7, 0]]).tolist()
[[6, 7, 0, 0]]
"""

import numpy as np

from zoo import losses, validation
from zoo.constants import PAD_ID
from zoo.generation import Stepper, check_right_padded
from zoo.registry import Capabilities

# Input and layer names (saved in every .keras file: never change them).
TOKENS = "tokens"
TOKEN_EMBEDDING = "token_embedding"
LOGITS = "logits"

FAMILY = "decoder"
TASK = "language_modeling"
INPUTS = {TOKENS: "int32 [batch, length], 0 = padding"}
OUTPUTS = {LOGITS: "float32 [batch, length, vocab_size], next-token logits"}


def compile_language_model(model, learning_rate=1e-3, jit_compile="auto"):
    """Adam on the padding-masked next-token cross-entropy and accuracy."""
    losses.compile_token_model(model, from_logits=True, learning_rate=learning_rate,
                               jit_compile=jit_compile)


def check_common(vocab_size, embedding_dim, num_layers, dropout):
    """The arguments every language-model builder takes, checked and normalised."""
    return (validation.positive_int("vocab_size", vocab_size),
            validation.positive_int("embedding_dim", embedding_dim),
            validation.positive_int("num_layers", num_layers),
            validation.rate("dropout", dropout))


def next_token_targets(tokens):
    """Targets for next-token prediction: ``tokens`` shifted left, 0-filled."""
    tokens = np.asarray(tokens)
    targets = np.zeros_like(tokens)
    targets[:, :-1] = tokens[:, 1:]
    return targets


def lm_example_data(params, n, seed, length=8):
    """Random 0-padded token rows (at least two tokens each) and their next-token targets."""
    rng = np.random.default_rng(seed)
    length = min(length, params.get("max_length", length))
    tokens = rng.integers(1, params["vocab_size"], size=(n, length)).astype("int32")
    lengths = rng.integers(2, length + 1, size=n)
    tokens[np.arange(length)[None, :] >= lengths[:, None]] = PAD_ID
    return tokens, next_token_targets(tokens)


class LanguageModelStepper(Stepper):
    """Token bookkeeping every language-model stepper shares.

    The vocabulary sizes the logits, padding is never generated, no token
    stops a row by default, and a prompt holds ids in ``[1, vocab_size)``,
    rows of different lengths padded with 0 at the end.

    Args:
        model: a decoder-only model from ``zoo.build`` or ``zoo.load``.

    >>> import zoo
    >>> from zoo.models.decoder import LanguageModelStepper
    >>> stepper = LanguageModelStepper(zoo.build("lstm_lm", size="toy"))
    >>> stepper.vocab_size, stepper.stop_token, stepper.banned
    (12, None, [0])
    """

    def __init__(self, model):
        super().__init__(model)
        self.vocab_size = self.params["vocab_size"]
        self.stop_token = None
        self.banned = [PAD_ID]

    max_positions = None  # the longest sequence the model reads, when it has one

    def check_prompt(self, prompt):
        """``(tokens, lengths)`` of a right-padded prompt batch, else ValueError."""
        return check_right_padded("prompt", prompt, self.vocab_size)

    def teacher_forcing(self, prompt, continuation):
        tokens, lengths = self.check_prompt(prompt)
        if continuation is None:
            short = np.flatnonzero(lengths < 2)
            if short.size:
                raise ValueError("Scoring a prompt without targets needs at least two tokens "
                                 f"per row. Received: row {short[0]} with {lengths[short[0]]}")
            sequence = tokens[:, :int(lengths.max())]
            positions = np.broadcast_to(np.arange(sequence.shape[1] - 1), (len(sequence),
                                        sequence.shape[1] - 1))
            return sequence, np.ascontiguousarray(positions), sequence[:, 1:]
        continuation, added = check_right_padded("targets", continuation, self.vocab_size)
        if len(continuation) != len(tokens):
            raise ValueError("`targets` needs one row per prompt row. Received: "
                             f"{len(continuation)} target rows for {len(tokens)} prompts")
        width = int((lengths + added).max())
        if self.max_positions is not None and width > self.max_positions:
            raise ValueError(f"Prompt + targets must fit the model's max_length="
                             f"{self.max_positions}. Received: a row of {width} tokens")
        sequence = np.zeros((len(tokens), width), "int32")
        sequence[:, :tokens.shape[1]] = tokens[:, :width]
        rows, columns = np.nonzero(continuation != PAD_ID)
        sequence[rows, lengths[rows] + columns] = continuation[rows, columns]
        positions = np.minimum(lengths[:, None] - 1 + np.arange(continuation.shape[1]),
                               width - 1)
        return sequence, positions, continuation


def capabilities(stepper):
    """What a language model generated by ``stepper`` declares."""
    return Capabilities(input_kinds=("tokens",), generation="language_model", stepper=stepper)


# What every language model's registration shares (``register_model(name, **REGISTRATION, ...)``).
REGISTRATION = {"family": FAMILY, "task": TASK, "outputs": OUTPUTS,
                "compiler": compile_language_model, "example_data": lm_example_data}
