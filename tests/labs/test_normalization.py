"""FD discovery, closures, keys, normal forms, the chase, and the Lab 01 tables on a real engine."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from nexus_labs import data
from nexus_labs.labs import functional_deps as fd
from nexus_labs.labs import normalization as n01
from nexus_labs.labs import read_model
from nexus_labs.labs.functional_deps import FD

COLUMNS = ("a", "b", "c", "d", "e")

fds_strategy = st.lists(
    st.builds(FD, st.frozensets(st.sampled_from(COLUMNS), min_size=1, max_size=2),
              st.sampled_from(COLUMNS)).filter(lambda f: f.rhs not in f.lhs),
    max_size=6,
)
attrs_strategy = st.frozensets(st.sampled_from(COLUMNS), max_size=5)


# --- closure ------------------------------------------------------------------------------------

@given(attrs_strategy, attrs_strategy, fds_strategy)
def test_closure_is_extensive_monotone_and_idempotent(x, y, fds):
    cx = fd.closure(x, fds)
    assert x <= cx
    assert fd.closure(cx, fds) == cx
    assert cx <= fd.closure(x | y, fds)


def test_closure_follows_chains():
    fds = [FD.of("a", "b"), FD.of("b", "c"), FD.of(["c", "d"], "e")]
    assert fd.closure({"a"}, fds) == {"a", "b", "c"}
    assert fd.closure({"a", "d"}, fds) == {"a", "b", "c", "d", "e"}


# --- keys ---------------------------------------------------------------------------------------

@settings(max_examples=60)
@given(fds_strategy)
def test_candidate_keys_are_exactly_the_minimal_superkeys(fds):
    keys = set(fd.candidate_keys(COLUMNS, fds))
    superkeys = [frozenset(s) for n in range(len(COLUMNS) + 1) for s in combinations(COLUMNS, n)
                 if fd.is_superkey(s, COLUMNS, fds)]
    minimal = {s for s in superkeys if not any(other < s for other in superkeys)}
    assert keys == minimal


# --- discovery ----------------------------------------------------------------------------------

frames = st.integers(min_value=1, max_value=25).flatmap(lambda n: st.lists(
    st.tuples(*(st.integers(0, 2) for _ in range(4))), min_size=n, max_size=n)).map(
    lambda rows: pd.DataFrame(rows, columns=list("wxyz")))


@settings(max_examples=60, deadline=None)
@given(frames)
def test_discovery_agrees_with_the_groupby_definition(df):
    found = fd.discover_fds(df, max_lhs=2)
    for dep in found:
        assert fd.holds(df, dep.lhs, dep.rhs)
        assert not any(fd.holds(df, smaller, dep.rhs)
                       for n in range(len(dep.lhs)) for smaller in combinations(dep.lhs, n))
    for n in range(3):
        for lhs in combinations(df.columns, n):
            for rhs in df.columns:
                if rhs not in lhs and fd.holds(df, lhs, rhs):
                    assert any(d.rhs == rhs and d.lhs <= set(lhs) for d in found)


def test_discovery_handles_missing_values_as_values():
    df = pd.DataFrame({"k": [1, 1, 2, 2], "v": [None, None, "x", "x"], "w": [None, 1, 2, 2]})
    found = fd.discover_fds(df)
    assert FD.of("k", "v") in found and FD.of("k", "w") not in found


def test_discovery_on_the_flat_export_finds_every_business_rule():
    flat = data.flat_export().drop(columns=["product_tags"])
    found = fd.discover_fds(flat)
    for rule in n01.BUSINESS_FDS:
        assert rule.rhs in fd.closure(rule.lhs, found), rule
    assert FD.of("order_id", "customer_email") in found  # transitive, yet minimal
    assert FD.of("customer_city", "customer_id") not in found
    table = fd.fds_table(found)
    assert list(table.columns) == ["determinant (X)", "size", "determines (X -> A)"]


# --- normal forms, lossless joins, dependency preservation ------------------------------------

def test_diagnose_textbook_cases():
    lines = ["order", "product", "qty", "pname"]
    partial = [FD.of(["order", "product"], "qty"), FD.of("product", "pname")]
    assert fd.diagnose(lines, partial).normal_form == "1NF"
    assert fd.diagnose(lines, partial).violation == FD.of("product", "pname")
    transitive = [FD.of("order", "customer"), FD.of("customer", "email")]
    assert fd.diagnose(["order", "customer", "email"], transitive).normal_form == "2NF"
    zips = [FD.of(["street", "city"], "zip"), FD.of("zip", "city")]
    assert fd.diagnose(["street", "city", "zip"], zips).normal_form == "3NF"
    assert fd.diagnose(["customer", "email"], transitive).normal_form == "BCNF"


@settings(max_examples=80)
@given(fds_strategy, st.frozensets(st.sampled_from(COLUMNS), min_size=1),
       st.frozensets(st.sampled_from(COLUMNS), min_size=1))
def test_binary_chase_matches_heaths_theorem(fds, left, right):
    if left | right != set(COLUMNS):
        right = right | (set(COLUMNS) - left)
    common = fd.closure(left & right, fds)
    expected = left <= common or right <= common
    assert fd.is_lossless(COLUMNS, [left, right], fds) == expected


def test_lossless_and_preservation_on_the_lab_steps():
    rules = list(n01.BUSINESS_FDS)
    everything = [c for c in data.flat_export().columns if c != "product_tags"]
    for step in (n01.STEP_2NF, n01.STEP_3NF):
        assert fd.is_lossless(everything, list(step.values()), rules)
        assert fd.is_dependency_preserving(list(step.values()), rules)
    # Dropping the link orders.customer_id makes the join lossy.
    broken = dict(n01.STEP_3NF, orders=["order_id", "ordered_at", "status"])
    assert not fd.is_lossless(everything, list(broken.values()), rules)


def test_bcnf_split_of_the_zip_example_loses_a_dependency():
    zips = [FD.of(["street", "city"], "zip"), FD.of("zip", "city")]
    parts = [["street", "zip"], ["zip", "city"]]
    assert fd.is_lossless(["street", "city", "zip"], parts, zips)
    assert fd.lost_dependencies(parts, zips) == [FD.of(["street", "city"], "zip")]


def test_multi_valued_columns():
    df = pd.DataFrame({"id": [1, 2], "tags": ["a, b", "c"], "n": [1.0, np.nan]})
    assert fd.multi_valued_columns(df) == ["tags"]


def test_describe_closure_names_keys_and_superkeys():
    cols = ["a", "b", "c"]
    fds = [FD.of("a", "b"), FD.of("b", "c")]
    assert "candidate key" in n01.describe_closure(["a"], cols, fds)
    assert "not minimal: drop b" in n01.describe_closure(["a", "b"], cols, fds)
    assert "does not determine a" in n01.describe_closure(["b"], cols, fds)


# --- the lab's tables on the configured engine -------------------------------------------------

def test_tags_split_and_join_back_exactly():
    flat = data.flat_export()
    lines, tags = n01.split_tags(flat)
    assert "product_tags" not in lines.columns and not tags.duplicated().any()
    pd.testing.assert_frame_equal(n01.join_tags(lines, tags)[list(flat.columns)], flat)


@pytest.fixture(scope="module")
def lab(open_test_lab):
    lab = open_test_lab("normalization")
    flat = data.flat_export()
    n01.reset_tables(lab.sql.engine)
    n01.load_flat(lab.sql.engine, flat)
    n01.create_normalized(lab.sql.engine, flat)
    read_model.create_read_model(lab.sql.engine)
    return lab


def test_read_model_matches_the_join_and_the_trigger_keeps_it_in_step(lab):
    engine = lab.sql.engine
    flat = data.flat_export()
    read_model.install_rename_trigger(engine)
    product = int(flat["product_id"].value_counts().idxmax())
    customers = flat.loc[flat.product_id == product, "customer_id"].unique()[:5].tolist()
    with engine.begin() as connection:
        assert connection.execute(sa.text(
            "UPDATE products SET product_name = 'X' WHERE product_id = :p"),
            {"p": product}).rowcount == 1
        copies = connection.execute(sa.text(
            f"SELECT count(*) FROM {read_model.READ_MODEL} WHERE product_name = 'X'")).scalar()
        assert copies == (flat["product_id"] == product).sum()
        for customer in customers:
            params = {"customer_id": customer}
            assert (connection.execute(read_model.HISTORY_NORMALIZED, params).all()
                    == connection.execute(read_model.HISTORY_READ_MODEL, params).all())
    n01.create_normalized(engine, flat)  # leave the tables as the export has them


def test_time_pages_interleaves_and_names_the_engine(lab):
    pages = {"joined": read_model.HISTORY_NORMALIZED, "model": read_model.HISTORY_READ_MODEL}
    read_model.create_read_model(lab.sql.engine)
    with lab.sql.engine.connect() as connection:
        round_trip, work = read_model.time_pages(connection, pages, [63, 168], repeat=5)
    assert [t.label for t in round_trip] == ["joined", "model"]
    assert all(len(t.samples) == 5 and min(t.samples) > 0 for t in round_trip + work)
    if lab.sql.kind == "postgresql":
        assert {t.engine for t in work} == {"postgresql server"}
    else:
        assert work == round_trip


def test_reset_drops_only_the_lab_tables(lab):  # keep last: it drops the tables
    engine = lab.sql.engine
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE not_ours (id INTEGER)")
    try:
        n01.reset_tables(engine)
        names = set(sa.inspect(engine).get_table_names())
        assert "not_ours" in names
        assert not names & {"products", n01.FLAT_TABLE, read_model.READ_MODEL}
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE not_ours")
