from flask import Flask, jsonify

from .queries import fetch_prices

app = Flask(__name__)


@app.route("/prices/<symbol>")
def prices(symbol):
    return jsonify(fetch_prices(symbol))
