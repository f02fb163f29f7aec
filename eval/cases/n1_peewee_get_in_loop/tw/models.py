import peewee

db = peewee.SqliteDatabase("tw.db")


class User(peewee.Model):
    username = peewee.CharField(unique=True)

    class Meta:
        database = db


class Tweet(peewee.Model):
    user = peewee.ForeignKeyField(User, backref="tweets")
    body = peewee.TextField()

    class Meta:
        database = db
