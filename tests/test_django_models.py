"""The Django model graph and the queryset inference, tested on small source strings (issue 3)."""
import textwrap

import libcst as cst
import pytest

from querylint.frameworks.django.models import EXTERNAL_USER, FK, M2M, O2O, REV_FK, REV_M2M, REV_O2O, build_graph, expand_paths, sub_paths
from querylint.project.facts import collect_facts
from querylint.project.index import ProjectIndex
from querylint.testing import lint_files


def graph_of(files):
    index = ProjectIndex(collect_facts(cst.parse_module(textwrap.dedent(src)), path) for path, src in files.items())
    return build_graph(index)


MODELS = {
    "shop/models.py": """
        from django.conf import settings
        from django.db import models
        from django.contrib.contenttypes.fields import GenericForeignKey

        class Stamped(models.Model):
            created = models.DateTimeField()
            owner = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="%(class)s_owned")
            class Meta:
                abstract = True

        class Category(Stamped):
            name = models.CharField(max_length=9)
            parent = models.ForeignKey("self", null=True, on_delete=models.CASCADE)

        class Product(Stamped):
            category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="products")
            tags = models.ManyToManyField("shop.Tag")
            hidden = models.ForeignKey("Category", related_name="+", on_delete=models.CASCADE)
            objects = models.Manager()
            published = PublishedManager()
            class Meta:
                ordering = ["name"]

        class Tag(models.Model):
            label = models.CharField(max_length=9)

        class Profile(models.Model):
            user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
            product = models.OneToOneField(Product, on_delete=models.CASCADE)
            target = GenericForeignKey("content_type", "object_id")

        class ProxyProduct(Product):
            class Meta:
                proxy = True

        class PublishedManager(models.Manager):
            def live(self):
                return self.filter(published=True)
    """,
    "shop/other.py": """
        class NotAModel:
            name = "x"
    """,
}


@pytest.fixture(scope="module")
def graph():
    return graph_of(MODELS)


def test_models_found_by_bases_transitively(graph):
    names = {m.name for m in graph.models.values()}
    assert {"Stamped", "Category", "Product", "Tag", "Profile", "ProxyProduct"} <= names
    assert "NotAModel" not in names and "PublishedManager" not in names
    assert graph.models["shop.models.Stamped"].abstract
    assert graph.models["shop.models.ProxyProduct"].proxy


def test_forward_relations_and_targets(graph):
    product = graph.models["shop.models.Product"]
    assert (product.relation("category").kind, product.relation("category").target) == (FK, "shop.models.Category")
    assert (product.relation("tags").kind, product.relation("tags").target) == (M2M, "shop.models.Tag")
    assert product.relation("owner").target == EXTERNAL_USER  # inherited from the abstract base
    category = graph.models["shop.models.Category"]
    assert category.relation("parent").target == "shop.models.Category"  # "self"
    profile = graph.models["shop.models.Profile"]
    assert (profile.relation("user").kind, profile.relation("user").target) == (O2O, EXTERNAL_USER)
    assert profile.relation("target").kind == "gfk"


def test_reverse_accessors(graph):
    category = graph.models["shop.models.Category"]
    assert (category.relation("products").kind, category.relation("products").target) == (REV_FK, "shop.models.Product")
    assert category.relation("category_set").kind == REV_FK  # the self FK, default name
    assert "hidden" not in category.relations and not any(r.endswith("+") for r in category.relations)
    tag = graph.models["shop.models.Tag"]
    assert tag.relation("product_set").kind == REV_M2M
    product = graph.models["shop.models.Product"]
    assert product.relation("profile").kind == REV_O2O
    user = graph.models[EXTERNAL_USER]
    assert {"product_owned", "category_owned", "profile"} <= set(user.relations)  # %(class)s per concrete model


def test_fields_managers_ordering_members(graph):
    product = graph.models["shop.models.Product"]
    assert "created" in product.fields and "category" not in product.fields
    assert {"objects", "published"} <= product.managers
    assert product.ordering and not graph.models["shop.models.Tag"].ordering
    assert "live" in graph.queryset_methods


