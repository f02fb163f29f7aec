"""Django (and Django REST Framework): models, querysets and what they load.

The model graph and queryset inference live in :mod:`querylint.frameworks.django.models` and
:mod:`querylint.frameworks.django.querysets` (to move here as pure moves); this package is the adapter
the pattern rules ask.
"""
from querylint.frameworks.django.adapter import DjangoAdapter

ADAPTER = DjangoAdapter()
