"""`python -m tinygrad_edu` runs the same command line as `edu` (the package's ``__init__`` has already
installed the start-up signal handlers: see ``tinygrad_edu_launcher.py``)."""
from tinygrad_edu_launcher import main

if __name__ == "__main__":
    main()
