"""A model method that returns a queryset (``doc.links_to()``): its rows are the model's rows."""
from querylint.testing import lint_files

MODELS = (
    "from django.db import models\n"
    "class Doc(models.Model):\n"
    "    title = models.CharField(max_length=9)\n"
    "    def links_to(self):\n"
    "        return Link.objects.filter(dst=self)\n"
    "class Link(models.Model):\n"
    "    src = models.ForeignKey(Doc, on_delete=models.CASCADE, related_name='+')\n"
    "    dst = models.ForeignKey(Doc, on_delete=models.CASCADE, related_name='+')\n"
)
VIEW = (
    "from app.models import Doc\n"
    "def typed(pk):\n"
    "    doc = Doc.objects.get(pk=pk)\n"
    "    return [l.src.title for l in doc.links_to()]\n"
    "def untyped(target):\n"
    "    return [l.src.title for l in target.links_to()]\n"
    "def joined(target):\n"
    "    return [l.src.title for l in target.links_to().select_related('src')]\n"
    "def key_only(target):\n"
    "    return [l.src_id for l in target.links_to()]\n"
)


def _lines(files):
    return sorted((f.path, f.span.line) for f in lint_files(files, select=["QL105"]).findings)


def test_a_model_method_returning_a_queryset_gives_the_loop_its_rows():
    files = {"app/__init__.py": "", "app/models.py": MODELS, "app/views.py": VIEW}
    assert _lines(files) == [("app/views.py", 4), ("app/views.py", 6)]


def test_an_untyped_receiver_needs_the_method_name_to_be_the_models_alone():
    """Another class with a method of the same name: the untyped receiver may be that one."""
    other = "class Graph:\n    def links_to(self):\n        return []\n"
    files = {"app/__init__.py": "", "app/models.py": MODELS, "app/views.py": VIEW, "app/graph.py": other}
    assert _lines(files) == [("app/views.py", 4)]


PARAM_VIEW = (
    "def titles(doc):\n"
    "    return [l.src.title for l in doc.link_set.all()]\n"
    "def titles_default(doc=None):\n"
    "    return [l.src.title for l in doc.link_set.all()]\n"
)
PARAM_MODELS = MODELS.replace("related_name='+')\n", "related_name='+')\n", 1).replace(
    "dst = models.ForeignKey(Doc, on_delete=models.CASCADE, related_name='+')", "dst = models.ForeignKey(Doc, on_delete=models.CASCADE)"
)


def test_a_parameter_named_after_a_model_holds_its_instance():
    files = {"app/__init__.py": "", "app/models.py": PARAM_MODELS, "app/views.py": PARAM_VIEW}
    assert _lines(files) == [("app/views.py", 2)]  # not the one with a default


def test_a_parameter_named_after_two_models_is_neither():
    other = "from django.db import models\nclass Doc(models.Model):\n    pass\n"
    files = {"app/__init__.py": "", "app/models.py": PARAM_MODELS, "app/views.py": PARAM_VIEW, "app/other.py": other}
    assert _lines(files) == []


def test_a_parameter_named_after_a_model_with_a_word_before_it_holds_its_instance():
    # diplicity: ``clone_from_phase(self, source_phase)``, called with ``game.current_phase``
    view = "def titles(source_doc):\n    return [l.src.title for l in source_doc.link_set.all()]\n"
    caller = (
        "from app.models import Doc\nfrom app.views import titles\n"
        "def page(game):\n    game.docs.filter(title='x').update(title='y')\n    return titles(game.current_doc)\n"
    )
    files = {"app/__init__.py": "", "app/models.py": PARAM_MODELS, "app/views.py": view, "app/page.py": caller}
    assert _lines(files) == [("app/views.py", 2)]
    # a caller that loads things and passes what is named after another model: no evidence
    files["app/page.py"] = caller.replace("game.current_doc", "game.current_link")
    assert _lines(files) == []
    # a word that names no model alone
    files["app/views.py"] = view.replace("source_doc", "source_thing")
    files["app/page.py"] = caller
    assert _lines(files) == []


def test_a_parameter_whose_callers_prefetched_the_rows_relations_is_silent():
    caller = (
        "from app.models import Doc\n"
        "from app.views import titles\n"
        "def page():\n"
        "    return [titles(d) for d in Doc.objects.prefetch_related('link_set__src')]\n"
    )
    files = {"app/__init__.py": "", "app/models.py": PARAM_MODELS, "app/views.py": PARAM_VIEW, "app/page.py": caller}
    assert _lines(files) == []
    files["app/page.py"] = caller.replace(".prefetch_related('link_set__src')", ".all()")
    assert _lines(files) == [("app/views.py", 2)]


def test_a_parameter_named_after_a_model_types_only_its_own_functions_loops():
    """Naming evidence judges the loops of the function itself; a single query through the
    parameter does not make the function a query its callers run per item."""
    helper = "def first_src(doc):\n    return doc.link_set.first()\n"
    caller = "from app.helpers import first_src\ndef page(docs):\n    return [first_src(d) for d in docs]\n"
    files = {"app/__init__.py": "", "app/models.py": PARAM_MODELS, "app/helpers.py": helper, "app/page.py": caller}
    assert lint_files(files, select=["QL1"]).findings == []


