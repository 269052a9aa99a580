-- Q12 retention_weekly_cohorts (docs/queries.md Q12): of the users first seen in week W, how many
-- came back in week W+n (n = 0..12); the rows of the activity week that holds one KST date.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events table.
-- Parameter: :'ymd' = a KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2021-01-02 -f legacy/redshift/retention_weekly_cohorts.sql; the harness
--   substitutes the last fixture date of each week). The query returns the rows of the week
--   holding the date (activity_ywd, the mart's partition), as known at the end of that date:
--   the current week's rows grow until it ends.
-- Reads: legacy_raw.web_app_events (one row per delivery; legacy/raw_tables.sql): the events up
--   to the end of the date (first-seen weeks need the history before it), and every event
--   carrying both ids for the identity links.
-- Returns every column of marts.retention_weekly_cohorts, one row per (cohort_ywd, weeks_since)
--   for the activity week: every cohort of the 12 weeks before it and of the week itself.
-- Rules (docs/queries.md Q12, "Calendar keys", "User key"):
--   * events deduplicated by messageId (earliest received_at);
--   * user key = the event's user_id, else the user id its anonymous id is stitched to (the
--     earliest identify call carrying both ids, else the earliest event of any type carrying
--     both; ties by message_id), else the anonymous id; events with neither id are left out;
--   * weeks start on Sunday: ywd = trunc(date_trunc('week', kst + 1 day) - 1 day) (Redshift's
--     date_trunc('week') is Monday-based); weeks are dates, so W+n crosses New Year like any week;
--   * cohort_ywd = the week of a user key's first-ever event; cohort_size = its distinct keys;
--   * retained_users = cohort keys with an event in the activity week (activity_ywd);
--     weeks_since = (activity_ywd - cohort_ywd) / 7; retention_rate = retained / size as
--     DOUBLE PRECISION (an integer division would give 0).

with deliveries as (
    select
        e.*,
        row_number() over (partition by e.message_id order by e.received_at) as delivery_rank
    from legacy_raw.web_app_events as e
),

events as (
    select
        message_id,
        anonymous_id,
        user_id,
        type,
        "timestamp" as event_at_utc,
        convert_timezone('UTC', 'Asia/Seoul', "timestamp") as kst
    from deliveries
    where delivery_rank = 1
),

links as (
    select
        anonymous_id,
        user_id,
        row_number() over (
            partition by anonymous_id
            order by case when type = 'identify' then 0 else 1 end, event_at_utc, message_id
        ) as link_rank
    from events
    where anonymous_id is not null and user_id is not null
),

activity as (
    select
        ev.kst,
        nvl(ev.user_id, links.user_id, ev.anonymous_id) as user_key
    from events as ev
    left join links on ev.anonymous_id = links.anonymous_id and links.link_rank = 1
    where
        ev.kst < dateadd('day', 1, :'ymd'::date)
        and nvl(ev.anonymous_id, ev.user_id) is not null
),

activity_week as (
    select trunc(dateadd('day', -1, date_trunc('week', dateadd('day', 1, :'ymd'::date)))) as activity_ywd
),

cohorts as (
    select
        user_key,
        trunc(dateadd('day', -1, date_trunc('week', dateadd('day', 1, min(kst))))) as cohort_ywd
    from activity
    group by user_key
),

cohort_sizes as (
    select
        cohorts.cohort_ywd,
        activity_week.activity_ywd,
        count(distinct cohorts.user_key) as cohort_size
    from cohorts
    cross join activity_week
    where datediff('day', cohorts.cohort_ywd, activity_week.activity_ywd) between 0 and 12 * 7
    group by cohorts.cohort_ywd, activity_week.activity_ywd
),

week_users as (
    select distinct activity.user_key
    from activity
    cross join activity_week
    where activity.kst >= activity_week.activity_ywd
),

retained as (
    select
        cohorts.cohort_ywd,
        count(distinct cohorts.user_key) as retained_users
    from cohorts
    inner join week_users on cohorts.user_key = week_users.user_key
    group by cohorts.cohort_ywd
)

select
    cohort_sizes.cohort_ywd,
    (datediff('day', cohort_sizes.cohort_ywd, cohort_sizes.activity_ywd) / 7)::integer as weeks_since,
    cohort_sizes.cohort_size,
    nvl(retained.retained_users, 0) as retained_users,
    nvl(retained.retained_users, 0)::float8 / cohort_sizes.cohort_size as retention_rate,
    cohort_sizes.activity_ywd
from cohort_sizes
left join retained on cohort_sizes.cohort_ywd = retained.cohort_ywd
