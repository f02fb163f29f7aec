"""Which files are templates: a template suffix inside a template folder.

Django looks in each app's ``templates/`` (and ``jinja2/`` for its Jinja2 backend) and in the
``DIRS`` of ``TEMPLATES`` (by convention a ``templates/`` folder too); Flask and Starlette use
``templates/``. A ``.html`` file anywhere else (static pages, docs, coverage reports) is not
read.
"""
from __future__ import annotations

TEMPLATE_SUFFIXES = (".html", ".htm", ".jinja", ".jinja2", ".j2", ".txt", ".xml")
TEMPLATE_FOLDERS = ("templates", "jinja2", "jinja_templates")


def is_template(relpath: str) -> bool:
    """``shop/templates/shop/orders.html``: a template suffix below a template folder."""
    if not relpath.endswith(TEMPLATE_SUFFIXES):
        return False
    parts = relpath.replace("\\", "/").split("/")
    return any(p in TEMPLATE_FOLDERS for p in parts[:-1])


def template_suffix(name: str) -> bool:
    return name.endswith(TEMPLATE_SUFFIXES)
