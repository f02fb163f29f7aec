from peewee import CharField, ForeignKeyField, Model, SqliteDatabase

db = SqliteDatabase("shop.db")


class BaseModel(Model):
    class Meta:
        database = db


class Customer(BaseModel):
    name = CharField()


class Purchase(BaseModel):
    customer = ForeignKeyField(Customer, backref="purchases")
    item = CharField()
