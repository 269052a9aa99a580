{#-
  The run's window (see README "Dates, windows and late data").

  Business dates are KST; Segment's folders are UTC received days. KST day D spans the UTC
  folders D-1 (from 15:00) and D (until 15:00). With a late-arrival window of L days the run
  for D owns the partitions D-L..D and reads only the folders D-L-1..D: events of D-L that
  arrived up to L days late are in those folders, and the partition D is final once the run
  for D+L has passed.
-#}

{% macro run_date() %}
    {{ return(run_vars()['date']) }}
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

{#- Segment's folder name of a received day: UNIX ms of its 00:00 UTC. -#}
{% macro received_day_ms(day) %}
    {{ return(((day - modules.datetime.date(1970, 1, 1)).days * 86400000) | string) }}
{% endmacro %}

{#- A SQL list literal of strings, e.g. ('2023-11-07', '2023-11-08'); values are validated dates. -#}
{% macro sql_string_list(values) %}
    {{- return("(" ~ (values | map('string') | map('tojson') | join(', ')) | replace('"', "'") ~ ")") -}}
{% endmacro %}

{#-
  Where an event stands for this run, from its KST date and the folder it was received in:
    owned            its date is one of this run's partitions: staged here;
    other_run        another run's partitions; that run reads this folder and stages it;
    beyond_window    received more than L days after its date: no run will stage it, kept aside;
    ahead_of_receipt its timestamp is more than a day after its receipt (a wrong device
                     clock): no run will stage it, kept aside.
-#}
{% macro window_status(event_ymd, received_day) %}
    {%- set v = run_vars() -%}
    {%- set late = v['late_arrival_days'] -%}
    case
        when {{ event_ymd }} in {{ sql_string_list(owned_ymds()) }} then 'owned'
        when datediff({{ received_day }}, to_date({{ event_ymd }})) > {{ late }} then 'beyond_window'
        when datediff({{ received_day }}, to_date({{ event_ymd }})) < {{ -late - 1 }} then 'ahead_of_receipt'
        else 'other_run'
    end
{% endmacro %}
