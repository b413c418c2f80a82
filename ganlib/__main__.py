"""`python -m ganlib ...`: the command line (see ganlib/cli/)."""
from ganlib.cli import main

raise SystemExit(main())
