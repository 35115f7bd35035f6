"""`python cli.py ...` in a checkout runs the `edu` command, which lives in tinygrad_edu/cli/."""
from tinygrad_edu.cli import cli, main  # noqa: F401  (cli: for `from cli import cli` in older code)
if __name__ == "__main__": main()
