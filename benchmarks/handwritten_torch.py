"""The benchmark models in plain PyTorch (``torch.nn``), for eager and ``torch.compile``.

Same layer sizes as the zoo models (``benchmarks.cases``) and the same
loss; written the way a PyTorch user would:

- LSTM classifier: ``nn.LSTM`` over the padded batch, the state at each
  row's last real token gathered (equal to Keras' masked final state,
  cheaper than packing). ``nn.LSTM`` has two bias vectors per layer, so it
  has ``4 * units`` more parameters per LSTM than Keras.
- LSTM seq2seq: the encoder reads a packed sequence (its final ``(h, c)``
  must stop at each row's real length); the decoder runs over the padded
  targets, whose padding the loss ignores.
- GPT: ``nn.MultiheadAttention`` with a causal mask and a key padding mask.
- GCN: ``index_add_`` aggregation, normalisation computed once per call.
- Losses: ``binary_cross_entropy`` on probabilities, ``mse_loss``, and
  ``cross_entropy`` with ``ignore_index`` (0 for padding tokens, -1 for
  unlabelled nodes) on logits.

Images are NCHW (converted once, outside the timed step).
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size, embedding_dim, units, num_classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, units, batch_first=True)
        self.head = nn.Linear(units, 1)

    def forward(self, tokens):
        last = (tokens != 0).sum(1).clamp(min=1) - 1
        states, _ = self.lstm(self.embedding(tokens))
        final = states[torch.arange(tokens.shape[0], device=tokens.device), last]
        return torch.sigmoid(self.head(final))


class ConvAutoencoder(nn.Module):
    def __init__(self, input_shape, filters, code_size):
        super().__init__()
        height, width, channels = input_shape
        scale = 2 ** len(filters)
        self.grid = (filters[-1], height // scale, width // scale)
        encoder, previous = [], channels
        for units in filters:
            encoder += [nn.Conv2d(previous, units, 3, stride=2, padding=1), nn.ReLU()]
            previous = units
        self.encoder = nn.Sequential(*encoder, nn.Flatten(),
                                     nn.Linear(int(np.prod(self.grid)), code_size))
        self.expand = nn.Sequential(nn.Linear(code_size, int(np.prod(self.grid))), nn.ReLU())
        decoder = []
        for units in reversed(filters):
            decoder += [nn.ConvTranspose2d(previous, units, 3, stride=2, padding=1,
                                           output_padding=1), nn.ReLU()]
            previous = units
        self.decoder = nn.Sequential(*decoder, nn.Conv2d(previous, channels, 3, padding=1),
                                     nn.Sigmoid())

    def forward(self, images):
        code = self.encoder(images)
        return self.decoder(self.expand(code).view(-1, *self.grid))


class Block(nn.Module):
    def __init__(self, width, num_heads, ff_dim):
        super().__init__()
        self.attention_norm = nn.LayerNorm(width, eps=1e-6)
        self.attention = nn.MultiheadAttention(width, num_heads, batch_first=True)
        self.ff_norm = nn.LayerNorm(width, eps=1e-6)
        self.ff = nn.Sequential(nn.Linear(width, ff_dim), nn.GELU(), nn.Linear(ff_dim, width))

    def forward(self, x, causal, padding):
        h = self.attention_norm(x)
        h, _ = self.attention(h, h, h, attn_mask=causal, key_padding_mask=padding,
                              need_weights=False)
        x = x + h
        return x + self.ff(self.ff_norm(x))


class GPT(nn.Module):
    def __init__(self, vocab_size, max_length, embedding_dim, num_heads, ff_dim, num_layers,
                 dropout=0.0):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, embedding_dim)
        self.position_embedding = nn.Embedding(max_length, embedding_dim)
        self.blocks = nn.ModuleList(Block(embedding_dim, num_heads, ff_dim)
                                    for _ in range(num_layers))
        self.final_norm = nn.LayerNorm(embedding_dim, eps=1e-6)
        self.logits = nn.Linear(embedding_dim, vocab_size)

    def forward(self, tokens):
        length = tokens.shape[1]
        positions = torch.arange(length, device=tokens.device)
        x = self.token_embedding(tokens) + self.position_embedding(positions)[None]
        causal = torch.ones(length, length, dtype=torch.bool, device=tokens.device).triu(1)
        padding = tokens == 0
        for block in self.blocks:
            x = block(x, causal, padding)
        return self.logits(self.final_norm(x))


class LSTMSeq2Seq(nn.Module):
    def __init__(self, source_vocab_size, target_vocab_size, embedding_dim, latent_dim):
        super().__init__()
        self.source_embedding = nn.Embedding(source_vocab_size, embedding_dim)
        self.encoder = nn.LSTM(embedding_dim, latent_dim, batch_first=True)
        self.target_embedding = nn.Embedding(target_vocab_size, embedding_dim)
        self.decoder = nn.LSTM(embedding_dim, latent_dim, batch_first=True)
        self.logits = nn.Linear(latent_dim, target_vocab_size)

    def forward(self, source, target):
        lengths = (source != 0).sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(self.source_embedding(source), lengths,
                                                   batch_first=True, enforce_sorted=False)
        _, state = self.encoder(packed)
        states, _ = self.decoder(self.target_embedding(target), state)
        return self.logits(states)


class GCN(nn.Module):
    def __init__(self, num_features, hidden_units, num_classes):
        super().__init__()
        self.layers = nn.ModuleList()
        width = num_features
        for units in hidden_units:
            self.layers.append(nn.Linear(width, units))
            width = units
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, features, edges):
        batch, nodes, _ = features.shape
        offsets = torch.arange(batch, device=edges.device) * nodes
        edges = (edges + offsets[:, None, None]).transpose(0, 1).reshape(2, -1)
        source, target = edges[0], edges[1]
        h = features.reshape(batch * nodes, -1)
        degree = torch.ones(h.shape[0], device=h.device, dtype=h.dtype).index_add_(
            0, target, torch.ones_like(source, dtype=h.dtype))
        inv_sqrt = degree.rsqrt()
        coefficient = (inv_sqrt[source] * inv_sqrt[target])[:, None]
        self_loop = (inv_sqrt * inv_sqrt)[:, None]
        for layer in self.layers:
            hw = h @ layer.weight.t()  # bfloat16/float16 under autocast
            messages = hw[source] * coefficient.to(hw.dtype)
            aggregated = torch.zeros_like(hw).index_add_(0, target, messages)
            h = torch.relu(aggregated + hw * self_loop.to(hw.dtype) + layer.bias.to(hw.dtype))
        return self.classifier(h).view(batch, nodes, -1)


BUILDERS = {
    "classifier": LSTMClassifier,
    "autoencoder": ConvAutoencoder,
    "decoder": GPT,
    "seq2seq": LSTMSeq2Seq,
    "graph": GCN,
}


def build(family, params):
    """The plain PyTorch module for ``family`` with the zoo's ``params``."""
    return BUILDERS[family](**params)


