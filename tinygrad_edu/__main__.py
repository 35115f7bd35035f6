"""`python -m tinygrad_edu` runs the same command line as `edu`."""
from .cli import main

if __name__ == "__main__":
    main()
