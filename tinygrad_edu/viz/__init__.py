"""Pictures of what a network computes and how it learns.

``graph``: Graphviz drawings of compute graphs (``draw_graph``, ``draw_scalar_graph``,
``render_graph``); ``expr``: the safe expression parser behind ``edu graph --expr``;
``stepper``: ``step_backward``, a page that steps through a backward pass node by node.
Plots that need matplotlib live in their own modules and are imported on use.
"""
from .expr import ExpressionError, parse_expression
from .graph import GraphError, Rendered, draw_graph, draw_scalar_graph, mlp_loss_graph, render_graph
from .stepper import backward_frames, step_backward

__all__ = ["draw_graph", "draw_scalar_graph", "render_graph", "Rendered", "parse_expression",
           "ExpressionError", "GraphError", "mlp_loss_graph", "step_backward", "backward_frames"]
