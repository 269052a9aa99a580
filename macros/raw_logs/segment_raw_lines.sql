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
  disk (a folder: 0.1 s; on S3 one LIST returns 1,000 keys). See README "Benchmarks".
  When none of those folders exists for the source, Spark stops with PATH_NOT_FOUND naming
  the glob: the day's files have not landed (or segment_root / segment_sources is wrong).
-#}
{% macro segment_raw_lines(table_name) %}
    {%- set v = run_vars() -%}
    {%- set keys = segment_source_table_keys(table_name) -%}
    {%- set ids = [] -%}
    {%- for key in keys -%}{%- do ids.append(v['segment_sources'][key]) -%}{%- endfor -%}
    {%- set folders = [] -%}
    {%- for day in received_days() -%}{%- do folders.append(received_day_ms(day)) -%}{%- endfor -%}
    select *
    from (
        select
            value as raw_line,
            input_file_name() as file_name
        from text.`{{ v['segment_root'] }}/{{ '{' ~ ids | join(',') ~ '}' }}/{{ '{' ~ folders | join(',') ~ '}' }}`
    ) as listed
    -- the .gz files directly in a received-day folder, nothing in a folder below it
    where file_name rlike '/[0-9]{13}/[^/]+[.]gz$'
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
