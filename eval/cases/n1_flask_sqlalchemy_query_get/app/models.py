from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Coupon(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(20), unique=True)
    percent = db.Column(db.Integer)
