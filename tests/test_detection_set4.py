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
