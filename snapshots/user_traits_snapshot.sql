{#-
  Q18: the history of each user's traits (dbt snapshot, check strategy). Every run compares
  the latest traits in int_users (what dim_users shows) with the current snapshot row of the
  user id: a changed
  customer id or traits object closes the current row (dbt_valid_to) and opens a new one.
  Parquet has no MERGE: macros/materializations/snapshot_parquet.sql rewrites the table.
  dbt_valid_from is the time of the snapshot run, not of the identify call (traits_at_utc
  keeps that).
-#}
{% snapshot user_traits_snapshot %}

{{
    config(
        schema='snapshots',
        unique_key='user_id',
        strategy='check',
        check_cols=['customer_id', 'traits'],
        file_format='parquet',
    )
}}

    select
        user_id,
        customer_id,
        traits,
        traits_at_utc
    from {{ latest_state(ref('int_users'), 'state_partition') }} as state
    where user_id is not null

{% endsnapshot %}
