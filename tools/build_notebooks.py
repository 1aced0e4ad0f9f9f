"""Build the committed notebooks from their percent-format sources, executed.

    python tools/build_notebooks.py            # every source in notebooks/src/
    python tools/build_notebooks.py 04_caching # one lab

Each notebooks/src/NN_name.py (jupytext percent format, cell tags as `# %% tags=[...]`) becomes
notebooks/NN_name.ipynb, executed top to bottom on the embedded backends in a throwaway
workspace, with the library version stamped in its metadata. The .ipynb is what ships and
what nbval checks; the .py is what we edit and review.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "notebooks" / "src"
sys.path.insert(0, str(ROOT))

from nexus_labs._version import __version__  # noqa: E402
from nexus_labs.headless import HeadlessClient  # noqa: E402


def build(source: Path, home: Path) -> Path:
    notebook = jupytext.read(source)
    notebook.metadata.pop("jupytext", None)
    notebook.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    notebook.metadata["nexus_labs"] = {"version": __version__}
    for cell in notebook.cells:  # stable ids keep diffs small
        cell.id = f"{source.stem[:2]}-{notebook.cells.index(cell):03d}"
    env_backup = {key: os.environ.pop(key) for key in list(os.environ) if key.startswith("NEXUS_")}
    os.environ["NEXUS_HOME"] = str(home)
    try:
        HeadlessClient(
            notebook, timeout=600, kernel_name="python3",
            resources={"metadata": {"path": str(ROOT / "notebooks")}},
        ).execute()
    finally:
        os.environ.pop("NEXUS_HOME", None)
        os.environ.update(env_backup)
    target = ROOT / "notebooks" / f"{source.stem}.ipynb"
    nbformat.write(notebook, target)
    return target


def main(names: list[str]) -> int:
    sources = sorted(SOURCES.glob("*.py"))
    if names:
        sources = [s for s in sources if any(s.stem.startswith(n) for n in names)]
    home = Path(os.environ.get("NEXUS_BUILD_HOME") or tempfile.mkdtemp(prefix="nexus-build-"))
    for source in sources:
        print(f"building {source.name} ...", flush=True)
        print(f"  wrote {build(source, home).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
