{#
    snapshot materialization for spark that also works on plain parquet tables.

    why: dbt-spark's snapshot materialization updates the snapshot with merge into, which
    spark only supports for delta/iceberg/hudi tables, so it refuses file_format parquet
    (the only format available here). a root-project materialization overrides the
    adapter's one.

    delta/iceberg/hudi: unchanged, dbt-spark's merge (snapshot_merge_sql).
    parquet: first run creates the table like dbt-spark (build_snapshot_table); later runs
    build dbt's staging view (snapshot_staging_table, via dbt-spark's
    spark_build_snapshot_staging_table) and rewrite the whole table with the result the
    merge would have given:
      existing rows, dbt_valid_to closed by the staging 'update'/'delete' rows
      (matched on dbt_scd_id, current rows only)
      union all the staging 'insert' rows.
    spark refuses to insert overwrite a non-partitioned table from a query that reads it, so
    the new state goes to a scratch table <name>__dbt_new first, then into the target.
    not atomic: readers can see the target empty or partial during the insert overwrite; if
    that step fails, <name>__dbt_new still holds the full new state (the next run refuses
    to start until it has been dealt with).
#}

{% materialization snapshot, adapter='spark' %}

  {%- set target_table = model.get('alias', model.get('name')) -%}
  {%- set strategy_name = config.get('strategy') -%}
  {%- set unique_key = config.get('unique_key') -%}
  {%- set file_format = config.get('file_format') or 'parquet' -%}
  {%- set grant_config = config.get('grants') -%}
  {%- set merge_formats = ['delta', 'iceberg', 'hudi'] -%}
  {%- set use_merge = file_format in merge_formats -%}

  {% set target_relation_exists, target_relation = get_or_create_relation(
          database=none,
          schema=model.schema,
          identifier=target_table,
          type='table') -%}

  {%- if file_format not in merge_formats + ['parquet'] -%}
    {% do exceptions.raise_compiler_error(
        "Invalid file format: " ~ file_format
        ~ ". Snapshots need file_format 'parquet', 'delta', 'iceberg' or 'hudi'") %}
  {%- endif -%}

  {#- hard_deletes new_record: dbt's staging reads the target's columns with
      get_columns_in_relation, which on spark returns describe rows instead of columns, so
      the deletion rows get null in every source column (dbt-labs/dbt-adapters#1401) -#}
  {%- if not use_merge and adapter.get_hard_deletes_behavior(config) == 'new_record' -%}
    {% do exceptions.raise_compiler_error(
        "hard_deletes 'new_record' is not supported for parquet snapshots on spark"
        ~ " (deletion rows would lose their column values); use 'ignore' or 'invalidate'") %}
  {%- endif -%}

  {#- the existing table must be of the kind the chosen path can update -#}
  {%- if target_relation_exists -%}
    {%- set target_is_merge = (target_relation.is_delta or target_relation.is_iceberg
                               or target_relation.is_hudi) == true -%}
    {%- if use_merge != target_is_merge -%}
      {% do exceptions.raise_compiler_error(
          "The existing table " ~ model.schema ~ "." ~ target_table
          ~ " is not in the file_format of the snapshot (" ~ file_format ~ ")") %}
    {%- endif -%}
  {%- endif -%}

  {% if not adapter.check_schema_exists(model.database, model.schema) %}
    {% do create_schema(model.schema) %}
  {% endif %}

  {%- if not target_relation.is_table -%}
    {% do exceptions.relation_wrong_type(target_relation, 'table') %}
  {%- endif -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% set strategy_macro = strategy_dispatch(strategy_name) %}
  {% set strategy = strategy_macro(model, "snapshotted_data", "source_data", model['config'], target_relation_exists) %}

  {% if not target_relation_exists %}

    {% set build_sql = build_snapshot_table(strategy, model['compiled_code']) %}
    {% call statement('main') %}
      {{ create_table_as(False, target_relation, build_sql) }}
    {% endcall %}

  {% else %}

    {% set columns = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() %}
    {{ adapter.assert_valid_snapshot_target_given_strategy(target_relation, columns, strategy) }}

    {% if not use_merge %}
      {#- a scratch table left by a failed run may hold the only full copy of the snapshot -#}
      {% set new_relation = api.Relation.create(identifier=target_table ~ '__dbt_new',
                                                schema=target_relation.schema,
                                                database=none, type='table') %}
      {% if adapter.get_relation(database=none, schema=new_relation.schema,
                                 identifier=new_relation.identifier) is not none %}
        {% do exceptions.raise_compiler_error(
            new_relation ~ " exists: a previous snapshot run failed after computing the new"
            ~ " state. check " ~ target_relation ~ " (restore it from " ~ new_relation
            ~ " if needed), then drop " ~ new_relation ~ " and rerun.") %}
      {% endif %}
    {% endif %}

    {% set staging_table = spark_build_snapshot_staging_table(strategy, sql, target_relation) %}

    {% do adapter.expand_target_column_types(from_relation=staging_table,
                                             to_relation=target_relation) %}

    {#- staging helper columns that are not snapshot columns -#}
    {% set remove_columns = ['dbt_change_type', 'DBT_CHANGE_TYPE', 'dbt_unique_key', 'DBT_UNIQUE_KEY'] %}
    {% if unique_key | is_list %}
      {% for key in unique_key %}
        {% do remove_columns.append('dbt_unique_key_' ~ loop.index) %}
        {% do remove_columns.append('DBT_UNIQUE_KEY_' ~ loop.index) %}
      {% endfor %}
    {% endif %}

    {% set missing_columns = adapter.get_missing_columns(staging_table, target_relation)
                             | rejectattr('name', 'in', remove_columns) | list %}
    {% do create_columns(target_relation, missing_columns) %}

    {% set source_columns = adapter.get_columns_in_relation(staging_table)
                            | rejectattr('name', 'in', remove_columns) | list %}

    {% if use_merge %}

      {% set quoted_source_columns = [] %}
      {% for column in source_columns %}
        {% do quoted_source_columns.append(adapter.quote(column.name)) %}
      {% endfor %}
      {% call statement('main') %}
        {{ snapshot_merge_sql(target=target_relation, source=staging_table,
                              insert_cols=quoted_source_columns) }}
      {% endcall %}

    {% else %}

      {#- the target's columns (read again: create_columns may have added some), in table order -#}
      {% set target_columns = adapter.get_columns_in_relation(target_relation) %}
      {% set staging_names = source_columns | map(attribute='name') | map('lower') | list %}
      {% set scd_id = adapter.quote(columns.dbt_scd_id) %}
      {% set valid_to = adapter.quote(columns.dbt_valid_to) %}

      {% call statement('build_snapshot_new_state') %}
        create table {{ new_relation }} using parquet as
        -- existing rows; the current version of a changed or deleted key gets closed
        select
          {%- for col in target_columns %}
          {%- if col.name | lower == columns.dbt_valid_to | lower %}
          case when changes.scd_id is not null then changes.valid_to
               else existing.{{ valid_to }} end as {{ valid_to }}
          {%- else %}
          existing.{{ adapter.quote(col.name) }}
          {%- endif %}{{ ',' if not loop.last }}
          {%- endfor %}
        from {{ target_relation }} as existing
        left join (
          select {{ scd_id }} as scd_id, {{ valid_to }} as valid_to
          from {{ staging_table }}
          where dbt_change_type in ('update', 'delete')
        ) as changes
          on changes.scd_id = existing.{{ scd_id }}
          and (
            existing.{{ valid_to }} is null
            {%- if config.get('dbt_valid_to_current') %}
            or existing.{{ valid_to }} = {{ config.get('dbt_valid_to_current') }}
            {%- endif %}
          )
        union all
        -- new rows: new keys and new versions of changed keys
        select
          {%- for col in target_columns %}
          {%- if col.name | lower in staging_names %}
          {{ adapter.quote(col.name) }}
          {%- else %}
          cast(null as {{ col.data_type }}) as {{ adapter.quote(col.name) }}
          {%- endif %}{{ ',' if not loop.last }}
          {%- endfor %}
        from {{ staging_table }}
        where dbt_change_type = 'insert'
      {% endcall %}

      {% call statement('main') %}
        insert overwrite table {{ target_relation }}
        select
          {%- for col in target_columns %}
          {{ adapter.quote(col.name) }}{{ ',' if not loop.last }}
          {%- endfor %}
        from {{ new_relation }}
      {% endcall %}

      {% do adapter.drop_relation(new_relation) %}

    {% endif %}

  {% endif %}

  {% set should_revoke = should_revoke(target_relation_exists, full_refresh_mode) %}
  {% do apply_grants(target_relation, grant_config, should_revoke) %}

  {% do persist_docs(target_relation, model) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}

  {{ adapter.commit() }}

  {% if staging_table is defined %}
    {% do post_snapshot(staging_table) %}
  {% endif %}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}
