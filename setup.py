"""Build hook: ship the top-level notebooks/ and datasets/ inside the wheel.

The repository keeps the labs at the top level (where learners and reviewers look for them);
the wheel needs them inside the package so an installed `nexus-labs start` finds them.
Everything else about the package lives in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent
SHIPPED_FOLDERS = ("notebooks", "datasets")


class BuildWithLabs(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "nexus_labs" / "_shipped"
        for folder in SHIPPED_FOLDERS:
            source = ROOT / folder
            if source.is_dir():
                shutil.copytree(
                    source,
                    target / folder,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
                )


setup(cmdclass={"build_py": BuildWithLabs})
