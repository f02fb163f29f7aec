from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class Warehouse(Base):
    __tablename__ = "warehouses"
    id = Column(Integer, primary_key=True)
    name = Column(String(80))
    bins = relationship("Bin", back_populates="warehouse", lazy="selectin")


class Bin(Base):
    __tablename__ = "bins"
    id = Column(Integer, primary_key=True)
    code = Column(String(20))
    warehouse_id = Column(Integer, ForeignKey("warehouses.id"))
    warehouse = relationship("Warehouse", back_populates="bins")
