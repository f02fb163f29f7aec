from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.ext.declarative import declarative_base
from sqlalchemy.orm import relationship

Base = declarative_base()


class Warehouse(Base):
    __tablename__ = "warehouse"
    id = Column(Integer, primary_key=True)
    city = Column(String)


class Bin(Base):
    __tablename__ = "bin"
    id = Column(Integer, primary_key=True)
    code = Column(String)
    warehouse_id = Column(Integer, ForeignKey("warehouse.id"))
    warehouse = relationship("Warehouse", backref="bins")
