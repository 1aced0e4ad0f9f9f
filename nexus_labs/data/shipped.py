"""The shipped marketplace: datasets/*.csv as DataFrames, and the flat export built on them."""

from __future__ import annotations

from functools import cache

import pandas as pd

from nexus_labs.data.generate import DATE_COLUMNS, TABLE_ORDER, generate_marketplace
from nexus_labs.resources import datasets_dir

FLAT_COLUMNS = (
    "order_id", "ordered_at", "status", "customer_id", "customer_name", "customer_email",
    "customer_city", "product_id", "product_name", "product_tags", "category_id",
    "category_name", "seller_id", "seller_name", "seller_email", "quantity", "unit_price_cents",
)  # fmt: skip
TAG_SEPARATOR = ", "


@cache
def _read_shipped() -> dict[str, pd.DataFrame]:
    folder = datasets_dir()
    frames = {}
    for name in TABLE_ORDER:
        frame = pd.read_csv(folder / f"{name}.csv", keep_default_na=False, na_values=[""])
        for column in DATE_COLUMNS.get(name, ()):
            frame[column] = pd.to_datetime(frame[column], format="ISO8601").astype("datetime64[s]")
        if name == "categories":
            frame["parent_id"] = frame["parent_id"].astype("Int64")
        frames[name] = frame
    return frames


@cache
def _generated(scale: int) -> dict[str, pd.DataFrame]:
    return generate_marketplace(scale)


def load_frames(scale: int = 1) -> dict[str, pd.DataFrame]:
    """The normalized marketplace, one DataFrame per table, parents before children.

    Scale 1 reads the shipped CSVs in datasets/; a larger scale (e.g. `lab.settings.scale`)
    generates that many times more rows with the same seed. Each call returns fresh copies, so
    a notebook may modify them freely.
    """
    frames = _read_shipped() if scale == 1 else _generated(scale)
    return {name: frame.copy() for name, frame in frames.items()}


def expected_counts(scale: int = 1) -> dict[str, int]:
    """Rows per table at this scale, cheaply: install_marketplace checks them on every call."""
    if scale != 1:
        return {name: len(frame) for name, frame in _generated(scale).items()}
    # One line per row after the header (the generator writes no line breaks inside values):
    # counting them is far quicker than parsing the CSVs in a fresh kernel.
    folder = datasets_dir()
    return {name: (folder / f"{name}.csv").read_bytes().count(b"\n") - 1 for name in TABLE_ORDER}


def flat_export(scale: int = 1) -> pd.DataFrame:
    """The deliberately denormalized order-line export: one row per order item.

    Every customer, product, category and seller fact is repeated on each of their order lines,
    and a product's tags are one comma-separated string: the shape a spreadsheet export has and
    the normalization lab takes apart.
    """
    f = load_frames(scale)
    tag_names = (
        f["product_tags"].merge(f["tags"], on="tag_id").sort_values(["product_id", "name"])
        .groupby("product_id")["name"].agg(TAG_SEPARATOR.join)
    )  # fmt: skip
    products = f["products"].assign(
        product_tags=lambda p: p["product_id"].map(tag_names).fillna("").astype(str)
    )
    rename = {
        "customers": {"name": "customer_name", "email": "customer_email", "city": "customer_city"},
        "products": {"name": "product_name"},
        "categories": {"name": "category_name"},
        "sellers": {"name": "seller_name", "email": "seller_email"},
    }
    flat = (
        f["order_items"]
        .merge(f["orders"], on="order_id", validate="many_to_one")
        .merge(f["customers"].rename(columns=rename["customers"]), on="customer_id",
               validate="many_to_one")
        .merge(products.rename(columns=rename["products"]), on="product_id",
               validate="many_to_one")
        .merge(f["categories"].rename(columns=rename["categories"]), on="category_id",
               validate="many_to_one")
        .merge(f["sellers"].rename(columns=rename["sellers"]), on="seller_id",
               validate="many_to_one")
    )  # fmt: skip
    flat = flat.sort_values(["order_id", "product_id"], kind="stable").reset_index(drop=True)
    return flat[list(FLAT_COLUMNS)]
