from peewee import CharField, ForeignKeyField, Model, SqliteDatabase

db = SqliteDatabase("app.db")


class Team(Model):
    name = CharField()

    class Meta:
        database = db


class Player(Model):
    team = ForeignKeyField(Team, backref="players")
    name = CharField()

    class Meta:
        database = db
