{#-
  The raw lines of one table of the `segment` source for this run's window, read as text
  (Spark decompresses .gz by extension), one row per line with the file it came from.

  Only the folders {segment_root}/{source id}/{received-day-ms} of the run's received days
  (D-L-1..D) are listed, through one Hadoop glob of the folders, never the whole bucket:
    {root}/{web_id,app_id}/{1699228800000,1699315200000,1699401600000}
  and only the .gz files directly in them are read, as a glob ending in /*.gz would. The glob
  names the folders, not the files, on purpose: a glob of files makes every matching file a
  root path of its own, and Spark lists more than 32 root paths with a Spark job, one status
  call per file. For ~1,000 files a folder that listing took 8-9 s of an 11 s read on local
  disk (a folder: 0.1 s; on S3 one LIST returns 1,000 keys). See benchmarks/README.md.
  When none of those folders exists for the source, Spark stops with PATH_NOT_FOUND naming
  the glob: the day's files have not landed (or segment_root / segment_sources is wrong).

  A file that cannot be decompressed (not gzip, or cut short) must not stop the run: the read
  goes through a temporary view with the data source option ignoreCorruptFiles, which skips
  the unreadable rest of such a file (and only of the raw logs: a corrupt Parquet file of our
  own tables still fails loudly). Skipped files are not lost from sight: base_segment__files
  lists every file of the folders and sets aside, with a reason, each one that gave no line.
  (Spark SQL's `text.\`path\`` takes no options, hence the view.)
-#}
{% macro segment_raw_lines(table_name, glob=none, create_view=true) %}
    {%- set glob = glob or segment_folders_glob(table_name) -%}
    select *
    from (
        select
            value as raw_line,
            input_file_name() as file_name
        -- the comment names the folders the view reads (benchmarks/read_case.py reads it too)
        from {{ segment_raw_view(table_name, 'text', glob, create_view) }} /* folders: {{ glob }} */
    ) as listed
    -- the .gz files directly in a received-day folder, nothing in a folder below it
    where file_name rlike '{{ segment_file_pattern() }}'
{% endmacro %}

{#- Every .gz file of the run's folders for one table of the `segment` source: path and size in
    bytes, from the listing alone (binaryFile without its content column reads no byte). -#}
{% macro segment_raw_files(table_name) %}
    select *
    from (
        select
            path as file_name,
            length as bytes
        from {{ segment_raw_view(table_name, 'binaryFile') }}
    ) as listed
    where file_name rlike '{{ segment_file_pattern() }}'
{% endmacro %}

{#- A Segment file's path ends in /{received-day-ms}/{name}.gz. -#}
{% macro segment_file_pattern() %}{{ return('/[0-9]{13}/[^/]+[.]gz$') }}{% endmacro %}

{#- The Segment source id of a file: the folder above its received-day folder. -#}
{% macro segment_file_source_id(file_name) %}regexp_extract({{ file_name }}, '/([^/]+)/[0-9]{13}/[^/]+$', 1){% endmacro %}

{#- The UTC received day of a file: the date of its {received-day-ms} folder. -#}
{% macro segment_file_received_day(file_name) -%}
    to_date(timestamp_millis(cast(regexp_extract({{ file_name }}, '/([0-9]{13})/[^/]+$', 1) as bigint)))
{%- endmacro %}

{#- The key that names one file whatever the path's spelling (file:/… or file:///…, s3://…):
    {source id}/{received-day-ms}/{name}. -#}
{% macro segment_file_key(file_name) %}regexp_extract({{ file_name }}, '([^/]+/[0-9]{13}/[^/]+)$', 1){% endmacro %}

{#- The one glob of the run's folders for a table of the `segment` source (see segment_raw_lines). -#}
{% macro segment_folders_glob(table_name) %}
    {%- set v = run_vars() -%}
    {%- set ids = [] -%}
    {%- for key in segment_source_table_keys(table_name) -%}{%- do ids.append(v['segment_sources'][key]) -%}{%- endfor -%}
    {%- set folders = [] -%}
    {%- for day in received_days() -%}{%- do folders.append(received_day_ms(day)) -%}{%- endfor -%}
    {{ return(v['segment_root'] ~ '/{' ~ ids | join(',') ~ '}/{' ~ folders | join(',') ~ '}') }}
{% endmacro %}

{#- A temporary view over the run's folders (or `glob`, some of them) in `format` (text or
    binaryFile; `view_suffix` names another view of the same table), created (again) when a command
    queries (run, build, test, …), and its name. The
    vars that make up the path are validated (macros/vars/validate_run_vars.sql), so it holds no quote. -#}
{% macro segment_raw_view(table_name, format, glob=none, create_view=true, view_suffix=none) %}
    {%- set view = 'seglog_raw_' ~ format | lower ~ '__' ~ table_name ~ ('__' ~ view_suffix if view_suffix else '') -%}
    {#- A listing (binaryFile) also lists the files in folders below a received-day folder, to set them aside by name. -#}
    {#- Only for commands that query: compile, docs and sqlfluff's templater need no data. -#}
    {%- if create_view and segment_queries_data() -%}
        {%- do run_query(
            "create or replace temporary view " ~ view ~ " using " ~ format
            ~ " options (path '" ~ (glob or segment_folders_glob(table_name)) ~ "', ignoreCorruptFiles 'true'"
            ~ (", recursiveFileLookup 'true'" if format == 'binaryFile' else '') ~ ")") -%}
    {%- endif -%}
    {{ return(view) }}
{% endmacro %}

{#- The source key (web, app, procedure) of a Segment source id column, from the segment_sources var. -#}
{% macro segment_source_key(source_id_column) %}
    case {{ source_id_column }}
    {%- for key, source_id in run_vars()['segment_sources'].items() %}
        when '{{ source_id }}' then '{{ key }}'
    {%- endfor %}
    end
{% endmacro %}

{#- The source keys (web, app, procedure) a table of the `segment` source holds: its meta.source_keys. -#}
{% macro segment_source_table_keys(table_name) %}
    {%- if not execute -%}{{ return(['web']) }}{%- endif -%}
    {%- for node in graph.sources.values() if node.source_name == 'segment' and node.name == table_name -%}
        {{ return(node.meta['source_keys']) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("no table " ~ table_name ~ " in source segment") }}
{% endmacro %}

{#- True when this dbt command reads data (run, build, test, …): compile, docs and sqlfluff's
    templater render the SQL without it. -#}
{% macro segment_queries_data() %}
    {{ return(execute and flags.WHICH in ('run', 'build', 'test', 'show', 'retry', 'seed', 'snapshot')) }}
{% endmacro %}
