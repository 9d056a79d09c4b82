"""Encoder zoo: Keras 3 encoder architectures for TensorFlow, JAX and PyTorch.

>>> import zoo
>>> zoo.list_models("*seq2seq*")
['attention_seq2seq', 'gru_seq2seq', 'lstm_seq2seq', 'transformer_seq2seq']
>>> model = zoo.build("dense_autoencoder_toy")
>>> codes = zoo.encoder(model)
>>> digest = zoo.save(model, "ae.keras")     # model card + SHA-256, never overwrites
>>> same = zoo.load("ae.keras")              # refuses anything that could run code
"""

from zoo import models  # noqa: F401  (registers every family)
from zoo.losses import MaskedSparseAccuracy, MaskedSparseCrossentropy
from zoo.model import ZooModel, encoder
from zoo.models.autoencoder import (decoder, interpolate, log_likelihood, reconstruction_error,
                                   sample)
from zoo.budget import ParameterBudgetError
from zoo.constants import FAMILIES
from zoo.jsonable import to_jsonable
from zoo.registry import (Capabilities, ModelSpec, build, describe, get_spec, list_models,
                          model_params, register_model, spec_of, unregister_model)
from zoo.generation import generate, greedy_decode, score
from zoo.exporting import ExportError, ExportReport, export, export_support
from zoo.quantize import QuantizeReport, quantize
from zoo.lora import (LoraReport, enable_lora, load_adapters, lora_report, merge_lora,
                      save_adapters)
from zoo.distribution import Distribution, distribute
from zoo.transfer import TransferGraphModel, TransferModel, features, with_head
from zoo.sharing import UnsafeModelError, format_inspection, inspect, load, read_card, save
from zoo.models.graph import (batch_graphs, check_graph_batch, from_networkx, split_node_values,
                              to_networkx, unbatch_graphs)
from zoo.models.graph.sampling import (IncomingCSR, NeighborSampler, predict_sampled,
                                       sample_subgraph)

__version__ = "0.1.0"

__all__ = [
    "Capabilities", "FAMILIES", "ParameterBudgetError", "MaskedSparseAccuracy", "MaskedSparseCrossentropy", "ModelSpec",
    "ZooModel", "build", "describe", "encoder", "generate", "get_spec", "greedy_decode",
    "list_models", "model_params", "register_model", "score", "spec_of", "to_jsonable",
    "unregister_model",
    "export", "export_support", "ExportError", "ExportReport", "quantize", "QuantizeReport",
    "enable_lora", "merge_lora", "save_adapters", "load_adapters", "lora_report", "LoraReport",
    "distribute", "Distribution",
    "with_head", "features", "TransferModel", "TransferGraphModel",
    "save", "load", "inspect", "read_card", "format_inspection", "UnsafeModelError",
    "decoder", "interpolate", "log_likelihood", "reconstruction_error", "sample",
    "batch_graphs", "check_graph_batch", "from_networkx", "split_node_values", "to_networkx",
    "unbatch_graphs",
    "IncomingCSR", "NeighborSampler", "predict_sampled", "sample_subgraph",
]
