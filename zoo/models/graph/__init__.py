"""Graph family (transitional: re-exports the old modules until they move here)."""

from zoo.graph import *  # noqa: F401,F403
from zoo.graph import GraphModel  # noqa: F401
from zoo.graph_data import (batch_graphs, check_graph_batch, from_networkx,  # noqa: F401
                            split_node_values, to_networkx, unbatch_graphs)
