"""`python -m patronage.cli`: the same as the `patronage` command."""

import sys

from patronage.cli.main import main

sys.exit(main())
