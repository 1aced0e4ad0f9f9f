"""The marketplace as a small Django app (app label "marketplace"), for learners on Django.

Configure Django first with `nexus_labs.backends.django_orm.setup_django(lab)`; only then can
`nexus_labs.django_marketplace.models` be imported (Django refuses models before setup).
Table names are Django's defaults, `marketplace_<model>`, so they never collide with the
SQLAlchemy tables (`customers`, `orders`, ...) the data helper creates in the same database.
"""
