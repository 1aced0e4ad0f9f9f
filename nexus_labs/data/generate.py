"""The seeded generator behind datasets/: the marketplace at any scale, and the big table.

`generate_marketplace(scale=1, seed=7)` produced the shipped CSVs; running
``python -m nexus_labs.data.generate`` rewrites datasets/ and must leave git with nothing to
commit (tests/test_data.py proves the committed files equal a fresh generation).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from nexus_labs.data import words

SEED = 7
# Sizes at scale 1; categories and tags are fixed lists and do not scale.
SIZES = {"sellers": 20, "customers": 250, "products": 300, "orders": 1500, "reviews": 800}
TABLE_ORDER = (
    "categories", "sellers", "customers", "customer_profiles", "products", "tags",
    "product_tags", "orders", "order_items", "reviews",
)  # fmt: skip
DATE_COLUMNS = {
    "sellers": ("joined_at",),
    "customers": ("created_at",),
    "products": ("created_at",),
    "orders": ("ordered_at",),
    "reviews": ("created_at",),
}
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
END = np.datetime64("2025-06-30T23:59:59", "s")
OPEN_WINDOW = np.timedelta64(45, "D")  # orders younger than this are not delivered yet


def _between(rng: np.random.Generator, start, end) -> np.ndarray:
    """A uniformly random second between each start and end (arrays or scalars)."""
    start = np.asarray(start, dtype="datetime64[s]")
    span = (np.asarray(end, dtype="datetime64[s]") - start).astype(np.int64)
    offset = (rng.random(np.broadcast(start, span).shape) * span).astype(np.int64)
    return start + offset.astype("timedelta64[s]")


def _zipf_weights(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Popularity weights over n ids in random order: a few ids get most of the activity."""
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return rng.permutation(weights) / weights.sum()


def _categories() -> pd.DataFrame:
    frame = pd.DataFrame(words.CATEGORIES, columns=["category_id", "name", "parent_id"])
    frame["parent_id"] = frame["parent_id"].astype("Int64")
    return frame


def _sellers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    ids = np.arange(1, n + 1)
    combos = [f"{w} {s}" for s in words.SELLER_SUFFIXES for w in words.SELLER_WORDS]
    names = [combos[i] if i < len(combos) else f"{combos[i % len(combos)]} {i}"
             for i in rng.permutation(max(n, len(combos)))[:n]]  # fmt: skip
    countries = sorted({country for _, country in words.CITIES})
    return pd.DataFrame({
        "seller_id": ids,
        "name": names,
        "email": [f"seller{i}@example.com" for i in ids],
        "country": rng.choice(countries, n),
        "joined_at": _between(rng, np.full(n, np.datetime64("2020-01-01", "s")),
                              np.datetime64("2021-07-01")),
    })  # fmt: skip


def _customers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    ids = np.arange(1, n + 1)
    first = rng.choice(words.FIRST_NAMES, n)
    last = rng.choice(words.LAST_NAMES, n)
    city_index = rng.integers(0, len(words.CITIES), n)
    start = np.full(n, np.datetime64("2022-01-01", "s"))
    return pd.DataFrame({
        "customer_id": ids,
        "name": [f"{a} {b}" for a, b in zip(first, last, strict=True)],
        "email": [f"customer{i}@example.com" for i in ids],
        "city": [words.CITIES[i][0] for i in city_index],
        "country": [words.CITIES[i][1] for i in city_index],
        "created_at": _between(rng, start, np.datetime64("2025-01-01")),
    })  # fmt: skip


def _profiles(rng: np.random.Generator, customers: pd.DataFrame) -> pd.DataFrame:
    # One-to-one but optional: every fifth customer never filled in a profile.
    ids = customers["customer_id"].to_numpy()
    ids = ids[ids % 5 != 0]
    hobbies = rng.choice(len(words.HOBBIES), (len(ids), 2), replace=True)
    templates = rng.choice(words.BIO_TEMPLATES, len(ids))
    bios = []
    for template, (a, b) in zip(templates, hobbies, strict=True):
        b = b if b != a else (a + 1) % len(words.HOBBIES)
        first, second = words.HOBBIES[a], words.HOBBIES[b]
        bios.append(template.format(a=first, A=first.capitalize(), b=second))
    return pd.DataFrame({
        "customer_id": ids,
        "bio": bios,
        "birth_year": rng.integers(1950, 2007, len(ids)),
        "marketing_opt_in": rng.random(len(ids)) < 0.4,
    })  # fmt: skip


