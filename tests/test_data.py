"""The marketplace dataset: shipped files, generator, flat export, loaders (SQLite, PostgreSQL)."""

from __future__ import annotations

import os
import re

import pandas as pd
import pytest
import sqlalchemy as sa

from nexus_labs import data
from nexus_labs.backends.sql import connect_sql, count_queries
from nexus_labs.config import load_settings
from nexus_labs.data.generate import SIZES, TABLE_ORDER, generate_marketplace, to_csv_text
from nexus_labs.data.schema import marketplace_metadata
from nexus_labs.data.shipped import expected_counts
from nexus_labs.resources import datasets_dir

SHAPES = {
    "categories": (12, 3), "sellers": (20, 5), "customers": (250, 6),
    "customer_profiles": (200, 4), "products": (300, 7), "tags": (15, 2),
    "orders": (1500, 4), "reviews": (800, 6),
}  # fmt: skip
KEYS = {
    "categories": ["category_id"], "sellers": ["seller_id"], "customers": ["customer_id"],
    "customer_profiles": ["customer_id"], "products": ["product_id"], "tags": ["tag_id"],
    "product_tags": ["product_id", "tag_id"], "orders": ["order_id"],
    "order_items": ["order_id", "product_id"], "reviews": ["review_id"],
}  # fmt: skip
UNIQUE = [("sellers", "email"), ("customers", "email"), ("categories", "name"), ("tags", "name"),
          ("products", "name"), ("reviews", ["product_id", "customer_id"])]  # fmt: skip


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return data.load_frames()


def test_shapes_and_columns(frames):
    assert list(frames) == list(TABLE_ORDER)
    for name, shape in SHAPES.items():
        assert frames[name].shape == shape, name
    assert 3600 <= len(frames["order_items"]) <= 4400
    assert list(frames["order_items"].columns) == [
        "order_id", "product_id", "quantity", "unit_price_cents"]  # fmt: skip
    assert frames["orders"]["ordered_at"].dtype.kind == "M"


@pytest.mark.parametrize("name", TABLE_ORDER)
def test_keys_unique_and_not_null(frames, name):
    keys = frames[name][KEYS[name]]
    assert not keys.isna().any().any()
    assert not keys.duplicated().any()


@pytest.mark.parametrize(("name", "columns"), UNIQUE)
def test_unique_values_really_unique(frames, name, columns):
    assert not frames[name].duplicated(columns).any()


def test_emails_derived_from_ids(frames):
    customers, sellers = frames["customers"], frames["sellers"]
    assert (customers["email"] == "customer" + customers["customer_id"].astype(str)
            + "@example.com").all()  # fmt: skip
    assert (sellers["email"] == "seller" + sellers["seller_id"].astype(str) + "@example.com").all()


def test_foreign_keys_resolve(frames):
    for table in marketplace_metadata.sorted_tables:
        for fk in table.foreign_keys:
            child = frames[table.name][fk.parent.name].dropna()
            parent = frames[fk.column.table.name][fk.column.name]
            assert child.isin(parent).all(), f"{table.name}.{fk.parent.name}"


def test_domain_rules(frames):
    orders, items, products = frames["orders"], frames["order_items"], frames["products"]
    customers, reviews = frames["customers"], frames["reviews"]
    assert set(orders["status"]) == {"pending", "paid", "shipped", "delivered", "cancelled",
                                     "refunded"}  # fmt: skip
    per_customer = orders["customer_id"].value_counts()
    assert per_customer.max() >= 10 * per_customer.median()  # skewed: a few heavy buyers
    assert orders["ordered_at"].is_monotonic_increasing
    signup = orders.merge(customers, on="customer_id")
    assert (signup["ordered_at"] >= signup["created_at"]).all()
    assert products["created_at"].max() < orders["ordered_at"].min()
    repriced = items.merge(products, on="product_id")
    assert 0.05 < (repriced["unit_price_cents"] != repriced["price_cents"]).mean() < 0.3
    bought = items.merge(orders[orders["status"] == "delivered"], on="order_id")
    reviewed = reviews.merge(bought, on=["customer_id", "product_id"], suffixes=("", "_order"))
    assert set(reviews["review_id"]) == set(reviewed["review_id"])  # reviewers received it
    leaves = frames["categories"].dropna(subset=["parent_id"])["category_id"]
    assert products["category_id"].isin(leaves).all()


