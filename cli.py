"""`python cli.py ...` in a checkout runs the `edu` command (tinygrad_edu_launcher.py starts it)."""
from tinygrad_edu_launcher import main
if __name__ == "__main__": main()
else: from tinygrad_edu.cli import cli  # noqa: F401  (for `from cli import cli` in older code)
