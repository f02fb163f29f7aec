"""Detection cases from the nineteenth session's held-out set 9 (shapes real fix commits had),
each with the negative it must keep silent."""
from querylint.rule import dedent
from querylint.testing import lint_files


def _found(files, select, **kw):
    return [(f.path, f.line, f.rule, f.confidence) for f in lint_files(files, select=select, **kw).findings]


def test_geopandas_reads_sql_like_pandas():
    # Digital-Twins: ``gpd.GeoDataFrame.from_postgis(f"... ST_GeomFromText('{polygon}', 2193)",
    # engine)``: geopandas' readers run the text they are given, as ``pandas.read_sql`` does
    code = dedent(
        """
        import geopandas as gpd
        from sqlalchemy import text

        def regions(engine, area):
            polygon = area["geometry"][0]
            query = f"SELECT name, geometry FROM region WHERE ST_Intersects(geometry, ST_GeomFromText('{polygon}', 2193))"
            return gpd.GeoDataFrame.from_postgis(query, engine, geom_col="geometry")

        def coast(engine, area):
            polygon = area["geometry"][0]
            return gpd.read_postgis(f"SELECT geometry FROM coast WHERE ST_DWithin(geometry, '{polygon}', 10)", engine)

        def bound(engine, area):
            query = text("SELECT name, geometry FROM region WHERE ST_Intersects(geometry, ST_GeomFromText(:p, 2193))")
            return gpd.read_postgis(query.bindparams(p=str(area["geometry"][0])), engine)
        """
    )
    assert [(line, rule) for _, line, rule, _ in _found({"app/geo.py": code}, ["QL3"])] == [(6, "QL303"), (11, "QL303")]
