"""Precision cases from the eleventh session's blind sample (issue 13): nine projects none of the
earlier sets used (ckan, tasking-manager, zou, linkding, opencve, Tandoor recipes, EvaP,
librephotos, a4-meinberlin). Each false alarm or duplicate with its negative, and the positive it
must not hide."""
from querylint.rule import dedent
from querylint.testing import lint_files


def _found(files, select, **kw):
    return [(f.path, f.line, f.rule) for f in lint_files(files, select=select, **kw).findings]


MODELS = dedent(
    """
    from django.db import models

    class Ingredient(models.Model):
        note = models.CharField(max_length=10)

    class Step(models.Model):
        ingredients = models.ManyToManyField(Ingredient)
    """
)


def test_a_write_nested_in_the_arguments_of_another_write_is_one_finding():
    # Tandoor's importers: ``step.ingredients.add(Ingredient.objects.create(...))`` per parsed
    # line was two QL104 findings on one statement
    views = dedent(
        """
        from app.models import Ingredient

        def view(request, step):
            for text in request.POST.getlist("notes"):
                step.ingredients.add(Ingredient.objects.create(note=text))
            for text in request.POST.getlist("more"):
                made = Ingredient.objects.create(note=text)
                step.ingredients.add(made)
        """
    )
    found = _found({"app/models.py": MODELS, "app/views.py": views}, "QL104")
    assert found == [("app/views.py", 5, "QL104"), ("app/views.py", 7, "QL104"), ("app/views.py", 8, "QL104")]