def _products(rng: np.random.Generator, n: int, sellers: pd.DataFrame) -> pd.DataFrame:
    ids = np.arange(1, n + 1)
    leaves = sorted(words.PRODUCT_NOUNS)
    category = rng.choice(leaves, n)
    seller = rng.integers(1, len(sellers) + 1, n)
    names, prices, used = [], [], set()
    for category_id in category:
        nouns, (low, high) = words.PRODUCT_NOUNS[int(category_id)]
        for attempt in range(50):  # unique names: product_name -> product_id holds in the export
            name = " ".join((rng.choice(words.PRODUCT_BRANDS),
                             rng.choice(words.PRODUCT_ADJECTIVES), rng.choice(nouns)))  # fmt: skip
            name = name if attempt < 40 else f"{name} {len(used)}"
            if name not in used:
                break
        used.add(name)
        names.append(name)
        cents = np.exp(rng.uniform(np.log(low), np.log(high)))
        prices.append(max(round(cents / 100) * 100 - 1, 99))  # shop prices end in 99
    joined = sellers.set_index("seller_id").loc[seller, "joined_at"].to_numpy()
    return pd.DataFrame({
        "product_id": ids,
        "seller_id": seller,
        "category_id": category,
        "name": names,
        "price_cents": prices,
        "stock": np.where(rng.random(n) < 0.08, 0, rng.integers(1, 500, n)),
        "created_at": _between(rng, joined, np.datetime64("2022-01-01")),
    })  # fmt: skip


def _product_tags(rng: np.random.Generator, products: pd.DataFrame) -> pd.DataFrame:
    counts = rng.choice([0, 1, 2, 3, 4], len(products), p=[0.12, 0.28, 0.3, 0.2, 0.1])
    rows = []
    for product_id, count in zip(products["product_id"], counts, strict=True):
        for tag_index in sorted(rng.choice(len(words.TAGS), count, replace=False)):
            rows.append((int(product_id), int(tag_index) + 1))
    return pd.DataFrame(rows, columns=["product_id", "tag_id"])


def _orders(rng: np.random.Generator, n: int, customers: pd.DataFrame) -> pd.DataFrame:
    weights = _zipf_weights(rng, len(customers), 0.8)  # some customers order a lot
    customer = rng.choice(customers["customer_id"].to_numpy(), n, p=weights)
    created = customers.set_index("customer_id").loc[customer, "created_at"].to_numpy()
    ordered = _between(rng, created, END)
    order = np.argsort(ordered, kind="stable")  # order ids grow with time, as in a real shop
    customer, ordered = customer[order], ordered[order]
    open_names, open_p = zip(*words.OPEN_STATUSES, strict=True)
    closed_names, closed_p = zip(*words.CLOSED_STATUSES, strict=True)
    status = np.where(ordered > END - OPEN_WINDOW, rng.choice(open_names, n, p=open_p),
                      rng.choice(closed_names, n, p=closed_p))  # fmt: skip
    return pd.DataFrame({
        "order_id": np.arange(1, n + 1),
        "customer_id": customer,
        "ordered_at": ordered,
        "status": status,
    })  # fmt: skip


def _order_items(rng: np.random.Generator, orders: pd.DataFrame, products: pd.DataFrame):
    weights = _zipf_weights(rng, len(products), 0.7)
    sizes = rng.choice([1, 2, 3, 4, 5], len(orders), p=[0.22, 0.28, 0.22, 0.16, 0.12])
    price = products.set_index("product_id")["price_cents"]
    rows = []
    for order_id, size in zip(orders["order_id"], sizes, strict=True):
        chosen = rng.choice(products["product_id"].to_numpy(), size, replace=False, p=weights)
        for product_id in sorted(chosen):
            quantity = int(rng.choice([1, 2, 3, 4], p=[0.7, 0.2, 0.07, 0.03]))
            unit = int(price[product_id])
            if rng.random() < 0.15:  # the price changed since: why order_items keeps its own
                unit = int(unit * rng.uniform(0.8, 1.1)) // 100 * 100 + 99
            rows.append((int(order_id), int(product_id), quantity, unit))
    return pd.DataFrame(rows, columns=["order_id", "product_id", "quantity", "unit_price_cents"])


def _reviews(rng, n: int, orders: pd.DataFrame, items: pd.DataFrame, products: pd.DataFrame):
    # Only buyers of delivered orders review, at most once per product.
    bought = items.merge(orders[orders["status"] == "delivered"], on="order_id")
    bought = bought.drop_duplicates(["customer_id", "product_id"]).reset_index(drop=True)
    picked = bought.loc[np.sort(rng.choice(len(bought), min(n, len(bought)), replace=False))]
    days = rng.integers(3, 46, len(picked)).astype("timedelta64[D]")
    created = _between(rng, picked["ordered_at"].to_numpy() + days,
                       picked["ordered_at"].to_numpy() + days + np.timedelta64(1, "D"))
    rating = rng.choice([1, 2, 3, 4, 5], len(picked), p=[0.07, 0.08, 0.15, 0.3, 0.4])
    nouns = products.set_index("product_id").loc[picked["product_id"], "name"]
    bodies = [rng.choice(words.REVIEW_TEMPLATES[int(r)]).format(item=name.split(" ", 2)[2].lower())
              for r, name in zip(rating, nouns, strict=True)]  # fmt: skip
    frame = pd.DataFrame({
        "product_id": picked["product_id"].to_numpy(),
        "customer_id": picked["customer_id"].to_numpy(),
        "rating": rating,
        "body": bodies,
        "created_at": created,
    }).sort_values("created_at", kind="stable").reset_index(drop=True)  # fmt: skip
    frame.insert(0, "review_id", np.arange(1, len(frame) + 1))
    return frame


