"""Build the committed notebooks from their percent-format sources, executed.

    python tools/build_notebooks.py            # every source in notebooks/src/
    python tools/build_notebooks.py 04_caching # one lab

Each notebooks/src/NN_name.py (jupytext percent format, cell tags as `# %% tags=[...]`) becomes
notebooks/NN_name.ipynb, executed top to bottom on the embedded backends in a throwaway
workspace, with the library version stamped in its metadata. The .ipynb is what ships and
what nbval checks; the .py is what we edit and review.
"""

from __future__ import annotations

import configparser
import os
import re
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

SANITIZER = ROOT / "tests" / "nbval_sanitize.cfg"


def _path_rules(home: Path) -> list[tuple[re.Pattern, str]]:
    """The build's own folders first, then the sanitizer's paths_* rules (one source of truth
    for what nbval treats as machine-specific)."""
    rules = [(re.compile(re.escape(str(home))), "~/nexus-workspace"),
             (re.compile(re.escape(str(ROOT))), "~/nexus-labs")]
    config = configparser.ConfigParser(interpolation=None)
    config.read(SANITIZER, encoding="utf-8")
    rules += [(re.compile(config[name]["regex"]), config[name]["replace"])
              for name in config.sections() if name.startswith("paths_")]
    return rules


def scrub_paths(notebook, home: Path) -> None:
    """Replace this machine's paths in every output: a committed notebook names none."""
    rules = _path_rules(home)

    def scrub(text: str) -> str:
        for pattern, replacement in rules:
            text = pattern.sub(replacement, text)
        return text

    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = scrub(output["text"])
            for mime, value in output.get("data", {}).items():
                if isinstance(value, str) and mime.startswith("text/"):
                    output["data"][mime] = scrub(value)
            if "traceback" in output:
                output["traceback"] = [scrub(line) for line in output["traceback"]]


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
    scrub_paths(notebook, home)
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
