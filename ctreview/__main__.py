"""``python -m ctreview``."""
import sys

from ctreview.cli import main

sys.exit(main())
