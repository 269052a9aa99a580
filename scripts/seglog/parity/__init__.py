"""The parity harness (issue #6): the legacy Redshift SQL of each query (legacy/redshift/) run
on the local PostgreSQL with a small shim of Redshift functions, the dbt model run on Spark,
both over the same fixture events, and the results diffed row by row.

    fixture.py    the fixture: generated + hand-written raw Segment log files (deterministic)
    catalogue.py  the queries Q01–Q17: model, grain key, how columns compare
    legacy_db.py  PostgreSQL: the `parity` database, raw tables, shim, running a legacy query
    spark_side.py the one dbt run over the fixture (data/parity-spark) and reading the marts
    compare.py    matching rows on the key and diffing values (tolerances, NULLs, JSON)
    harness.py    the whole run: table, first differences, target/parity/parity_results.json
    cli.py        `seglog parity`
"""
