{#-
  The parsed layer: each raw file is parsed once in its life, not once per run that reads its
  folder. The run for D reads the folders D-L-1..D, and the runs before it read all but the
  newest already; the parsed lines of every folder are kept (models
  base_segment__*_parsed_lines: Parquet, partitioned by source_id and received_day), and a run
  parses again only the folders that are new or changed since they were parsed.

  A folder's `folder_listing` is a hash of the reader's version (the parse SQL the reader
  generates, so a change to the declared schema, the rules or the segment_sources var counts)
  and of its listing: every .gz file's path, size and modification time. A file added, replaced
  or removed after the folder was parsed changes it, and the folder is parsed again, whole: a
  late file is never missed, and a rerun over unchanged folders parses nothing and reads the
  same rows. Every row carries its folder's listing; a folder whose files gave no line keeps no
  row, so it is listed as stale on every run (and costs only its listing).

  Why not dbt's own incremental predicates: which partitions to rewrite depends on the files on
  disk compared with what the table holds, which is known only at run time (run_query), and a
  partition that must go (its folder removed, or all its files now unreadable) must be dropped,
  which an insert overwrite of no rows never does.
-#}

{#- The reader's version: a hash of the parse SQL it generates for `table_name`, with a fixed
    placeholder for the folders. -#}
{% macro segment_reader_version(table_name) %}
    {{ return(local_md5(segment_base_lines(table_name, 'reader-version', create_view=false))) }}
{% endmacro %}

{#- The folders of the run's window whose layer partition is out of date, as a list of
    {source_id, received_day (date), listing}: listing is the folder's current listing hash, or
    none for a partition whose folder is gone. Empty when nothing is to be done. -#}
{% macro segment_layer_stale_folders(table_name, layer) %}
    {%- set days = [] -%}
    {%- for day in received_days() -%}{%- do days.append(day.isoformat()) -%}{%- endfor -%}
    {%- if not segment_queries_data() -%}
        {#- compile, docs: the SQL that parses every folder of the window (listing unknown) -#}
        {%- set every = [] -%}
        {%- for key in segment_source_table_keys(table_name) -%}
            {%- for day in received_days() -%}
                {%- do every.append({'source_id': run_vars()['segment_sources'][key], 'received_day': day, 'listing': 'not-listed'}) -%}
            {%- endfor -%}
        {%- endfor -%}
        {{ return(every) }}
    {%- endif -%}
    {%- set existing = adapter.get_relation(database=layer.database, schema=layer.schema, identifier=layer.identifier) -%}
    {%- set query -%}
        with

        listed as (
            select
                {{ segment_file_source_id('path') }} as source_id,
                {{ segment_file_received_day('path') }} as received_day,
                concat_ws(' ', path, cast(length as string), cast(modificationTime as bigint)) as entry
            from {{ segment_raw_view(table_name, 'binaryFile') }}
            where path rlike '{{ segment_file_pattern() }}'
        ),

        folders as (
            select
                source_id,
                received_day,
                sha2(concat_ws('\n', '{{ segment_reader_version(table_name) }}', array_join(array_sort(collect_list(entry)), '\n')), 256) as listing
            from listed
            group by source_id, received_day
        ),

        parsed as (
            {%- if existing %}
            select distinct source_id, received_day, folder_listing
            from {{ existing }}
            where received_day in {{ sql_string_list(days) }}
            {%- else %}
            select cast(null as string) as source_id, cast(null as date) as received_day, cast(null as string) as folder_listing
            where false
            {%- endif %}
        )

        select
            coalesce(folders.source_id, parsed.source_id) as source_id,
            coalesce(folders.received_day, parsed.received_day) as received_day,
            folders.listing
        from folders
        full outer join parsed
            on folders.source_id = parsed.source_id
            and folders.received_day = parsed.received_day
            and folders.listing = parsed.folder_listing
        where folders.listing is null or parsed.folder_listing is null
    {%- endset -%}
    {%- set found = [] -%}
    {%- for row in run_query(query) -%}
        {%- do found.append({'source_id': row[0], 'received_day': row[1], 'listing': row[2]}) -%}
    {%- endfor -%}
    {{ return(found) }}
{% endmacro %}

{#- Pre-hook of a parsed-lines model: drop the partitions about to be parsed again and those whose
    folder is gone (a run that dies after this finds them missing, hence stale, and parses them). -#}
{% macro segment_layer_drop_stale(table_name) %}
    {%- set existing = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- if not execute or not existing -%}{{ return('') }}{%- endif -%}
    {%- set specs = [] -%}
    {%- for folder in segment_layer_stale_folders(table_name, this) -%}
        {%- do specs.append("partition (source_id = '" ~ folder.source_id ~ "', received_day = '" ~ folder.received_day ~ "')") -%}
    {%- endfor -%}
    {%- if specs -%}
        {{ return('alter table ' ~ existing ~ ' drop if exists ' ~ (specs | join(', '))) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}

{#- The body of a parsed-lines model: the lines of the stale folders, parsed (segment_base_lines),
    each with its folder's listing; no row when every folder of the window is up to date. -#}
{% macro segment_parsed_lines(table_name) %}
    {%- set stale = [] -%}
    {%- for folder in segment_layer_stale_folders(table_name, this) if folder.listing -%}
        {%- do stale.append(folder) -%}
    {%- endfor -%}
    {%- if stale -%}
        {%- set paths = [] -%}
        {%- for folder in stale -%}
            {%- do paths.append(folder.source_id ~ '/' ~ received_day_ms(folder.received_day)) -%}
        {%- endfor -%}
        {#- one glob of the stale folders: Hadoop expands {a/b,c/d} alternatives that hold a '/' -#}
        {%- set glob = run_vars()['segment_root'] ~ '/{' ~ (paths | join(',')) ~ '}' -%}
    select /*+ BROADCAST(trailers) */
        parsed.*,
        case concat(parsed.source_id, '/', cast(parsed.received_day as string))
        {%- for folder in stale %}
            when '{{ folder.source_id }}/{{ folder.received_day }}' then '{{ folder.listing }}'
        {%- endfor %}
        end as folder_listing,
        trailers.declared_bytes as file_declared_bytes
    from ({{ segment_base_lines(table_name, glob) }}) as parsed
    left join ({{ segment_file_trailers(table_name, glob) }}) as trailers
        on {{ segment_file_key('parsed.file_name') }} = trailers.file_key
    {%- else %}
    select
        parsed.*,
        cast(null as string) as folder_listing,
        cast(null as bigint) as file_declared_bytes
    from ({{ segment_base_lines(table_name) }}) as parsed
    where false
    {%- endif %}
{% endmacro %}

{#- The size each .gz file of `glob` declares for its content: a gzip file ends with the CRC-32
    and the size (ISIZE, 4 bytes little-endian, modulo 2^32) of what it holds (RFC 1952, 2.3.1).
    Read with the parse, once in a file's life; base_segment__files compares it with the bytes
    the read gave (a file cut short, or failing its CRC, gave fewer). binaryFile reads each file's
    compressed bytes for it: Spark SQL has no way to read only the last 8 (no gunzip function
    either, so the text read's own error cannot be seen: ignoreCorruptFiles swallows it). -#}
{% macro segment_file_trailers(table_name, glob) %}
    select
        {{ segment_file_key('path') }} as file_key,
        cast(conv(concat(
            hex(substring(content, -1, 1)), hex(substring(content, -2, 1)),
            hex(substring(content, -3, 1)), hex(substring(content, -4, 1))), 16, 10) as bigint) as declared_bytes
    from {{ segment_raw_view(table_name, 'binaryFile', glob, view_suffix='trailers') }}
    -- a gzip file has at least a 10-byte header and the 8-byte trailer
    where path rlike '{{ segment_file_pattern() }}' and length >= 18
{% endmacro %}

{#- The lines of the run's folders (received days D-L-1..D) in a parsed layer: what every model
    reads from it (the layer keeps the folders of earlier runs too). -#}
{% macro segment_window_lines(layer) %}
    {%- set days = [] -%}
    {%- for day in received_days() -%}{%- do days.append(day.isoformat()) -%}{%- endfor -%}
    select *
    from {{ layer }}
    where received_day in {{ sql_string_list(days) }}
{% endmacro %}
