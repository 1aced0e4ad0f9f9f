"""Django on a lab's database: settings, tables, the marketplace data and its relationships.

Django settings are process-wide and can point at one lab per process, so each scenario runs
in a fresh interpreter: this test process stays free for other labs' Django tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCENARIO = """
import os
import sqlalchemy as sa
from django.db import IntegrityError, connection, transaction
from nexus_labs import data, open_lab
from nexus_labs.backends import django_orm

lab = open_lab("relationships", quiet=True)
django_orm.setup_django(lab)
assert os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] == "true"
django_orm.setup_django(lab, urlconf="nexus_labs.nothing_here")  # same lab: no-op, new urlconf
from django.conf import settings
assert settings.ROOT_URLCONF == "nexus_labs.nothing_here"
assert settings.ALLOWED_HOSTS == ["127.0.0.1", "localhost"] and settings.USE_TZ

django_orm.create_django_tables()
assert django_orm.create_django_tables() == []  # idempotent
counts = django_orm.load_django_marketplace()
frames = data.load_frames()
assert counts["marketplace_customer"] == len(frames["customers"])
assert counts["marketplace_orderitem"] == len(frames["order_items"])
assert counts["marketplace_producttag"] == len(frames["product_tags"])

from django.test.utils import CaptureQueriesContext
with CaptureQueriesContext(connection) as queries:
    again = django_orm.load_django_marketplace()
assert again == counts
assert not any(q["sql"].lstrip().upper().startswith(("INSERT", "DELETE")) for q in queries)

from nexus_labs.django_marketplace.models import (
    Customer, CustomerProfile, Order, OrderItem, Product, ProductTag, Tag)
order = Order.objects.select_related("customer").order_by("id").first()
first_items = frames["order_items"].query("order_id == @order.id")
assert order.items.count() == len(first_items)
assert order.customer.orders.filter(id=order.id).exists()
assert str(order.customer) == f"{order.customer.name} <{order.customer.email}>"
profile = CustomerProfile.objects.select_related("customer").first()
assert profile.customer.profile == profile
product = Product.objects.filter(tags__isnull=False).first()
tag = product.tags.first()
assert product in tag.products.all()

try:
    with transaction.atomic():
        ProductTag.objects.create(product=product, tag=tag)
except IntegrityError:
    pass
else:
    raise AssertionError("a duplicate (product, tag) pair was accepted")
item = OrderItem.objects.first()
try:
    with transaction.atomic():
        OrderItem.objects.create(order=item.order, product=item.product, quantity=1,
                                 unit_price_cents=1)
except IntegrityError:
    pass
else:
    raise AssertionError("a duplicate (order, product) line was accepted")

# New rows get fresh ids after the bulk load (PostgreSQL sequences were moved on).
fresh = Tag.objects.create(name="nexus-test-fresh-tag")
assert fresh.id > len(frames["tags"])
fresh.delete()

# Django's tables are marketplace_<model>: no clash with the SQLAlchemy tables.
names = set(sa.inspect(lab.sql.engine).get_table_names())
assert {"marketplace_customer", "marketplace_order", "marketplace_orderitem"} <= names
if lab.sql.kind == "postgresql":
    with connection.cursor() as cursor:
        cursor.execute("select current_schema()")
        assert cursor.fetchone()[0] == lab.sql.schema

other = open_lab("query_optimization", quiet=True)
try:
    django_orm.setup_django(other)
except django_orm.DjangoAlreadyConfigured as error:
    assert "process-wide" in str(error) and "relationships" in str(error)
else:
    raise AssertionError("a second lab reconfigured Django")
print("SCENARIO OK")
"""

FOREIGN_SETTINGS = """
from django.conf import settings
settings.configure(INSTALLED_APPS=[])
from nexus_labs import open_lab
from nexus_labs.backends import django_orm
try:
    django_orm.setup_django(open_lab("relationships", quiet=True))
except django_orm.DjangoAlreadyConfigured as error:
    assert "configured by something else" in str(error)
    print("SCENARIO OK")
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=300, env=dict(os.environ),
    )  # fmt: skip


def test_django_on_the_lab_database():
    result = _run(SCENARIO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "SCENARIO OK" in result.stdout


def test_refuses_settings_configured_elsewhere():
    result = _run(FOREIGN_SETTINGS)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "SCENARIO OK" in result.stdout
