"""Chapter 4: a Linear layer and an MLP, built from the engine's Tensor ops.

Both are ``nn.Module`` subclasses, as the engine's layers are: a module finds its parameters
(every Tensor attribute that requires grad, in lists too) by itself, so ``model.parameters()``
lists them for an optimizer, and calling ``layer(x)`` runs your ``forward(x)``.

The weights are made for you, as the engine's ``nn.Linear`` makes them by default; you write
the forward passes. Write them with Tensor operations (``@``, ``+``, ``.relu()``, ``.tanh()``):
then backward() reaches every weight. A NumPy array (``.data``) carries no graph.

Check your work with ``edu check 4.1`` (one exercise) or ``edu check`` (all of them).
"""
import numpy as np

from tinygrad_edu import Tensor, nn


class Linear(nn.Module):
    """Exercise 4.1: a Linear layer's forward.

    y = x @ W + b.  Shapes: x is (N, in_features), a batch of N examples (or one example, (in_features,));
    W is (in_features, out_features); b is (out_features,), added to every row (broadcasting);
    y is (N, out_features) (or (out_features,) for one example).

    The weights are drawn as the engine's nn.Linear draws them by default: W from
    N(0, 2/in_features) (He et al. 2015, for ReLU networks), b zeros. `seed` is an int, or a
    numpy Generator that several layers share (an MLP's).
    """

    def __init__(self, in_features, out_features, seed=0):
        rng = np.random.default_rng(seed)      # a Generator passed in is used as it is
        self.in_features, self.out_features = in_features, out_features
        self.W = Tensor(rng.standard_normal((in_features, out_features)) * np.sqrt(2.0 / in_features),
                        requires_grad=True)
        self.b = Tensor(np.zeros(out_features), requires_grad=True)

    def forward(self, x):
        """y = x @ W + b, with this layer's W (``self.W``) and b (``self.b``).

        Hint: one line of Tensor ops. ``x @ self.W`` is (N, out_features), and ``+ self.b``
        adds b to each row; the engine's broadcasting (and its unbroadcast in backward) does the rest.
        """
        # BEGIN SOLUTION
        return x @ self.W + self.b
        # END SOLUTION


class MLP(nn.Module):
    """Exercise 4.2: an MLP's forward.

    MLP([2, 16, 16, 2]) is Linear(2→16), activation, Linear(16→16), activation, Linear(16→2):
    an activation between two layers, none on the input and none after the last layer, whose
    outputs are the logits (any real numbers, negative ones too, that the loss turns into
    probabilities). `activation` is "relu" (max(x, 0)) or "tanh". MLP([3, 2]) is one Linear layer.

    The layers are made for you (``self.layers``, a list of Linear), their weights drawn one
    after the other from one generator made from `seed`: the same seed, the same network.
    """

    def __init__(self, sizes, activation="relu", seed=0):
        if activation not in ("relu", "tanh"):
            raise ValueError(f"MLP: activation {activation!r} must be 'relu' or 'tanh'")
        rng = np.random.default_rng(seed)
        self.sizes, self.activation = list(sizes), activation
        self.layers = [Linear(n_in, n_out, seed=rng) for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:])]

    def forward(self, x):
        """The layers in order, ``self.activation`` between each two: x ↦ logits.

        Hint: loop over ``self.layers``; after every layer but the last, apply ``x.relu()`` or
        ``x.tanh()`` as ``self.activation`` says. (Exercise 4.1's Linear is the engine's while
        this one is checked.)
        """
        # BEGIN SOLUTION
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:       # none after the last layer: its outputs are the logits
                x = x.relu() if self.activation == "relu" else x.tanh()
        return x
        # END SOLUTION
