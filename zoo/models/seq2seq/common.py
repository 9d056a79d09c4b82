"""What every seq2seq model shares: token conventions, checks, data, compile, stepper base.

Token conventions: id 0 is padding (masked in the encoder, the decoder, the
loss and the metric), ``start_token`` opens every decoder input and
``end_token`` closes every target. Training uses teacher forcing: the
decoder reads ``[start, y1 .. yn]`` and is scored on ``[y1 .. yn, end]``.

Layer names below are shared by every seq2seq builder and reused by the
steppers (``zoo.generate``); they are part of the saved-file format, so
they never change.

>>> import zoo
>>> import numpy as np
>>> from zoo.models.seq2seq import teacher_forcing
>>> x, y = teacher_forcing(np.array([[5, 6, 0]]), np.array([2]), 1, 2,
...                        source=np.array([[7, 8]]))
>>> x["target_tokens"].tolist(), y.tolist()
([[1, 5, 6, 0]], [[5, 6, 2, 0]])
"""

import numpy as np
from keras import ops

from zoo import losses, validation
from zoo.constants import PAD_ID
from zoo.generation import Stepper, bucket, check_right_padded, check_token_batch, pad_to
from zoo.model import CODE_LAYER_NAME

# Input and layer names (saved in every .keras file: never change them).
SOURCE_TOKENS = "source_tokens"
TARGET_TOKENS = "target_tokens"
SOURCE_EMBEDDING = "source_embedding"
TARGET_EMBEDDING = "target_embedding"
SOURCE_MASK = "source_mask"
MEMORY = f"{CODE_LAYER_NAME}_memory"  # every encoder state, [batch, source_len, width]
LOGITS = "logits"

FAMILY = "seq2seq"
TASK = "sequence_to_sequence"
INPUTS = {
    SOURCE_TOKENS: "int32 [batch, source_len], 0 = padding",
    TARGET_TOKENS: "int32 [batch, target_len], decoder input starting with start_token",
}
OUTPUTS = {LOGITS: "float32 [batch, target_len, target_vocab_size], next-token logits"}


def compile_seq2seq(model, learning_rate=1e-3, jit_compile="auto"):
    """Adam on the padding-masked token cross-entropy and accuracy."""
    losses.compile_token_model(model, from_logits=True, learning_rate=learning_rate,
                               jit_compile=jit_compile)


def check_common(source_vocab_size, target_vocab_size, embedding_dim, num_layers, dropout,
                 start_token, end_token):
    """The arguments every seq2seq builder takes, checked and normalised."""
    source_vocab_size = validation.positive_int("source_vocab_size", source_vocab_size)
    target_vocab_size = validation.positive_int("target_vocab_size", target_vocab_size)
    embedding_dim = validation.positive_int("embedding_dim", embedding_dim)
    num_layers = validation.positive_int("num_layers", num_layers)
    dropout = validation.rate("dropout", dropout)
    validation.special_tokens(target_vocab_size, start_token, end_token)
    return source_vocab_size, target_vocab_size, embedding_dim, num_layers, dropout


def _random_token_rows(rng, n, length, vocab_size, low):
    """Rows of ids in [low, vocab_size), each padded with 0 after a random length."""
    tokens = rng.integers(low, vocab_size, size=(n, length))
    lengths = rng.integers(1, length + 1, size=n)
    tokens[np.arange(length)[None, :] >= lengths[:, None]] = PAD_ID
    return tokens.astype("int32"), lengths


def seq2seq_example_data(params, n, seed, source_length=7, target_length=6):
    """Random (inputs, targets) in the teacher-forcing layout."""
    rng = np.random.default_rng(seed)
    low = max(params["start_token"], params["end_token"]) + 1
    source, _ = _random_token_rows(rng, n, source_length, params["source_vocab_size"], 1)
    body, lengths = _random_token_rows(rng, n, target_length, params["target_vocab_size"], low)
    return teacher_forcing(body, lengths, params["start_token"], params["end_token"], source)


