"""`python -m tinygrad_edu` runs the same command line as `edu`."""
from cli import cli

if __name__ == "__main__":
    cli(prog_name="edu")