MEMBER_MODELS = (
    "from django.db import models\n"
    "class Port(models.Model):\n"
    "    name = models.CharField(max_length=9)\n"
    "class Outlet(models.Model):\n"
    "    name = models.CharField(max_length=9)\n"
    "    port = models.ForeignKey(Port, null=True, on_delete=models.CASCADE, related_name='outlets')\n"
    "    def to_dict(self):\n"
    "        return {'name': self.name, 'port': self.port.name if self.port else None}\n"
    "    def siblings(self):\n"
    "        return Outlet.objects.filter(port=self.port)\n"
    "    def lookup(self):\n"
    "        model = self.port.__class__\n"
    "        return model.objects.filter(pk=1).first()\n"
)
MEMBER_VIEW = (
    "from app.models import Outlet\n"
    "def export():\n"
    "    return [o.to_dict() for o in Outlet.objects.all()]\n"
    "def neighbours():\n"
    "    return [list(o.siblings()) for o in Outlet.objects.all()]\n"
    "def looked_up():\n"
    "    return [o.lookup() for o in Outlet.objects.all()]\n"
)


def test_a_member_reading_one_relation_gets_the_loader_it_needs():
    files = {"app/__init__.py": "", "app/models.py": MEMBER_MODELS, "app/views.py": MEMBER_VIEW}
    fixes = {f.span.line: f.fix for f in lint_files(files, select=["QL106"]).findings}
    assert fixes[3] == 'add .select_related("port") to the queryset built on line 3'
    # it also returns a queryset the caller evaluates, or builds one on a model it looks up:
    # a loader alone would not remove the query per item
    assert "load what it needs" in fixes[5] and "load what it needs" in fixes[7]


def test_other_files_consulted_per_file_are_bounded_whatever_process_parsed_them(monkeypatch):
    """The inference reads helpers in other files; each analysed file may consult a bounded number
    of them (the bound does not depend on which trees a worker holds)."""
    import querylint.frameworks.django.querysets as querysets

    models = (
        "from django.db import models\n"
        "class Shop(models.Model):\n    name = models.CharField(max_length=9)\n"
        "class Order(models.Model):\n"
        "    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)\n"
        "    open = models.BooleanField(default=True)\n"
    )
    helper = "from app.models import Order\ndef {name}():\n    return Order.objects.filter(open={value})\n"
    view = (
        "from app.first import open_orders\n"
        "from app.second import closed_orders\n"
        "def shops(request):\n"
        "    a = [o.shop.name for o in open_orders()]\n"
        "    b = [o.shop.name for o in closed_orders()]\n"
        "    return a, b\n"
    )
    files = {
        "app/__init__.py": "", "app/models.py": models, "app/views.py": view,
        "app/first.py": helper.format(name="open_orders", value=True),
        "app/second.py": helper.format(name="closed_orders", value=False),
    }
    lines = lambda: sorted(f.span.line for f in lint_files(files, select=["QL105"]).findings)  # noqa: E731
    assert lines() == [4, 5]
    monkeypatch.setattr(querysets, "OFFLINE_FILES_PER_FILE", 1)
    assert lines() == [4]  # the second helper's file is past the bound: its rows stay unknown


PROPERTY_MODELS = (
    "from django.db import models\n"
    "from django.utils.functional import cached_property\n"
    "class Course(models.Model):\n"
    "    name = models.CharField(max_length=9)\n"
    "    @property\n"
    "    def final_documents(self):\n"
    "        return self.documents.filter(kind='final')\n"
    "    @property\n"
    "    def label(self):\n"
    "        return self.name.upper()\n"
    "class Document(models.Model):\n"
    "    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name='documents')\n"
    "    kind = models.CharField(max_length=9)\n"
)


def test_a_property_that_returns_a_queryset_queries_once_per_row_it_is_counted_on():
    # EvaP: ``course.final_grade_documents.count()`` for every course of a parameter the
    # function narrows (``courses = courses.prefetch_related(...)``)
    views = (
        "from app.models import Course\n"
        "def rows(courses):\n"
        "    courses = courses.prefetch_related('documents')\n"
        "    return [(c, c.final_documents.count()) for c in courses]\n"
        "def page():\n"
        "    return rows(Course.objects.filter(name='x'))\n"
        "def labels():\n"
        "    return [c.label for c in Course.objects.all()]\n"
        "def prefetched():\n"
        "    return [len(c.documents.all()) for c in Course.objects.prefetch_related('documents')]\n"
    )
    files = {"app/__init__.py": "", "app/models.py": PROPERTY_MODELS, "app/views.py": views}
    assert [(f.path, f.span.line, f.rule) for f in lint_files(files, select=["QL1"]).findings] == [("app/views.py", 4, "QL103")]
    # a caller that passes a list of something else: the parameter is not followed
    files["app/views.py"] = views.replace("rows(Course.objects.filter(name='x'))", "rows([1, 2])")
    assert lint_files(files, select=["QL1"]).findings == []
