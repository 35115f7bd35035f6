"""tinygrad_edu: a reverse-mode autograd engine on NumPy, for learning how neural networks learn.

The core (Tensor and its operations) is in ``tensor.py`` and ``ops.py``; it imports
nothing else of the package. Models live in ``nn``, optimizers in ``optim``, drawings
in ``viz``, the training loop in ``train`` and whole runs in ``experiments``; the `edu`
command line is ``tinygrad_edu.cli`` (imported only when it runs). ``set_num_threads(n)``
fixes the BLAS threads of every matrix product (``threads.py`` explains the default).

``python -m tinygrad_edu`` imports this package before it runs ``__main__``, so when that is what is
running, the first statements below install the `edu` command's start-up signal handlers before NumPy
loads (``tinygrad_edu_launcher.py`` explains them); an import anywhere else installs nothing.
"""
import sys

if sys.argv[:1] == ["-m"] and any(__name__ in word for word in sys.orig_argv):   # `python -m tinygrad_edu...`
    from tinygrad_edu_launcher import install_for_python_m
    install_for_python_m()

from .gradcheck import GradcheckError, gradcheck  # noqa: E402  (after the start-up handlers)
from .ops import concatenate, stack, unbroadcast  # noqa: E402
from .threads import set_num_threads  # noqa: E402
from .tensor import ShapeError, Tensor, detect_anomaly, is_grad_enabled, name_scope, no_grad  # noqa: E402

__version__ = "0.1.0"

__all__ = ["Tensor", "no_grad", "is_grad_enabled", "detect_anomaly", "name_scope", "gradcheck",
           "GradcheckError", "ShapeError", "concatenate", "stack", "unbroadcast", "set_num_threads",
           "__version__"]
