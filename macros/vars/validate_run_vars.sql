{#-
  Run vars, validated before anything runs.

  Every model reads its vars through `run_vars()`. dbt renders each model while parsing the
  project (and reparses whenever --vars change), so a bad value stops the invocation at parse
  time: before a Spark session starts and before any file is read. The same rules live in
  scripts/seglog/run_request.py for the CLI and the EMR job, which refuses bad values before it calls dbt.
-#}

{% macro _fail_var(name, value, rule, example) %}
    {{ exceptions.raise_compiler_error(
        "Invalid var '" ~ name ~ "': " ~ (value | string | tojson) ~ " — " ~ rule
        ~ ". Example: --vars '" ~ example ~ "'") }}
{% endmacro %}

{% macro run_vars() %}
    {%- set raw_date = var('date', none) -%}
    {%- if raw_date is none or (raw_date | string | trim) == '' -%}
        {{ _fail_var('date', raw_date, 'a KST business date is required in the form YYYY-MM-DD', '{date: 2023-11-08}') }}
    {%- endif -%}
    {#- YAML turns an unquoted 2023-11-08 into a date object: accept it as its ISO text. -#}
    {%- set date_text = raw_date.isoformat() if raw_date is not string and raw_date.isoformat is defined else raw_date | string -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', date_text) -%}
        {{ _fail_var('date', raw_date, 'must be a real calendar date in the form YYYY-MM-DD', '{date: 2023-11-08}') }}
    {%- endif -%}
    {#- Checked by hand because Jinja cannot catch strptime's error: month 01-12, day within the month. -#}
    {%- set ns = namespace(parsed=none) -%}
    {%- if modules.re.fullmatch('[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])', date_text) -%}
        {%- set y, m, d = date_text.split('-') | map('int') | list -%}
        {%- set leap = (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) -%}
        {%- set last = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] -%}
        {%- if d <= last and y >= 1 -%}
            {%- set ns.parsed = modules.datetime.date(y, m, d) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if ns.parsed is none -%}
        {{ _fail_var('date', raw_date, 'must be a real calendar date in the form YYYY-MM-DD', '{date: 2023-11-08}') }}
    {%- endif -%}

    {%- set late = var('late_arrival_days', 1) -%}
    {%- if late is not integer or late is boolean or late < 0 or late > 30 -%}
        {{ _fail_var('late_arrival_days', late, 'must be a whole number of days from 0 to 30', '{late_arrival_days: 1}') }}
    {%- endif -%}

    {%- set gap = var('session_inactivity_minutes', 30) -%}
    {%- if gap is not integer or gap is boolean or gap < 1 or gap > 1440 -%}
        {{ _fail_var('session_inactivity_minutes', gap, 'must be a whole number of minutes from 1 to 1440', '{session_inactivity_minutes: 30}') }}
    {%- endif -%}

    {%- set root = var('segment_root', none) -%}
    {%- if root is not string or (root | trim) == '' or not modules.re.fullmatch('[A-Za-z0-9_./:@+=-]+', root) -%}
        {{ _fail_var('segment_root', root, 'must be a path or s3:// URL made of letters, digits and _ . / : @ + = -', '{segment_root: s3://my-bucket/segment-logs}') }}
    {%- endif -%}

    {%- set sources = var('segment_sources', none) -%}
    {#- (keys compared as text: a key YAML reads as a number cannot be sorted with the names) -#}
    {%- if sources is not mapping or (sources.keys() | map('string') | list | sort) != ['app', 'procedure', 'web']
        or (sources.keys() | reject('string') | list) -%}
        {{ _fail_var('segment_sources', sources, 'must map exactly the keys web, app and procedure to Segment source ids', '{segment_sources: {web: abc, app: def, procedure: ghi}}') }}
    {%- endif -%}
    {%- for key, source_id in sources.items() -%}
        {%- if source_id is not string or not modules.re.fullmatch('[A-Za-z0-9_-]+', source_id) -%}
            {{ _fail_var('segment_sources.' ~ key, source_id, 'a Segment source id is letters, digits, _ and - only', '{segment_sources: {web: abc, app: def, procedure: ghi}}') }}
        {%- endif -%}
    {%- endfor -%}
    {%- if (sources.values() | unique(case_sensitive=true) | list | length) != 3 -%}
        {{ _fail_var('segment_sources', sources, 'the three sources need three different source ids', '{segment_sources: {web: abc, app: def, procedure: ghi}}') }}
    {%- endif -%}

    {{ return({
        'date': ns.parsed,
        'late_arrival_days': late | int,
        'session_inactivity_minutes': gap | int,
        'segment_root': root.rstrip('/'),
        'segment_sources': sources,
    }) }}
{% endmacro %}