def test_committed_files_equal_a_fresh_generation():
    generated = generate_marketplace(scale=1, seed=7)
    for name, frame in generated.items():
        committed = (datasets_dir() / f"{name}.csv").read_text(encoding="utf-8")
        assert committed == to_csv_text(name, frame), f"datasets/{name}.csv is stale"


def test_loaded_frames_equal_generated_frames(frames):
    generated = generate_marketplace()
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(frames[name], generated[name], obj=name)


def test_generation_is_deterministic_and_scales():
    first, again = generate_marketplace(scale=2, seed=3), generate_marketplace(scale=2, seed=3)
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(first[name], again[name], obj=name)
    for name, count in SIZES.items():
        assert len(first[name]) == 2 * count, name
    other = generate_marketplace(scale=1, seed=8)
    assert not other["orders"].equals(generate_marketplace()["orders"])


def test_readme_documents_the_shipped_files(frames):
    readme = (datasets_dir() / "README.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^\| (\w+)\.csv \| ([\d,]+) \|", readme, re.MULTILINE))
    assert {name: int(rows.replace(",", "")) for name, rows in documented.items()} == {
        name: len(frame) for name, frame in frames.items()}  # fmt: skip
    for name, frame in frames.items():
        for column in frame.columns:
            assert f"`{column}`" in readme, f"{name}.{column} is not described"


def test_flat_export_is_redundant(frames):
    flat = data.flat_export()
    assert len(flat) == len(frames["order_items"])
    heavy = flat["customer_email"].value_counts()
    assert heavy.iloc[0] >= 100  # one customer's email repeated on 100+ lines
    assert flat["product_tags"].str.contains(", ").any()
    assert (flat["product_tags"] == "").any()  # products without tags


def test_flat_export_joins_back_exactly(frames):
    flat = data.flat_export()
    rebuilt = {
        "orders": flat[["order_id", "customer_id", "ordered_at", "status"]],
        "order_items": flat[["order_id", "product_id", "quantity", "unit_price_cents"]],
        "customers": flat[["customer_id", "customer_name", "customer_email", "customer_city"]]
        .set_axis(["customer_id", "name", "email", "city"], axis=1),
        "categories": flat[["category_id", "category_name"]].set_axis(["category_id", "name"],
                                                                      axis=1),
        "sellers": flat[["seller_id", "seller_name", "seller_email"]]
        .set_axis(["seller_id", "name", "email"], axis=1),
    }  # fmt: skip
    for name, part in rebuilt.items():
        part = part.drop_duplicates()
        key = KEYS[name]
        assert not part[key].duplicated().any(), f"{name}: a key with two versions"
        expected = frames[name][list(part.columns)]
        expected = expected[expected[key[0]].isin(part[key[0]])]
        pd.testing.assert_frame_equal(
            part.sort_values(key).reset_index(drop=True),
            expected.sort_values(key).reset_index(drop=True), obj=name)  # fmt: skip
    tags = flat.drop_duplicates("product_id").set_index("product_id")["product_tags"]
    pairs = {(pid, tag) for pid, text in tags.items() for tag in text.split(", ") if text}
    expected_pairs = frames["product_tags"].merge(frames["tags"], on="tag_id")
    sold = expected_pairs[expected_pairs["product_id"].isin(tags.index)]
    assert pairs == set(zip(sold["product_id"], sold["name"], strict=True))


def test_expected_counts_match_the_frames(frames):
    assert expected_counts() == {name: len(frame) for name, frame in frames.items()}
    assert expected_counts(2) == {name: len(frame) for name, frame in data.load_frames(2).items()}


def test_load_frames_returns_copies():
    first = data.load_frames()
    first["orders"].loc[0, "status"] = "changed"
    assert data.load_frames()["orders"].loc[0, "status"] != "changed"


# --- loaders on a real engine: SQLite always, PostgreSQL in the services run ---------------


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path):
    url = os.environ.get("NEXUS_DATABASE_URL")
    if request.param == "postgresql" and not url:
        pytest.skip("NEXUS_DATABASE_URL is not set")
    env = {"NEXUS_HOME": str(tmp_path), "NEXUS_NAMESPACE": "datatest"}
    if request.param == "postgresql":
        env["NEXUS_DATABASE_URL"] = url
    backend = connect_sql(f"data_{os.getpid()}", load_settings(env))
    try:
        yield backend
    finally:
        backend.drop()


