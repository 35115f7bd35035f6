"""The `edu` command line: thin click wrappers over the tinygrad_edu library.

Every command parses its options, calls one library function and prints the result.
Bad usage exits with status 2 and a one-line message (click.UsageError / click.BadParameter).
"""
from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tinygrad_edu", prog_name="edu")
def cli() -> None:
    """tinygrad_edu: train, compare and explore optimizers on a tiny autograd engine."""


# --- section: train / compare / optimizers (owned by the training helper) ---

# --- end section: train / compare / optimizers ---


# --- section: ablate / landscape (owned by the ablation helper) ---

# --- end section: ablate / landscape ---


# --- section: graph (owned by the graph helper) ---

# --- end section: graph ---


if __name__ == "__main__":
    cli(prog_name="edu")
