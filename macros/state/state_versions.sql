{#-
  Cumulative state tables (int_identity_map, int_users) that survive a run killed at any point.

  Each run merges its dates into the state the table already holds and writes the result as a
  new partition of the table's version column, named by the run (state_version()); it never
  rewrites a partition it reads. Readers take the latest version (latest_state()), and a
  version is visible only once it is complete: Spark moves a partition's files into place
  first and registers the partition in the metastore after, so files of a run killed before
  that point sit in an unregistered folder that no query reads. The run after it merges
  into the last complete version and loses nothing. After a run the versions beyond the
  newest state_versions_kept() are dropped (state_prune(), a post-hook).

  Why versions and not dbt's own strategies: insert_overwrite of one partition deletes the old
  partition's files before it moves the new ones in (a kill between the two lost every user),
  and Parquet has no MERGE or atomic table swap here (no Delta/Iceberg: their jars cannot be
  fetched). A table written before versions ('all', the one in-place partition) is read as the
  oldest version: 'v…' sorts after 'all'.
-#}

{#- How many versions a state table keeps: the newest is read, the two before it are what a
    reader can fall back to by hand (`select … where state_partition = '<older>'`). -#}
{% macro state_versions_kept() %}{{ return(3) }}{% endmacro %}

{#- The version this run writes: its UTC start time to the microsecond, then the invocation
    id, so later runs sort after earlier ones. -#}
{% macro state_version() %}
    {{ return('v' ~ run_started_at.strftime('%Y%m%dT%H%M%S%f') ~ '_' ~ invocation_id[:8]) }}
{% endmacro %}

{#- The rows of the latest complete version of a state table: a scalar subquery on the
    partition column (its max reads no column of the files), which Spark evaluates before it
    lists the files to read (the plan's PartitionFilters hold it: runtime partition pruning),
    so only that version's files are read. -#}
{% macro latest_state(relation, column) -%}
    (select * from {{ relation }} where {{ column }} = (select max({{ column }}) from {{ relation }}))
{%- endmacro %}

{#- Post-hook of a state table: drop the versions older than the newest state_versions_kept()
    ones (the metastore's partitions, so only complete versions are counted). -#}
{% macro state_prune(column) %}
    {%- if not segment_queries_data() -%}{{ return('') }}{%- endif -%}
    {%- set versions = [] -%}
    {%- for row in run_query('show partitions ' ~ this) -%}
        {%- do versions.append(row[0].split('=', 1)[1]) -%}
    {%- endfor -%}
    {%- set old = (versions | sort(reverse=true))[state_versions_kept():] -%}
    {%- if not old -%}{{ return('') }}{%- endif -%}
    {%- set specs = [] -%}
    {%- for version in old -%}{%- do specs.append("partition (" ~ column ~ " = '" ~ version ~ "')") -%}{%- endfor -%}
    {{ return('alter table ' ~ this ~ ' drop if exists ' ~ (specs | join(', '))) }}
{% endmacro %}