def test_custom_user_model_replaces_auth_user():
    g = graph_of(
        {
            "acc/models.py": """
                from django.contrib.auth.models import AbstractUser
                from django.conf import settings
                from django.db import models
                class Member(AbstractUser):
                    pass
                class Note(models.Model):
                    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
            """
        }
    )
    assert g.user_model == "acc.models.Member"
    assert g.models["acc.models.Note"].relation("author").target == "acc.models.Member"
    assert "note_set" in g.models["acc.models.Member"].relations


def test_not_django_models_are_ignored():
    g = graph_of(
        {
            "db.py": """
                import peewee
                from sqlalchemy.orm import DeclarativeBase
                class Base(DeclarativeBase):
                    pass
                class User(Base):
                    __tablename__ = "users"
                class Pet(peewee.Model):
                    owner = peewee.ForeignKeyField(User)
            """
        }
    )
    assert g.models == {}


def test_path_helpers():
    assert expand_paths(["a__b__c", "d"]) == frozenset({"a", "a__b", "a__b__c", "d"})
    assert sub_paths(frozenset({"a", "a__b", "a__b__c", "d"}), "a") == frozenset({"b", "b__c"})


# ------------------------------------------------------------------ inference, end to end

LIB = """
from django.db import models
class Author(models.Model):
    name = models.CharField(max_length=9)
class Book(models.Model):
    title = models.CharField(max_length=9)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
"""


def codes(view, select=("QL1", "QL4")):
    result = lint_files({"lib/__init__.py": "", "lib/models.py": LIB, "lib/views.py": textwrap.dedent(view)}, select=select)
    assert result.errors == []
    return sorted((f.span.line, f.variant) for f in result.findings)


@pytest.mark.parametrize(
    "body,expected",
    [
        # coverage carried through chains, slicing, earlier statements, conditionals
        ("qs = Book.objects.all()\nqs = qs.filter(title='x')[:10]\nreturn [b.author.name for b in qs]", [(6, "QL112")]),
        ("qs = Book.objects.all()\nqs = qs.select_related('author')\nreturn [b.author.name for b in qs[:3]]", []),
        ("qs = Book.objects.prefetch_related('author').order_by('title')\nreturn [b.author.name for b in qs.all()]", []),
        ("return [b.author.name for b in list(Book.objects.select_related('author'))]", []),
        ("return [b.author_id for b in Book.objects.all()]", []),
        ("return [b['author__name'] for b in Book.objects.values('author__name')]", []),
        ("return [a.books.count() for a in Author.objects.all()]", [(4, "QL113")]),
        ("return [a.books.count() for a in Author.objects.prefetch_related('books')]", []),
        ("return [a.books.filter(title='x').exists() for a in Author.objects.prefetch_related('books')]", [(4, "QL114")]),
        ("for i, b in enumerate(Book.objects.all()):\n    print(i, b.author.name)", [(5, "QL112")]),
        ("async for b in Book.objects.all():\n    print(b.author.name)", [(5, "QL112")]),
    ],
)
def test_inference_through_the_rules(body, expected):
    prefix = "async def view():\n" if body.startswith("async") else "def view():\n"
    src = "from lib.models import Author, Book\n\n" + prefix + textwrap.indent(body, "    ") + "\n"
    assert codes(src) == expected


def test_helper_in_another_module_carries_select_related():
    result = lint_files(
        {
            "lib/__init__.py": "",
            "lib/models.py": LIB,
            "lib/queries.py": "from lib.models import Book\ndef joined():\n    return Book.objects.select_related('author')\ndef plain():\n    return Book.objects.all()\n",
            "lib/views.py": "from lib.queries import joined, plain\ndef a():\n    return [b.author.name for b in joined()]\ndef b():\n    return [b.author.name for b in plain()]\n",
        },
        select=("QL112",),
    )
    assert [(f.path, f.span.line) for f in result.findings] == [("lib/views.py", 5)]


def test_a_form_with_django_form_fields_is_not_a_model():
    """``forms.CharField`` is a form field: a form is never read as a model (a template would see
    its fields as relations, a rule its constructor as a row)."""
    graph = graph_of({
        "app/forms.py": "from django import forms\n\n\nclass ConfirmationForm(forms.Form):\n    confirm = forms.BooleanField()\n",
        "app/models.py": "from django.db import models\n\n\nclass Thing(models.Model):\n    name = models.CharField(max_length=5)\n",
    })
    assert graph.get("app.models.Thing") is not None
    assert graph.get("app.forms.ConfirmationForm") is None
