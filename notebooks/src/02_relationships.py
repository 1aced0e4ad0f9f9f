# %% [markdown]
# # Lab 02 · ERD modeling and relationships
#
# **Goal:** model the marketplace's entities and the relationships between them so the
# *database* enforces them: one-to-one, one-to-many, many-to-many with a junction table that
# carries its own data; decide what deleting a parent does; draw the ERD from the live model.
#
# **Time:** about 45 minutes. **Prerequisites:** Lab 01 (normalization), basic SQL, Python classes.
#
# Why a backend engineer cares: relationship bugs are data bugs that no test of one endpoint
# sees. A missing UNIQUE lets a double-clicked "add tag" store the pair twice and every report
# counts it twice; a careless `ON DELETE CASCADE` erases customers' order history when a product
# is retired; a foreign key without an index turns each parent delete into a full scan of the
# child table. Here every rule is shown happening on a real database.

# %% tags=["nbval-ignore-output"]
from nexus_labs import open_lab, ____
lab = open_lab("relationships", made_with="0.1.0")
q1, q2, q3, q4, q5 = lab.exercises

# %% [markdown]
# The lab's model lives in `nexus_labs.labs.relationships` (SQLAlchemy 2.x declarative classes
# on their own `Base`). `install` creates its tables in the lab's database and loads the
# marketplace dataset once; later runs find the rows and return at once.

# %%
import inspect
import re
from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from IPython.display import display
from sqlalchemy import Column, DateTime, ForeignKey, Integer, MetaData, Table, UniqueConstraint
from sqlalchemy import func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from nexus_labs import data
from nexus_labs.backends.sql import count_queries
from nexus_labs.labs import relationships as model
from nexus_labs.labs.erd import draw_erd
from nexus_labs.measure import explain

engine = lab.sql.engine
ENGINE_NAME = engine.dialect.name
counts = model.install(engine)
assert counts == {name: len(frame) for name, frame in data.load_frames().items()
                  if name in counts}
counts

# %% [markdown]
# ## 1. Three kinds of relationship
#
# | kind | marketplace example | where the foreign key goes |
# |---|---|---|
# | one-to-one | a customer and their profile | on the dependent side, and **unique** (here: it *is* the primary key) |
# | one-to-many | a customer and their orders | on the "many" side (`orders.customer_id`) |
# | many-to-many | orders and products; products and tags | in a **junction table** with two foreign keys and a unique pair |
#
# ### One-to-one: `Customer.profile`
# The profile's primary key is also its foreign key to `customers`, so the database itself
# guarantees at most one profile per customer. The `Mapped[CustomerProfile | None]` annotation
# makes the relationship a single object (not a list).

# %%
print(inspect.getsource(model.CustomerProfile))
print(inspect.getsource(model.Customer))

# %%
with Session(engine) as session:
    customer = session.scalars(
        select(model.Customer).join(model.Customer.profile).order_by(model.Customer.customer_id)
    ).first()
    print(f"customer {customer.customer_id}: {customer.name}")
    print(f"  profile: {customer.profile.bio!r}, born {customer.profile.birth_year}")
    assert isinstance(customer.profile, model.CustomerProfile)  # one object, not a list
    assert customer.profile.customer is customer                # back_populates ties both ends
    first_with_profile = customer.customer_id

# A second profile for the same customer: the primary key refuses it.
try:
    with engine.begin() as connection:
        connection.execute(model.CustomerProfile.__table__.insert(),
                           {"customer_id": first_with_profile, "bio": "a second profile"})
    second_profile = "accepted"
except sa.exc.IntegrityError as error:
    second_profile = f"refused ({type(error.orig).__name__})"
print("second profile for the same customer:", second_profile)
assert second_profile.startswith("refused")

# %% [markdown]
# ### One-to-many: `Customer.orders`
# Each order row holds `customer_id`; a customer has a *list* of orders. The ORM's list and a
# `COUNT(*)` on the table agree because they read the same foreign key.

