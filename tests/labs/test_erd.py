"""The ERD is derived from MetaData: cardinalities follow the FK, PK and UNIQUE constraints."""

from __future__ import annotations

import sqlalchemy as sa

from nexus_labs.labs import relationships
from nexus_labs.labs.erd import draw_erd, is_unique, links, mermaid_erd


def _metadata() -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table("parents", metadata, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "children", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.ForeignKey("parents.id"), nullable=False),
    )  # fmt: skip
    sa.Table(
        "twins", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.ForeignKey("parents.id"), unique=True),
    )  # fmt: skip
    sa.Table(
        "details", metadata,
        sa.Column("parent_id", sa.ForeignKey("parents.id"), primary_key=True),
    )  # fmt: skip
    return metadata


def test_cardinalities_follow_constraints():
    found = {link.child: link for link in links(_metadata())}
    assert found["children"].cardinality == "one-to-many" and found["children"].mandatory
    assert found["twins"].cardinality == "one-to-one" and not found["twins"].mandatory
    assert found["details"].cardinality == "one-to-one" and found["details"].mandatory


def test_crows_foot_markers():
    text = mermaid_erd(_metadata())
    assert 'parents ||--o{ children : "parent_id"' in text
    assert 'parents |o--o| twins : "parent_id"' in text
    assert 'parents ||--o| details : "parent_id"' in text
    assert text.startswith("erDiagram\n")


def test_composite_unique_makes_a_junction_row_unique_but_not_its_single_fks():
    table = relationships.Base.metadata.tables["order_items"]
    assert is_unique(table, ["order_id", "product_id"])
    assert not is_unique(table, ["order_id"])
    assert is_unique(table, ["order_id", "product_id", "quantity"])  # a superset of a key


def test_lab_model_diagram():
    erd = draw_erd(relationships.Base.metadata)
    assert erd.link("customers", "customer_profiles").one_to_one
    assert erd.link("customers", "orders").cardinality == "one-to-many"
    assert erd.link("orders", "order_items").cardinality == "one-to-many"
    assert erd.link("tags", "product_tags").cardinality == "one-to-many"
    assert erd.link("categories", "categories").mandatory is False
    assert erd._repr_markdown_().startswith("```mermaid\nerDiagram")
    assert "10 tables, 11 relationships" in repr(erd)


def test_redrawn_diagram_sees_a_new_table():
    metadata = _metadata()
    before = draw_erd(metadata)
    sa.Table(
        "notes", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("child_id", sa.ForeignKey("children.id"), nullable=False),
    )  # fmt: skip
    after = draw_erd(metadata)
    assert "notes" not in before.tables and "notes" in after.tables
    assert after.link("children", "notes").cardinality == "one-to-many"
