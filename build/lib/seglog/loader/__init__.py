"""Loading finished Spark tables into Redshift (locally: PostgreSQL standing in for it).

    redshift_types  column types derived from the Parquet data of the date being loaded
    ddl             CREATE TABLE / ALTER TABLE statements for Redshift and PostgreSQL
"""