# %%
with Session(engine) as session:
    busiest = session.execute(
        select(model.Order.customer_id, func.count().label("n"))
        .group_by(model.Order.customer_id).order_by(func.count().desc(), model.Order.customer_id)
    ).first()
    customer = session.get(model.Customer, busiest.customer_id)
    statuses = pd.Series([order.status for order in customer.orders]).value_counts()
    print(f"{customer.name} has {len(customer.orders)} orders:")
    print(statuses.to_string())
    assert len(customer.orders) == busiest.n > 1
    assert all(order.customer is customer for order in customer.orders)

# %% [markdown]
# ### Many-to-many, twice
# * **Products and tags** — a plain junction table `product_tags(product_id, tag_id)` whose
#   primary key is the pair: `relationship(secondary=product_tags)` hides it completely.
# * **Orders and products** — the junction has data of its own (quantity, and the unit price
#   *at the time of the order*, which must not change when the product's price does), so it is
#   a mapped class, `OrderItem` (the *association object* pattern). Its own key is a surrogate
#   `item_id`; the rule "a product appears once per order" is a composite UNIQUE.

# %%
print(inspect.getsource(model.OrderItem))
print(repr(model.product_tags))

# %%
with Session(engine) as session:
    order = session.get(model.Order, 1)
    lines = pd.DataFrame(
        [(item.product.name, item.quantity, item.unit_price_cents) for item in order.items],
        columns=["product", "quantity", "unit_price_cents"],
    )
    display(lines)
    total = (lines.quantity * lines.unit_price_cents).sum()
    sql_total = session.scalar(
        select(func.sum(model.OrderItem.quantity * model.OrderItem.unit_price_cents))
        .where(model.OrderItem.order_id == 1))
    assert total == sql_total
    product = order.items[0].product
    print(f"{product.name!r} is tagged {sorted(tag.name for tag in product.tags)}")
    assert all(product in tag.products for tag in product.tags)  # both directions agree
    duplicate_line = {"order_id": 1, "product_id": order.items[0].product_id,
                      "quantity": 1, "unit_price_cents": 1}
    duplicate_tag = {"product_id": product.product_id, "tag_id": product.tags[0].tag_id}


def refused(table, row) -> str:
    """Try to insert `row`; say whether the database refused it."""
    try:
        with engine.begin() as connection:
            connection.execute(table.insert(), row)
    except sa.exc.IntegrityError as error:
        return f"refused ({type(error.orig).__name__})"
    return "accepted"


print("same product twice in order 1:", refused(model.OrderItem.__table__, duplicate_line))
print("same tag twice on a product:  ", refused(model.product_tags, duplicate_tag))
assert refused(model.OrderItem.__table__, duplicate_line).startswith("refused")
assert refused(model.product_tags, duplicate_tag).startswith("refused")

# %% [markdown]
# ### Exercise q1 — choose the cardinality
# For each requirement, answer `"1:1"`, `"1:N"` or `"M:N"`:
# * `loyalty_card`: a customer may have one loyalty card; a card belongs to one customer.
# * `seller_products`: a seller lists products; each product is listed by one seller.
# * `wishlist_products`: customers keep wishlists of products; a product can be on many wishlists.
# * `order_shipments`: a large order ships in several parcels; a parcel belongs to one order.
# * `coupon_orders`: a coupon is used on many orders, and an order may combine coupons.

# %% tags=["exercise:q1"]
answer_q1 = {
    "loyalty_card": ____,
    "seller_products": ____,
    "wishlist_products": ____,
    "order_shipments": ____,
    "coupon_orders": ____,
}

# %%
q1.check()

# %%
# q1.hint()
# q1.solution()

# %% [markdown]
# ### Exercise q2 — which side holds the key?
# A product has many reviews; each review is about one product. Name the foreign key column as
# `"table.column"`.

# %% tags=["exercise:q2"]
answer_q2 = ____

# %%
q2.check()

# %% [markdown]
# ### Exercise q3 — write a junction table
# Write `make_wishlist_items(metadata)`: it adds the table `wishlist_items` (customers ⟷
# products) to the `metadata` it is given (which already holds `customers` and `products`) and
# returns it. The check creates it on a scratch SQLite database and tries valid pairs, a
# duplicate pair and pairs pointing at rows that do not exist.

