"""Loaded by pytest for tests/ and notebooks/ alike (unit tests and nbval).

One workspace for the whole run, kept between runs so the 1M-row table is generated once.
Set before any kernel starts: nbval's kernels inherit this environment. Without it a kernel
started in notebooks/ would make a workspace there.
"""

import os
from pathlib import Path

os.environ.setdefault("NEXUS_HOME", str(Path(__file__).resolve().parent / ".nexus-test-home"))
