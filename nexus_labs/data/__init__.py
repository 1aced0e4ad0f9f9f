"""The marketplace dataset every lab uses.

>>> from nexus_labs import data
>>> frames = data.load_frames()              # the shipped CSVs as DataFrames
>>> flat = data.flat_export()                # the denormalized order-line export
>>> data.install_marketplace(lab.sql.engine) # the normalized tables, loaded once
>>> data.ensure_big_table(lab.sql)           # "big_orders", 1,000,000 generated rows
"""

from __future__ import annotations

import importlib

# Imported on first use: keeps `python -m nexus_labs.data.generate` free of a double import
# and `import nexus_labs` light for labs that never touch the dataset.
_EXPORTS = {
    "ensure_big_table": "nexus_labs.data.loader",
    "install_marketplace": "nexus_labs.data.loader",
    "flat_export": "nexus_labs.data.shipped",
    "load_frames": "nexus_labs.data.shipped",
    "generate_marketplace": "nexus_labs.data.generate",
    "marketplace_metadata": "nexus_labs.data.schema",
    "big_orders": "nexus_labs.data.schema",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'nexus_labs.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
