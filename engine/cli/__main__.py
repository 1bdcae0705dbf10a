"""`python -m engine.cli …` runs the `enclave` command line."""

import sys

from engine.cli import main

sys.exit(main())