def teacher_forcing(body, lengths, start_token, end_token, source):
    """Decoder inputs ``[start, y..]`` and targets ``[y.., end]`` from padded ``body``.

    Args:
        body: int array ``[batch, width]`` of target ids, 0-padded.
        lengths: the number of real ids in each row of ``body``.
        start_token, end_token: ids that open decoder inputs and close targets.
        source: the source ids, returned as ``x["source_tokens"]``.

    Returns:
        ``(x, y)``: ``x`` holds ``source_tokens`` and ``target_tokens``
        (``[batch, width + 1]``), ``y`` the targets (``[batch, width + 1]``).
    """
    n, width = body.shape
    decoder_input = np.zeros((n, width + 1), "int32")
    target = np.zeros((n, width + 1), "int32")
    decoder_input[:, 0] = start_token
    decoder_input[:, 1:] = body
    target[:, :width] = body
    target[np.arange(n), lengths] = end_token
    return {SOURCE_TOKENS: source, TARGET_TOKENS: decoder_input}, target


class Seq2SeqStepper(Stepper):
    """Token bookkeeping every seq2seq stepper shares, read from ``zoo.model_params``.

    The target vocabulary sizes the logits, ``end_token`` stops a row by
    default, padding and ``start_token`` are never generated, and the source
    must hold ids of the source vocabulary.

    Args:
        model: a seq2seq model from ``zoo.build`` or ``zoo.load``.

    >>> import zoo
    >>> from zoo.models.seq2seq import Seq2SeqStepper
    >>> stepper = Seq2SeqStepper(zoo.build("lstm_seq2seq", size="toy"))
    >>> stepper.vocab_size, stepper.stop_token, stepper.banned
    (12, 2, [0, 1])
    """

    max_source_length = None
    max_target_length = None

    def __init__(self, model):
        super().__init__(model)
        self.start_token = self.params["start_token"]
        self.stop_token = self.params["end_token"]
        self.vocab_size = self.params["target_vocab_size"]
        self.source_vocab_size = self.params["source_vocab_size"]
        self.banned = [PAD_ID, self.start_token]

    def check_source(self, source):
        """The source as int32, else ValueError: ids of the source vocabulary, and no
        longer than ``max_source_length`` where the model has one."""
        source = check_token_batch(SOURCE_TOKENS, source, self.source_vocab_size)
        if self.max_source_length is not None and source.shape[1] > self.max_source_length:
            raise ValueError(f"The source is longer than max_source_length="
                             f"{self.max_source_length}. Received: {SOURCE_TOKENS} with "
                             f"{source.shape[1]} tokens per row")
        return source

    def bucketed_source(self, source):
        """The checked source, 0-padded on the right to its bucket's width (generation).

        Extra padding changes nothing: the encoders mask it.
        """
        source = self.check_source(source)
        return pad_to(source, bucket(source.shape[1], cap=self.max_source_length))

    def teacher_forcing(self, source, targets):
        if targets is None:
            raise ValueError("Scoring a seq2seq model needs the target ids. Received: "
                             "targets=None")
        source = self.check_source(source)
        targets, _ = check_right_padded("targets", targets, self.vocab_size)
        if len(targets) != len(source):
            raise ValueError("`targets` needs one row per source row. Received: "
                             f"{len(targets)} target rows for {len(source)} sources")
        if self.max_target_length is not None and targets.shape[1] > self.max_target_length:
            raise ValueError(f"`targets` is longer than the model allows "
                             f"({self.max_target_length}). Received: targets with "
                             f"{targets.shape[1]} tokens per row")
        decoder_input = np.zeros_like(targets)
        decoder_input[:, 0] = self.start_token
        decoder_input[:, 1:] = targets[:, :-1]
        positions = np.broadcast_to(np.arange(targets.shape[1]), targets.shape)
        return ({SOURCE_TOKENS: source, TARGET_TOKENS: decoder_input},
                np.ascontiguousarray(positions), targets)

    def start_tokens(self, batch):
        """``start_token`` once per row: the first decoder input, ``[batch]`` int32."""
        return ops.full((batch,), self.start_token, "int32")


# What every seq2seq registration shares (``register_model(name, **REGISTRATION, ...)``).
REGISTRATION = {"family": FAMILY, "task": TASK, "outputs": OUTPUTS,
                "compiler": compile_seq2seq, "example_data": seq2seq_example_data}
