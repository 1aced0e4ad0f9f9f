"""Django app configuration: the label "marketplace" names the tables marketplace_<model>."""

from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "nexus_labs.django_marketplace"
    label = "marketplace"
    verbose_name = "Nexus Labs marketplace"
    default_auto_field = "django.db.models.BigAutoField"
