from flask import Blueprint, jsonify, request

from .models import Coupon

bp = Blueprint("coupons", __name__)


@bp.post("/coupons/check")
def check():
    results = {}
    for code in request.json.get("codes", []):
        coupon = Coupon.query.filter_by(code=code).first()  # expect[n+1]
        results[code] = coupon.percent if coupon else None
    return jsonify(results)


@bp.post("/coupons/check-fast")
def check_fast():
    codes = request.json.get("codes", [])
    found = {c.code: c.percent for c in Coupon.query.filter(Coupon.code.in_(codes)).all()}
    return jsonify({code: found.get(code) for code in codes})