def _assert_only_reads(log, at_most: int) -> None:
    """The second call found the data and only looked: a few reads, nothing written."""
    assert 0 < log.count <= at_most, log.statements
    for statement in log.statements:
        assert statement.lstrip().upper().startswith(("SELECT", "PRAGMA", "WITH")), statement


def _counts(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in marketplace_metadata.sorted_tables
            if sa.inspect(connection).has_table(table.name)
        }


def test_install_loads_everything_then_is_fast(backend, frames):
    counts = data.install_marketplace(backend.engine)
    assert counts == {name: len(frame) for name, frame in frames.items()}
    assert _counts(backend.engine) == counts
    with count_queries(backend.engine) as log:
        assert data.install_marketplace(backend.engine) == counts
    _assert_only_reads(log, at_most=3)  # its speed is measured in benchmarks/data.py
    with backend.engine.connect() as connection:
        orders = pd.read_sql(sa.select(marketplace_metadata.tables["orders"])
                             .order_by("order_id"), connection)  # fmt: skip
    pd.testing.assert_frame_equal(orders, frames["orders"], check_dtype=False)


def test_install_subset_brings_parents_only(backend):
    counts = data.install_marketplace(backend.engine, ["order_items"])
    assert set(counts) == {"order_items", "orders", "products", "customers", "sellers",
                           "categories"}  # fmt: skip
    assert set(_counts(backend.engine)) == set(counts)


def test_install_reloads_only_stale_tables(backend, frames):
    data.install_marketplace(backend.engine)
    with backend.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM reviews WHERE review_id <= 10")
        connection.exec_driver_sql("CREATE TABLE lab_notes (id INTEGER PRIMARY KEY)")
        connection.exec_driver_sql("INSERT INTO lab_notes VALUES (1)")
        connection.exec_driver_sql("UPDATE customers SET city = 'Oslo' WHERE customer_id = 1")
    counts = data.install_marketplace(backend.engine)
    assert counts["reviews"] == len(frames["reviews"])
    with backend.engine.connect() as connection:
        # customers was not stale (same row count), so the edit stays; the lab's table survives
        assert connection.exec_driver_sql(
            "SELECT city FROM customers WHERE customer_id = 1").scalar() == "Oslo"  # fmt: skip
        assert connection.exec_driver_sql("SELECT count(*) FROM lab_notes").scalar() == 1


def test_install_rejects_unknown_table(backend):
    with pytest.raises(ValueError, match="Unknown marketplace tables"):
        data.install_marketplace(backend.engine, ["order_lines"])


def test_constraints_hold_in_the_database(backend):
    data.install_marketplace(backend.engine, ["customers"])
    with pytest.raises(sa.exc.IntegrityError), backend.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO customers VALUES (9999, 'X', 'customer1@example.com', 'Oslo', 'Norway',"
            " '2024-01-01 00:00:00')")  # fmt: skip


def test_big_table_built_once_and_reused(backend):
    rows = 20_000
    assert data.ensure_big_table(backend, rows=rows) == "big_orders"
    with backend.engine.begin() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM big_orders").scalar() == rows
        distinct = connection.exec_driver_sql("SELECT count(DISTINCT email) FROM big_orders")
        assert distinct.scalar() == rows
        connection.exec_driver_sql("CREATE INDEX ix_test_status ON big_orders (status)")
    with count_queries(backend.engine) as log:
        data.ensure_big_table(backend, rows=rows)
    _assert_only_reads(log, at_most=4)
    indexes = {ix["name"] for ix in sa.inspect(backend.engine).get_indexes("big_orders")}
    assert indexes == {"ix_test_status"}  # reused as is: the lab's index is still there
    data.ensure_big_table(backend, rows=rows // 2)  # another size: rebuilt, no secondary index
    assert sa.inspect(backend.engine).get_indexes("big_orders") == []
    with backend.engine.connect() as connection:
        table = pd.read_sql("SELECT * FROM big_orders ORDER BY id", connection)
    from nexus_labs.data.generate import BIG_STATUS_NAMES, big_orders_columns

    columns = big_orders_columns(rows // 2)
    expected = pd.DataFrame({
        "id": columns["id"], "customer_id": columns["customer_id"],
        "status": [BIG_STATUS_NAMES[code] for code in columns["status_code"]],
        "created_at": columns["created_at"], "total_cents": columns["total_cents"],
        "email": [f"buyer{i}@example.com" for i in columns["id"]],
    })  # fmt: skip
    table["created_at"] = pd.to_datetime(table["created_at"]).astype("datetime64[s]")
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
