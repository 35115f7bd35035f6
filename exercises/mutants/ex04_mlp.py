"""Realistic wrong answers to the exercises of ex04_mlp.py (instructor's edition only).

Each mutant is what a student plausibly writes; the test suite proves that the checks fail it
and show the hint meant for its kind of mistake. A mutant is the whole class, its given parts
(__init__) as in the workbook and its forward wrong.
"""
import numpy as np

from tinygrad_edu import Tensor, nn
from tinygrad_edu.course.mutants import mutant


class _GivenLinear(nn.Module):
    """The workbook's Linear without its forward: the weights as the workbook makes them."""

    def __init__(self, in_features, out_features, seed=0):
        rng = np.random.default_rng(seed)
        self.in_features, self.out_features = in_features, out_features
        self.W = Tensor(rng.standard_normal((in_features, out_features)) * np.sqrt(2.0 / in_features),
                        requires_grad=True)
        self.b = Tensor(np.zeros(out_features), requires_grad=True)


# ----- 4.1: Linear --------------------------------------------------------------------------------

@mutant("4.1", kind="bias", why="x @ W without the bias")
class Linear(_GivenLinear):
    def forward(self, x):
        return x @ self.W


@mutant("4.1", kind="graph", why="computed on the NumPy arrays (.data): right numbers, no graph")
class Linear(_GivenLinear):  # noqa: F811  (each mutant is a separate wrong answer)
    def forward(self, x):
        x = x.data if isinstance(x, Tensor) else np.asarray(x)
        return Tensor(x @ self.W.data + self.b.data)


@mutant("4.1", kind="activation", why="a ReLU inside the layer, which belongs to the MLP between layers")
class Linear(_GivenLinear):  # noqa: F811
    def forward(self, x):
        return (x @ self.W + self.b).relu()


# ----- 4.2: MLP -----------------------------------------------------------------------------------

class _GivenMLP(nn.Module):
    """The workbook's MLP without its forward (its Linear is the engine's while 4.2 is checked)."""

    def __init__(self, sizes, activation="relu", seed=0):
        if activation not in ("relu", "tanh"):
            raise ValueError(f"MLP: activation {activation!r} must be 'relu' or 'tanh'")
        rng = np.random.default_rng(seed)
        self.sizes, self.activation = list(sizes), activation
        self.layers = [Linear(n_in, n_out, seed=rng) for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:])]

    def act(self, x):
        return x.relu() if self.activation == "relu" else x.tanh()


@mutant("4.2", kind="last_activation", why="an activation after every layer, the last one too: logits cut at 0")
class MLP(_GivenMLP):
    def forward(self, x):
        for layer in self.layers:
            x = self.act(layer(x))
        return x


@mutant("4.2", kind="input_activation", why="the activation applied before each layer, so on the input too")
class MLP(_GivenMLP):  # noqa: F811
    def forward(self, x):
        for layer in self.layers:
            x = layer(self.act(x))
        return x


@mutant("4.2", kind="no_activation", why="the layers one after the other, no activation: a linear model")
class MLP(_GivenMLP):  # noqa: F811
    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


@mutant("4.2", kind="activation", why="always relu, whatever self.activation says")
class MLP(_GivenMLP):  # noqa: F811
    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = x.relu()
        return x
