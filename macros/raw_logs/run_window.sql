{#-
  The run's window (see docs/data-layout.md "Dates, windows and late data").

  Business dates are KST; Segment's folders are UTC received days. KST day D spans the UTC
  folders D-1 (from 15:00) and D (until 15:00). With a late-arrival window of L days the run
  for D owns the partitions D-L..D and reads only the folders D-L-1..D: events of D-L that
  arrived up to L days late are in those folders, and the partition D is final once the run
  for D+L has passed.
-#}

{% macro run_date() %}
    {{ return(run_vars()['date']) }}
{% endmacro %}

{#- The two UTC received days that hold most of KST day `day`: D-1 (from 15:00) and D (until
    15:00); seglog.kst_calendar.utc_days in Python, which the DAG's sensors mirror. -#}
{% macro utc_days_of(day) %}
    {{ return([day - modules.datetime.timedelta(days=1), day]) }}
{% endmacro %}

{#- The KST business dates (yyyy-MM-dd) whose partitions this run rewrites: D-L..D. -#}
{% macro owned_ymds() %}
    {%- set v = run_vars() -%}
    {%- set days = [] -%}
    {%- for back in range(v['late_arrival_days'], -1, -1) -%}
        {%- do days.append((v['date'] - modules.datetime.timedelta(days=back)).isoformat()) -%}
    {%- endfor -%}
    {{ return(days) }}
{% endmacro %}

{#- The UTC received days this run reads: D-L-1..D, as dates. -#}
{% macro received_days() %}
    {%- set v = run_vars() -%}
    {%- set days = [] -%}
    {%- for back in range(v['late_arrival_days'] + 1, -1, -1) -%}
        {%- do days.append(v['date'] - modules.datetime.timedelta(days=back)) -%}
    {%- endfor -%}
    {{ return(days) }}
{% endmacro %}

{#-
  The rows of a relation in this run's owned partitions: the import CTE most models start
  from. A caller narrows it further with `and ...` on the next line.
-#}
{% macro owned_rows(relation) %}
    select *
    from {{ relation }}
    where ymd in {{ sql_string_list(owned_ymds()) }}
{%- endmacro %}

{#- Segment's folder name of a received day: UNIX ms of its 00:00 UTC. -#}
{% macro received_day_ms(day) %}
    {{ return(((day - modules.datetime.date(1970, 1, 1)).days * 86400000) | string) }}
{% endmacro %}

{#- A Spark array literal of strings, e.g. array('web', 'app'); values are validated names. -#}
{% macro sql_array(values) %}
    {{- return("array" ~ sql_string_list(values)) -}}
{% endmacro %}

{#- A SQL list literal of strings, e.g. ('2023-11-07', '2023-11-08'); values are validated dates. -#}
{% macro sql_string_list(values) %}
    {{- return("(" ~ (values | map('string') | map('tojson') | join(', ')) | replace('"', "'") ~ ")") -}}
{% endmacro %}

{#-
  Where an event stands for this run, from its KST date X and the UTC day R of the folder it
  was received in. Partition X is final after the run for X+L, which reads the folders
  X-1..X+L: an event of X belongs in the tables exactly when X-1 <= R <= X+L.
    ahead_of_receipt R < X-1: stamped two or more days after it was received (a device clock
                     ahead). The final run for X never reads its folder, so no run stages it,
                     even one that owns X: kept aside.
    owned            X is one of this run's partitions (D-L..D): staged here;
    beyond_window    R > X+L: received more than L days late; no run stages it: kept aside;
    other_run        another run owns X and reads this folder: staged there.
  The status of a line depends on X and R only, so every run that reads a folder agrees.
-#}
{% macro window_status(event_ymd, received_day) %}
    {%- set late = run_vars()['late_arrival_days'] -%}
    case
        when datediff({{ received_day }}, to_date({{ event_ymd }})) < -1 then 'ahead_of_receipt'
        when {{ event_ymd }} in {{ sql_string_list(owned_ymds()) }} then 'owned'
        when datediff({{ received_day }}, to_date({{ event_ymd }})) > {{ late }} then 'beyond_window'
        else 'other_run'
    end
{% endmacro %}

{#-
  The owned partitions plus `days_before` earlier dates (D-L-days_before..D), for models that
  need context from before the run's first partition: sessions look one day back to see
  whether the first events of D-L continue a session that began the day before; WAU/MAU
  look 29 days back. The window is fixed in days, so a run's cost does not grow with history.
-#}
{% macro window_ymds(days_before) %}
    {%- set v = run_vars() -%}
    {%- set days = [] -%}
    {%- for back in range(v['late_arrival_days'] + days_before, -1, -1) -%}
        {%- do days.append((v['date'] - modules.datetime.timedelta(days=back)).isoformat()) -%}
    {%- endfor -%}
    {{ return(days) }}
{% endmacro %}

{#- The Sundays (yyyy-MM-dd) that start the weeks of the owned partitions (ywd of D-L..D). -#}
{% macro owned_ywds() %}
    {%- set weeks = [] -%}
    {%- for ymd in owned_ymds() -%}
        {%- set day = modules.datetime.date.fromisoformat(ymd) -%}
        {#- isoweekday: Monday 1 … Sunday 7; the Sunday on or before the day. -#}
        {%- set sunday = (day - modules.datetime.timedelta(days=day.isoweekday() % 7)).isoformat() -%}
        {%- if sunday not in weeks -%}
            {%- do weeks.append(sunday) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(weeks) }}
{% endmacro %}
