"""tinygrad_edu: a reverse-mode autograd engine on NumPy, for learning how neural networks learn.

The core (Tensor and its operations) is in ``tensor.py`` and ``ops.py``; it imports
nothing else of the package. Models live in ``nn``, optimizers in ``optim``, drawings
in ``viz``, the training loop in ``train`` and whole runs in ``experiments``; the `edu`
command line is ``tinygrad_edu.cli`` (imported only when it runs). ``set_num_threads(n)``
fixes the BLAS threads of every matrix product (``threads.py`` explains the default).
"""
from .gradcheck import GradcheckError, gradcheck
from .ops import concatenate, stack, unbroadcast
from .threads import set_num_threads
from .tensor import ShapeError, Tensor, detect_anomaly, is_grad_enabled, name_scope, no_grad

__version__ = "0.1.0"

__all__ = ["Tensor", "no_grad", "is_grad_enabled", "detect_anomaly", "name_scope", "gradcheck",
           "GradcheckError", "ShapeError", "concatenate", "stack", "unbroadcast", "set_num_threads",
           "__version__"]
