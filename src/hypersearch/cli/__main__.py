"""``python -m hypersearch.cli``: the ``hypersearch`` command without its installed script."""

import sys

from hypersearch.cli import main

sys.exit(main())