# %% tags=["exercise:q3"]
def make_wishlist_items(metadata):
    return ____

# %%
q3.check()

# %% [markdown]
# ## 2. The ERD, drawn from the live model
# `draw_erd` reads `Base.metadata` — the same objects that create the tables — so the diagram
# cannot drift from the schema. Crow's feet are derived from constraints: a foreign key is
# one-to-one (`o|`) when its columns are unique in the child (primary key or UNIQUE), otherwise
# one-to-many (`o{`); the parent end is "exactly one" (`||`) when the FK is NOT NULL and
# "zero or one" (`|o`) when it may be NULL. JupyterLab renders the diagram; elsewhere you see
# its Mermaid text.

# %%
erd = draw_erd(model.Base.metadata)
assert erd.link("customers", "customer_profiles").cardinality == "one-to-one"
assert erd.link("customers", "orders").cardinality == "one-to-many"
assert erd.link("orders", "order_items").cardinality == "one-to-many"
assert erd.link("products", "order_items").cardinality == "one-to-many"  # M:N = two 1:N
assert erd.link("categories", "categories").mandatory is False            # optional parent
erd

# %% [markdown]
# **The model changes, the diagram follows.** Add a `Shipment` model (an order ships in
# parcels) to a copy of the metadata and draw again: nothing about the diagram is hand-edited.

# %%
extended = MetaData()
for table in model.Base.metadata.tables.values():
    table.to_metadata(extended)


class ExtendedBase(DeclarativeBase):
    metadata = extended


class Shipment(ExtendedBase):
    __tablename__ = "shipments"
    shipment_id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.order_id"), index=True)
    carrier: Mapped[str]


redrawn = draw_erd(extended)
assert "shipments" not in erd.tables and "shipments" in redrawn.tables
assert redrawn.link("orders", "shipments").cardinality == "one-to-many"
print(f"before: {len(erd.tables)} tables, {len(erd.links)} relationships; "
      f"after: {len(redrawn.tables)} tables, {len(redrawn.links)} relationships")
redrawn

# %% [markdown]
# ## 3. What deleting a parent does
# Two layers decide it, and they should agree:
# * **the ORM** — `relationship(cascade="all, delete-orphan")`: `session.delete(customer)`
#   loads the children and deletes them itself;
# * **the database** — `ForeignKey(..., ondelete="CASCADE" | "RESTRICT" | "SET NULL")`: applies
#   to *every* client, including a plain SQL `DELETE`, a Django app or a psql session.
#
# SQLite only enforces foreign keys when each connection runs `PRAGMA foreign_keys=ON`; the
# lab adds that as a connect listener on this lab's engine only
# (`enforce_foreign_keys` in `nexus_labs.backends.sql`). PostgreSQL always enforces them.

# %%
if ENGINE_NAME == "sqlite":
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1

# What SQLite does by default, on a private in-memory database without the pragma:
plain = sa.create_engine("sqlite://")
model.Base.metadata.create_all(plain)
with plain.begin() as connection:
    connection.execute(model.Customer.__table__.insert(),
                       {"customer_id": 1, "name": "A", "email": "a@example.invalid",
                        "city": "Oslo", "country": "Norway", "created_at": datetime(2025, 1, 1)})
    connection.execute(model.Order.__table__.insert(),
                       {"order_id": 1, "customer_id": 1, "ordered_at": datetime(2025, 1, 2),
                        "status": "pending"})
    connection.execute(sa.delete(model.Customer.__table__))
    orphans = connection.execute(select(func.count()).select_from(model.Order.__table__)).scalar()
plain.dispose()
print(f"SQLite without PRAGMA foreign_keys: customer deleted, {orphans} orphan order left behind")
assert orphans == 1

# %% [markdown]
# ### ORM cascade: `session.delete(customer)`
# A throwaway customer with a profile and two orders of two lines each:

# %%
demo_id = model.make_demo_customer(engine)
before = model.customer_footprint(engine, demo_id)
with count_queries(engine) as log, Session(engine) as session:
    session.delete(session.get(model.Customer, demo_id))
    session.commit()
