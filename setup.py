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
# folder -> the files of it that ship (not a learner's workspace someone ran in the folder).
SHIPPED_FILES = {"notebooks": ("*.ipynb",), "datasets": ("*.csv", "README.md")}


class BuildWithLabs(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "nexus_labs" / "_shipped"
        # A reused build/ folder still holds earlier copies: a lab removed since must not ship.
        shutil.rmtree(target, ignore_errors=True)
        for folder, patterns in SHIPPED_FILES.items():
            destination = target / folder
            destination.mkdir(parents=True, exist_ok=True)
            for pattern in patterns:
                for source in sorted((ROOT / folder).glob(pattern)):
                    shutil.copy2(source, destination / source.name)


setup(cmdclass={"build_py": BuildWithLabs})
