"""Entry point of the frozen app: the same as the `seedance-desktop` command."""

import sys

from seedance_desktop.cli.main import main

sys.exit(main())