def generate_marketplace(scale: int = 1, seed: int = SEED) -> dict[str, pd.DataFrame]:
    """The normalized marketplace as DataFrames, in foreign-key order (parents first).

    Args:
        scale: multiplies every size except the fixed categories and tags lists (the shipped
            CSVs are scale 1; NEXUS_SCALE reaches here through `settings.scale`).
        seed: the numpy seed; the same (scale, seed) always gives the same frames.
    """
    if scale < 1:
        raise ValueError(f"scale must be at least 1, not {scale}")
    rng = np.random.default_rng(seed)
    size = {name: count * scale for name, count in SIZES.items()}
    sellers = _sellers(rng, size["sellers"])
    customers = _customers(rng, size["customers"])
    profiles = _profiles(rng, customers)
    products = _products(rng, size["products"], sellers)
    tags = pd.DataFrame({"tag_id": np.arange(1, len(words.TAGS) + 1), "name": words.TAGS})
    product_tags = _product_tags(rng, products)
    orders = _orders(rng, size["orders"], customers)
    items = _order_items(rng, orders, products)
    reviews = _reviews(rng, size["reviews"], orders, items, products)
    frames = {
        "categories": _categories(), "sellers": sellers, "customers": customers,
        "customer_profiles": profiles, "products": products, "tags": tags,
        "product_tags": product_tags, "orders": orders, "order_items": items, "reviews": reviews,
    }  # fmt: skip
    return {name: _tidy(name, frames[name]) for name in TABLE_ORDER}


def _tidy(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Same dtypes as shipped.load_frames gives after reading the CSVs back."""
    frame = frame.reset_index(drop=True).copy()
    for column in frame.columns:
        if column in DATE_COLUMNS.get(name, ()):
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[s]")
        elif isinstance(frame[column].dtype, np.dtype) and frame[column].dtype.kind in "iu":
            frame[column] = frame[column].astype("int64")
        elif frame[column].dtype.kind in "OUT" or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].astype(str)
    return frame


def to_csv_text(name: str, frame: pd.DataFrame) -> str:
    """The exact text of datasets/<name>.csv: ISO dates, no index, LF line ends."""
    frame = frame.copy()
    for column in DATE_COLUMNS.get(name, ()):
        frame[column] = frame[column].dt.strftime(DATE_FORMAT)
    return frame.to_csv(index=False, lineterminator="\n")


def write_datasets(folder: Path, frames: dict[str, pd.DataFrame]) -> list[Path]:
    """Write one CSV per table into folder; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in frames.items():
        path = folder / f"{name}.csv"
        path.write_text(to_csv_text(name, frame), encoding="utf-8", newline="")
        written.append(path)
    return written


BIG_STATUSES = (("delivered", 0.70), ("shipped", 0.10), ("paid", 0.08), ("pending", 0.05),
                ("cancelled", 0.05), ("refunded", 0.02))  # fmt: skip
BIG_STATUS_NAMES = tuple(name for name, _ in BIG_STATUSES)


def big_orders_columns(rows: int, seed: int = SEED) -> dict[str, np.ndarray]:
    """The numeric columns of the big table (same rows and seed, same values).

    Ids follow time as in a real orders table; created_at (datetime64[s]) has one-second
    resolution, so a million rows over 2.5 years include ties (keyset pagination needs the id
    tie-breaker); customer_id is uniform over rows/10 customers (about ten orders each);
    status_code indexes BIG_STATUS_NAMES. The text columns derive from these: status is
    ``BIG_STATUS_NAMES[status_code]`` and email is ``buyer{id}@example.com`` (unique).
    """
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-01-01T00:00:00", "s")
    span = int((END - start).astype(np.int64))
    created = start + np.sort(rng.integers(0, span, rows)).astype("timedelta64[s]")
    weights = [weight for _, weight in BIG_STATUSES]
    return {
        "id": np.arange(1, rows + 1, dtype=np.int64),
        "customer_id": rng.integers(1, max(rows // 10, 1) + 1, rows),
        "status_code": rng.choice(len(BIG_STATUSES), rows, p=weights),
        "created_at": created,
        "total_cents": rng.integers(500, 50_000, rows),
    }

def main(argv: list[str] | None = None) -> None:
    """`python -m nexus_labs.data.generate [--out DIR]`: rewrite the shipped CSVs."""
    from nexus_labs.resources import datasets_dir

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", type=Path, default=None, help="default: the datasets/ folder")
    parser.add_argument("--scale", type=int, default=1)
    args = parser.parse_args(argv)
    if args.scale != 1 and args.out is None:
        parser.error("--scale other than 1 needs --out: datasets/ holds the scale-1 files")
    folder = args.out or datasets_dir()
    for path in write_datasets(folder, generate_marketplace(args.scale)):
        print(path)


if __name__ == "__main__":
    main()