after = model.customer_footprint(engine, demo_id)
display(pd.DataFrame({"before": before, "after": after}))
kinds = pd.Series([statement.split()[0].upper() for statement in log.statements]).value_counts()
print(f"{log.count} statements on {ENGINE_NAME}:", {kind: int(n) for kind, n in kinds.items()})
assert before == {"customers": 1, "customer_profiles": 1, "orders": 2, "order_items": 4,
                  "reviews": 0}
assert set(after.values()) == {0}
assert kinds.get("SELECT", 0) >= 1  # the ORM loaded the children to delete them one by one

# %% [markdown]
# ### Database cascade: one plain `DELETE`
# The same customer again, deleted with SQL that knows nothing about profiles or orders.
# `ON DELETE CASCADE` on `orders.customer_id`, `order_items.order_id` and
# `customer_profiles.customer_id` does the rest inside the database.

# %%
demo_id = model.make_demo_customer(engine)
with count_queries(engine) as log, engine.begin() as connection:
    connection.execute(sa.delete(model.Customer).where(model.Customer.customer_id == demo_id))
after = model.customer_footprint(engine, demo_id)
print(f"{log.count} statement on {ENGINE_NAME}; rows left:", after)
assert log.count == 1 and set(after.values()) == {0}

# %% [markdown]
# ### RESTRICT keeps history; SET NULL detaches
# `order_items.product_id` is `ON DELETE RESTRICT`: a product somebody bought cannot be deleted
# (retire it with a flag instead). `categories.parent_id` is `ON DELETE SET NULL`: deleting a
# parent category turns its subcategories into top-level ones.

# %%
with engine.connect() as connection:
    sold = connection.execute(select(func.min(model.OrderItem.product_id))).scalar()
    lines_before = connection.execute(select(func.count()).where(
        model.OrderItem.product_id == sold)).scalar()
try:
    with engine.begin() as connection:
        connection.execute(sa.delete(model.Product).where(model.Product.product_id == sold))
    product_delete = "allowed"
except sa.exc.IntegrityError as error:
    product_delete = f"refused ({type(error.orig).__name__})"
with engine.connect() as connection:
    lines_after = connection.execute(select(func.count()).where(
        model.OrderItem.product_id == sold)).scalar()
print(f"delete a product with {lines_before} order lines: {product_delete}; "
      f"lines afterwards: {lines_after}")
assert product_delete.startswith("refused") and lines_after == lines_before > 0

categories = model.Category.__table__
with engine.begin() as connection:
    parent_id = connection.execute(categories.insert().values(name="Demo parent")
                                   .returning(categories.c.category_id)).scalar()
    child_id = connection.execute(categories.insert().values(name="Demo child",
                                  parent_id=parent_id).returning(categories.c.category_id)
                                  ).scalar()
    connection.execute(categories.delete().where(categories.c.category_id == parent_id))
    child_parent = connection.execute(select(categories.c.parent_id)
                                      .where(categories.c.category_id == child_id)).scalar()
    connection.execute(categories.delete().where(categories.c.category_id == child_id))
print("the child's parent_id after its parent was deleted:", child_parent)
assert child_parent is None

# %% [markdown]
# ### Orphans: `delete-orphan`
# With `delete-orphan`, removing a child from its parent's collection deletes the row: an order
# line cannot exist without its order. `Customer.reviews` has no `delete-orphan`, so removing a
# review from the list makes the ORM *detach* it (`customer_id = NULL`) — which the NOT NULL
# column refuses. Either decide the child dies with the link, or make the FK nullable on purpose.

# %%
demo_id = model.make_demo_customer(engine)
with Session(engine) as session:
    customer = session.get(model.Customer, demo_id)
    order = customer.orders[0]
    removed = order.items.pop(0)
    customer.profile = None
    session.commit()
    left = model.customer_footprint(engine, demo_id)
    print("after removing one order line and the profile:", left)
    assert left["order_items"] == 3 and left["customer_profiles"] == 0

    session.add(model.Review(product_id=order.items[0].product_id, customer=customer, rating=5,
                             body="demo", created_at=datetime(2025, 1, 3)))
    session.commit()
    customer.reviews.remove(customer.reviews[0])
    try:
        session.commit()
        detach = "committed"
    except sa.exc.IntegrityError as error:
        session.rollback()
        detach = f"refused ({type(error.orig).__name__})"
