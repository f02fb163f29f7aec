import os

import redis
from flask import Flask, jsonify
from pymongo import MongoClient

app = Flask(__name__)
POOL = redis.ConnectionPool.from_url(os.environ.get("REDIS_URL", "redis://cache:6379/0"))
mongo = MongoClient(os.environ.get("MONGO_URL", "mongodb://mongo:27017"))


@app.get("/limits/<user>")
def limits(user):
    r = redis.from_url(os.environ.get("REDIS_URL", "redis://cache:6379/0"))  # expect[conn]
    return jsonify({"used": int(r.get(f"limit:{user}") or 0)})


@app.get("/limits2/<user>")
def limits2(user):
    r = redis.Redis(connection_pool=POOL)
    return jsonify({"used": int(r.get(f"limit:{user}") or 0)})


@app.get("/profile/<user>")
def profile(user):
    client = MongoClient(os.environ.get("MONGO_URL", "mongodb://mongo:27017"))  # expect[conn]
    doc = client.app.profiles.find_one({"user": user})
    client.close()
    return jsonify(doc or {})


@app.get("/profile2/<user>")
def profile2(user):
    return jsonify(mongo.app.profiles.find_one({"user": user}) or {})