def count_params(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def to_tensors(family, x, y, device):
    """NumPy ``(x, y)`` in the zoo's format -> (tuple of model inputs, target) tensors
    (``y=None``: target ``None``)."""
    def tensor(value, dtype):
        if value is None:
            return None
        return torch.as_tensor(np.ascontiguousarray(value)).to(device=device, dtype=dtype)

    if family == "autoencoder":
        images = tensor(np.transpose(x, (0, 3, 1, 2)), torch.float32)
        return (images,), images
    if family == "classifier":
        return (tensor(x, torch.long),), tensor(y, torch.float32)
    if family == "decoder":
        return (tensor(x, torch.long),), tensor(y, torch.long)
    if family == "seq2seq":
        return ((tensor(x["source_tokens"], torch.long), tensor(x["target_tokens"], torch.long)),
                tensor(y, torch.long))
    if family == "graph":
        return ((tensor(x["node_features"], torch.float32), tensor(x["edge_index"], torch.long)),
                tensor(y, torch.long))
    raise ValueError(f"Unknown family {family!r}")


def loss(family, outputs, target):
    if family == "classifier":
        return F.binary_cross_entropy(outputs.float(), target)
    if family == "autoencoder":
        return F.mse_loss(outputs.float(), target)
    ignore = -1 if family == "graph" else 0
    return F.cross_entropy(outputs.float().reshape(-1, outputs.shape[-1]), target.reshape(-1),
                           ignore_index=ignore)
