{#-
  A post-hook of the marts: when a partitioned mart has no row at all yet (a first deployment,
  or an event not sent yet), Spark has written no data file for it, so nothing outside the
  metastore says what its columns are. The loader reads Parquet, not the metastore: it finds
  them in one empty Parquet file written here, in the table's folder under _seglog_schema/
  (Spark and pyarrow both skip folders starting with '_' when they read the table). The loader
  then creates the warehouse table with those columns, loads nothing and reports "no rows yet"
  (scripts/seglog/loader/_source.py, Model.holds_no_rows). A table with rows needs no such file.
-#}
{% macro keep_empty_table_columns() %}
    {%- if execute and config.get('partition_by') and flags.WHICH in ('run', 'build') -%}
        {%- if run_query("select 1 from " ~ this ~ " limit 1") | length == 0 -%}
            {%- set location = [] -%}
            {%- for row in run_query("describe table extended " ~ this) if row[0] == 'Location' -%}
                {%- do location.append(row[1]) -%}
            {%- endfor -%}
            {%- if location -%}
                {%- do run_query("insert overwrite directory '" ~ location[0] ~ "/_seglog_schema' using parquet "
                                 ~ "select * from " ~ this ~ " where false") -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