print("removing a review from customer.reviews:", detach)
assert detach.startswith("refused")
with engine.begin() as connection:  # clean up: the database cascade removes the rest
    connection.execute(sa.delete(model.Customer).where(model.Customer.customer_id == demo_id))
assert set(model.customer_footprint(engine, demo_id).values()) == {0}

# %% [markdown]
# ### Exercise q4 — fix the ON DELETE rules
# Requirements: erasing a customer (a GDPR request) removes their orders and order lines;
# deleting a product that was ever sold is refused. A colleague wrote
# `{"orders.customer_id": "CASCADE", "order_items.order_id": "SET NULL",
# "order_items.product_id": "CASCADE"}`. Fix it. The check builds the tables on a scratch
# database with your rules, erases a customer and deletes a sold product.

# %% tags=["exercise:q4"]
answer_q4 = {
    "orders.customer_id": "CASCADE",
    "order_items.order_id": ____,
    "order_items.product_id": ____,
}

# %%
q4.check()

# %% [markdown]
# ### Exercise q5 — add the missing relationship
# Complete the two models so that `ada.card = LoyaltyCard(points=10)` works and a customer can
# never get a second card. The check builds your classes on a fresh `Base`, saves Ada with her
# card, loads her back, then tries to insert a second card for her.

# %% tags=["exercise:q5"]
def build_loyalty_models(Base):
    class Customer(Base):
        __tablename__ = "customers"
        customer_id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        card: Mapped["LoyaltyCard | None"] = ____

    class LoyaltyCard(Base):
        __tablename__ = "loyalty_cards"
        card_id: Mapped[int] = mapped_column(primary_key=True)
        customer_id: Mapped[int] = ____
        points: Mapped[int] = mapped_column(default=0)
        customer: Mapped[Customer] = relationship(back_populates="card")

    return Customer, LoyaltyCard

# %%
q5.check()

# %% [markdown]
# ## 4. The same model in Django
# For learners on the Django stack, `nexus_labs.django_marketplace` is a small app with the
# same entities: `ForeignKey` (one-to-many), `OneToOneField` (one-to-one) and
# `ManyToManyField(through=...)` with an explicit junction model and a `UniqueConstraint`.
# `setup_django(lab)` points Django at this lab's database (tables `marketplace_<model>`,
# created without migrations) — once per kernel, because Django's settings are process-wide.

# %%
from nexus_labs.backends.django_orm import load_django_marketplace, setup_django

setup_django(lab)
django_counts = load_django_marketplace()
from django.db.models import Count, Sum

from nexus_labs.django_marketplace import models as dj

assert django_counts["marketplace_orderitem"] == counts["order_items"]
assert django_counts["marketplace_customerprofile"] == counts["customer_profiles"]
print(inspect.getsource(dj.CustomerProfile).split("    def __str__")[0])
print(inspect.getsource(dj.Product).split("    def __str__")[0])
print(inspect.getsource(dj.OrderItem).split("    def __str__")[0])

# %% [markdown]
# A small query in each ORM: the three best-selling products by units, with their tags.
# Both must agree, row for row.

# %%
top = (dj.Product.objects.annotate(units=Sum("order_items__quantity"))
       .order_by("-units", "id").prefetch_related("tags")[:3])
django_top = [(p.id, p.name, p.units, sorted(t.name for t in p.tags.all())) for p in top]

units = func.sum(model.OrderItem.quantity).label("units")
with Session(engine) as session:
    rows = session.execute(
        select(model.Product, units).join(model.OrderItem)
        .group_by(model.Product.product_id).order_by(units.desc(), model.Product.product_id)
        .limit(3)).all()
    sqlalchemy_top = [(p.product_id, p.name, n, sorted(t.name for t in p.tags)) for p, n in rows]
