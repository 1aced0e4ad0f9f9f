"""`python -m nexus_labs` is the same as the `nexus-labs` command."""

from nexus_labs.cli import main

raise SystemExit(main())
