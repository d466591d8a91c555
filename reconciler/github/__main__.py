"""`python -m reconciler.github plan|apply`: the GitHub Action's main step."""

import sys

from reconciler.github.run import main

sys.exit(main())
