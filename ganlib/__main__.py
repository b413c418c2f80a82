"""`python -m ganlib ...`: the command line (see ganlib/cli.py)."""
from ganlib.cli import main

raise SystemExit(main())