display(pd.DataFrame(django_top, columns=["id", "product", "units", "tags"]))
assert django_top == sqlalchemy_top
ada = (dj.Customer.objects.select_related("profile").filter(profile__isnull=False)
       .annotate(n_orders=Count("orders")).order_by("id").first())
with Session(engine) as session:
    same_ada = session.get(model.Customer, ada.id)
    assert (ada.profile.bio, ada.n_orders) == (same_ada.profile.bio, len(same_ada.orders))
print(f"{ada} · {ada.profile.bio!r} · {ada.n_orders} orders, in both ORMs")

# %% [markdown]
# ## 5. Common mistakes, made visible
# ### Many-to-many as a comma-separated column
# Storing tags as `"eco-friendly, on-sale"` in a `products.tags` column looks simpler. Then a
# marketer adds a new tag `sale` to one product. Searching with `LIKE '%sale%'` also matches
# every `on-sale` product; the junction table answers exactly. (The new tag is added in a
# transaction that is rolled back, so the dataset is unchanged.)

# %%
flat_tags = (data.load_frames()["product_tags"]
             .merge(data.load_frames()["tags"], on="tag_id")
             .groupby("product_id")["name"].agg(lambda names: ", ".join(sorted(names))))
csv = Table("mistake_products_csv", MetaData(), Column("product_id", Integer, primary_key=True),
            Column("tags", sa.Text))
target = int(flat_tags.index[0])
with model.scratch_tables(engine, csv), engine.connect() as connection:
    transaction = connection.begin()
    connection.execute(csv.insert(), [{"product_id": int(k), "tags": v}
                                      for k, v in flat_tags.items()])
    connection.execute(csv.update().where(csv.c.product_id == target)
                       .values(tags=csv.c.tags + ", sale"))
    sale_id = connection.execute(model.Tag.__table__.insert().values(name="sale")
                                 .returning(model.Tag.tag_id)).scalar()
    connection.execute(model.product_tags.insert(), {"product_id": target, "tag_id": sale_id})
    like_hits = connection.execute(select(csv.c.product_id).where(csv.c.tags.like("%sale%"))
                                   ).scalars().all()
    exact_hits = connection.execute(
        select(model.product_tags.c.product_id).join(model.Tag)
        .where(model.Tag.name == "sale")).scalars().all()
    transaction.rollback()
with engine.connect() as connection:  # the rollback left the real tags as they were
    assert connection.execute(select(func.count()).where(model.Tag.name == "sale")).scalar() == 0
print(f"LIKE '%sale%' on the text column: {len(like_hits)} products; junction: {exact_hits}")
assert exact_hits == [target] and len(like_hits) > 1 and target in like_hits

# %% [markdown]
# ### The foreign key on the wrong side
# Put `order_id` on `customers` instead of `customer_id` on `orders`, and a customer row can
# point at one order only. How many real customers would that break?

# %%
orders_per_customer = data.load_frames()["orders"].groupby("customer_id").size()
repeat_buyers = int((orders_per_customer > 1).sum())
wrong = Table("mistake_customers_wrong", MetaData(),
              Column("customer_id", Integer, primary_key=True),
              Column("email", sa.String(200), unique=True),
              Column("order_id", Integer))
with model.scratch_tables(engine, wrong):
    with engine.begin() as connection:
        connection.execute(wrong.insert(), {"customer_id": 1, "email": "a@example.invalid",
                                            "order_id": 10})
    # The customer's second order needs a second customer row with the same e-mail:
    second_order = refused(wrong, {"customer_id": 2, "email": "a@example.invalid",
                                   "order_id": 11})
print(f"{repeat_buyers} of {len(orders_per_customer)} customers with orders have more than "
      f"one; storing a second order for one customer: {second_order}")
assert repeat_buyers > 0 and second_order.startswith("refused")

# %% [markdown]
# ### A junction table without a unique constraint
# A retried request ("add tag" clicked twice) inserts the same pair twice. Without a unique
# pair nothing stops it, and every count through the junction is inflated.

