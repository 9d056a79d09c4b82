"""Graph layers, one concept per file, written with ``keras.ops`` only (every backend).

- ``message_passing``: the ``MessagePassing`` base (message -> aggregate -> update)
  and the segment helpers every layer shares;
- one convolution per file (``gcn_conv.py``: ``GCNConv``, ``gat_conv.py``:
  ``GATConv``, ...);
- ``readout`` (``GraphReadout``), ``batching`` (``FlattenBatch``, ``MergeIndex``,
  ``SplitBatch``), ``inner_product`` (``InnerProductDecoder``).

``GraphAttention`` and ``GraphSAGEConv`` are the pre-0.2 names of ``GATConv`` and
``SAGEConv``, kept registered so that older ``.keras`` files load.
"""

from zoo.models.graph.layers.batching import FlattenBatch, MergeIndex, SplitBatch
from zoo.models.graph.layers.gat_conv import GATConv, GraphAttention
from zoo.models.graph.layers.gcn_conv import GCNConv
from zoo.models.graph.layers.gin_conv import GINConv
from zoo.models.graph.layers.inner_product import InnerProductDecoder
from zoo.models.graph.layers.message_passing import MessagePassing
from zoo.models.graph.layers.readout import READOUTS, GraphReadout
from zoo.models.graph.layers.sage_conv import GraphSAGEConv, SAGEConv
