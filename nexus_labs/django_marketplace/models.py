"""The marketplace in Django models: the same entities and relationships as the SQLAlchemy
schema, written the way a Django project would (ForeignKey, OneToOneField,
ManyToManyField(through=...), UniqueConstraint).

Primary keys keep the dataset's ids (customer 7 is `Customer(id=7)`), so a row can be found
in either ORM by the same number.
"""

from __future__ import annotations

from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=100)
    # A tree: a category may have a parent; deleting a parent keeps its children as roots.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )

    class Meta:
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Seller(models.Model):
    name = models.CharField(max_length=200)
    email = models.EmailField(unique=True)
    country = models.CharField(max_length=60)
    joined_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Customer(models.Model):
    name = models.CharField(max_length=200)
    email = models.EmailField(unique=True)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=60)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class CustomerProfile(models.Model):
    """One-to-one: the profile's primary key IS the customer's id, so there can be only one."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    bio = models.TextField(blank=True)
    birth_year = models.IntegerField(null=True, blank=True)
    marketing_opt_in = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"profile of customer {self.customer_id}"


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    # PROTECT: a seller with products cannot be deleted by accident (their sales history).
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="products")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    price_cents = models.IntegerField()
    stock = models.IntegerField(default=0)
    created_at = models.DateTimeField()
    tags = models.ManyToManyField(Tag, through="ProductTag", related_name="products")

    def __str__(self) -> str:
        return f"{self.name} ({self.price_cents / 100:.2f})"


class ProductTag(models.Model):
    """The many-to-many junction, explicit so it carries a unique (product, tag) pair."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["product", "tag"], name="uq_marketplace_product_tag"),
        )

    def __str__(self) -> str:
        return f"product {self.product_id} tagged {self.tag_id}"


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    ordered_at = models.DateTimeField()
    status = models.CharField(max_length=20)
    products = models.ManyToManyField(Product, through="OrderItem", related_name="orders")

    def __str__(self) -> str:
        return f"order {self.pk} ({self.status})"


class OrderItem(models.Model):
    """A junction with its own data: how many, and the price paid at the time of the order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    # PROTECT: a product that was sold cannot vanish from past orders.
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_items")
    quantity = models.IntegerField()
    unit_price_cents = models.IntegerField()

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["order", "product"], name="uq_marketplace_order_item"),
        )

    def __str__(self) -> str:
        return f"{self.quantity} × product {self.product_id} in order {self.order_id}"


class Review(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="reviews")
    rating = models.SmallIntegerField()
    body = models.TextField(blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.rating}★ for product {self.product_id} by customer {self.customer_id}"