# %%
loose = Table("mistake_product_tags_loose", MetaData(),
              Column("product_id", Integer), Column("tag_id", Integer))
with model.scratch_tables(engine, loose), engine.begin() as connection:
    pair = {"product_id": 1, "tag_id": 1}
    connection.execute(loose.insert(), [pair, pair])  # the retry
    stored = connection.execute(select(func.count()).select_from(loose)).scalar()
print(f"loose junction: {stored} rows for one fact; real product_tags: "
      f"{refused(model.product_tags, duplicate_tag)}")
assert stored == 2

# %% [markdown]
# ### A foreign key without an index
# Neither SQLite nor PostgreSQL indexes a foreign key column for you (Django does, SQLAlchemy
# does only with `index=True`). Every "lines of this product" lookup — and every cascade or
# RESTRICT check when a product is deleted — must then scan the whole child table. Compare the
# plans for `order_items` (indexed `product_id`) and an unindexed copy.

# %%
with engine.begin() as connection:
    connection.exec_driver_sql("DROP TABLE IF EXISTS mistake_order_items_noindex")
    connection.exec_driver_sql(
        "CREATE TABLE mistake_order_items_noindex AS SELECT * FROM order_items")
    if ENGINE_NAME == "postgresql":
        connection.exec_driver_sql("ANALYZE order_items")
        connection.exec_driver_sql("ANALYZE mistake_order_items_noindex")
lookup = "SELECT * FROM {} WHERE product_id = :product_id"
with_index = explain(engine, lookup.format("order_items"), {"product_id": sold})
without_index = explain(engine, lookup.format("mistake_order_items_noindex"),
                        {"product_id": sold})
with engine.begin() as connection:
    connection.exec_driver_sql("DROP TABLE mistake_order_items_noindex")
print(f"{ENGINE_NAME}, indexed FK:\n  {with_index}\n{ENGINE_NAME}, no index:\n  {without_index}")
assert re.search(r"(SEARCH|Index|Bitmap).*ix_order_items_product_id", with_index, re.S)
assert re.search(r"^(SCAN|Seq Scan)", without_index.strip()) and "ix_" not in without_index

# %% [markdown]
# ## Recap
# 1. The foreign key goes on the "many" side; a one-to-one is a foreign key that is also
#    unique (or the primary key); a many-to-many is a junction table with a **unique pair**.
# 2. A junction with its own data (quantity, price at the time) is a model of its own
#    (association object), still with a composite UNIQUE.
# 3. Decide deletes in the database with `ON DELETE` (CASCADE for parts, RESTRICT for history,
#    SET NULL for optional links) and mirror it in the ORM (`cascade=`, `passive_deletes`).
#    On SQLite, turn on `PRAGMA foreign_keys` per connection or none of it happens.
# 4. `delete-orphan` when a child cannot exist without its parent; otherwise removing it from a
#    collection only detaches it.
# 5. Index every foreign key you join or delete through; draw the ERD from the metadata so it
#    never lies.
#
# **Further reading**
# * SQLAlchemy 2.0 — [Basic Relationship Patterns](https://docs.sqlalchemy.org/en/20/orm/basic_relationships.html),
#   [Cascades](https://docs.sqlalchemy.org/en/20/orm/cascades.html),
#   [Using foreign key ON DELETE cascade with ORM relationships](https://docs.sqlalchemy.org/en/20/orm/cascades.html#using-foreign-key-on-delete-cascade-with-orm-relationships)
# * Django — [Models: relationships](https://docs.djangoproject.com/en/5.2/topics/db/models/#relationships),
#   [`ForeignKey.on_delete`](https://docs.djangoproject.com/en/5.2/ref/models/fields/#django.db.models.ForeignKey.on_delete)
# * SQLite — [Foreign Key Support](https://www.sqlite.org/foreignkeys.html);
#   PostgreSQL — [Constraints: foreign keys](https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK)
# * Peter Pin-Shan Chen, *The Entity-Relationship Model — Toward a Unified View of Data*,
#   ACM Transactions on Database Systems 1(1), 1976.
