"""`python -m experiments.cli ...` is `mdparcade ...`."""

import sys

from experiments.cli import main

sys.exit(main())
