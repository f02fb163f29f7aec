"""Detection on real code (issue 14), eleventh session: shapes from the fourth held-out set
(onegov's ``src/`` layout and collection classes), each with the fixed form beside it."""
from querylint.rule import dedent
from querylint.testing import lint_files

SRC_LAYOUT = {
    "src/app/__init__.py": "",
    "src/app/core/__init__.py": "",
    "src/app/core/orm.py": dedent(
        """
        from sqlalchemy.ext.declarative import declarative_base

        class ModelBase:
            pass

        Base = declarative_base(cls=ModelBase)
        """
    ),
    "src/app/models.py": dedent(
        """
        from sqlalchemy import Column, ForeignKey, Integer, Text
        from sqlalchemy.orm import relationship
        from app.core.orm import Base

        class Canton(Base):
            __tablename__ = "cantons"
            id = Column(Integer, primary_key=True)
            name = Column(Text)

        class Vote(Base):
            __tablename__ = "votes"
            id = Column(Integer, primary_key=True)
            bfs_number = Column(Integer)
            canton_id = Column(ForeignKey("cantons.id"))
            canton = relationship(Canton)
        """
    ),
    "src/app/collections/__init__.py": "from app.collections.votes import VoteCollection\n",
    "src/app/collections/votes.py": dedent(
        """
        from app.models import Vote

        class VoteCollection:
            def __init__(self, session):
                self.session = session

            def query(self):
                return self.session.query(Vote)

            def by_bfs_number(self, number):
                return self.query().filter(Vote.bfs_number == number).first()

            def by_bfs_numbers(self, numbers):
                return {v.bfs_number: v for v in self.query().filter(Vote.bfs_number.in_(numbers))}
        """
    ),
    "src/app/layouts.py": dedent(
        """
        from app.collections import VoteCollection

        class Layout:
            def __init__(self, session, images):
                self.session = session
                self.images = images

            def slides(self):
                votes = VoteCollection(self.session)
                return [votes.by_bfs_number(image.number) for image in self.images]

            def slides_fixed(self):
                votes = VoteCollection(self.session).by_bfs_numbers([i.number for i in self.images])
                return [votes.get(image.number) for image in self.images]

            def cantons(self):
                return [vote.canton.name for vote in VoteCollection(self.session).query()]
        """
    ),
}


def test_a_src_layout_project_base_and_a_collection_re_exported_by_its_package():
    # onegov: ``Base = declarative_base(cls=ModelBase)`` in ``src/onegov/core/orm`` imported as
    # ``onegov.core.orm.Base``; ``SwissVoteCollection`` imported from its package's ``__init__``
    found = [(f.path, f.line, f.rule) for f in lint_files(SRC_LAYOUT, select="QL1").findings]
    assert ("src/app/layouts.py", 10, "QL102") in found
    assert not [f for f in found if f[1] in (13, 14)]


# openwisp: the project's ``Config`` and a sample app's ``Config`` in ``tests/`` (a swappable
# model's stand-in) share a name; the code outside tests means its own when it says ``config``
SWAPPED_SAMPLE = {
    "app/__init__.py": "",
    "app/base.py": dedent(
        """
        from django.db import models

        class AbstractConfig(models.Model):
            templates = models.ManyToManyField("app.Template", blank=True)

            class Meta:
                abstract = True
        """
    ),
    "app/models.py": dedent(
        """
        from django.db import models
        from app.base import AbstractConfig

        class Template(models.Model):
            name = models.CharField(max_length=10)

        class Config(AbstractConfig):
            pass
        """
    ),
    "app/views.py": dedent(
        """
        from django.views import View

        class RegisterView(View):
            def add_tagged_templates(self, config, templates):
                for template in templates:
                    config.templates.add(template)  # want: QL104

            def add_all(self, config, templates):
                config.templates.add(*templates)

            def post(self, request):
                config = request.device.config
                self.add_tagged_templates(config, request.templates)
                self.add_all(config, request.templates)
        """
    ),
    "tests/__init__.py": "",
    "tests/sample/__init__.py": "",
    "tests/sample/models.py": dedent(
        """
        from django.db import models
        from app.base import AbstractConfig

        class DetailsModel(models.Model):
            details = models.CharField(max_length=64, blank=True)

            class Meta:
                abstract = True

        class Config(DetailsModel, AbstractConfig):
            pass
        """
    ),
}


def test_a_sample_model_in_tests_does_not_hide_the_projects_own_of_that_name():
    result = lint_files(SWAPPED_SAMPLE, select="QL1")
    got = sorted((f.path, f.line, f.rule) for f in result.findings)
    assert got == [("app/views.py", 6, "QL104")], [f.message for f in result.findings]


def test_two_project_models_of_one_name_still_leave_the_name_unknown():
    files = dict(SWAPPED_SAMPLE)
    files["shop/__init__.py"] = ""
    files["shop/models.py"] = files.pop("tests/sample/models.py")  # a second Config outside tests
    result = lint_files(files, select="QL1")
    assert [f for f in result.findings if f.path == "app/views.py"] == []
