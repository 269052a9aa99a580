-- redshift_shim: the few Amazon Redshift functions PostgreSQL 15 lacks, so that the legacy
-- queries in legacy/redshift/ run unchanged on the local PostgreSQL (the parity harness,
-- `seglog parity`). Each function says what Redshift does and how the shim matches it.
--
-- The harness runs every legacy query with
--     set search_path = redshift_shim, pg_catalog, public;
-- With pg_catalog listed AFTER redshift_shim, a shim function with exactly the signature of
-- a built-in one wins (that is how avg(integer) gets Redshift's BIGINT result); for other
-- signatures PostgreSQL picks the best match by argument types, so each shim takes `text`
-- where Redshift's function takes VARCHAR (the raw tables' JSON columns are text, and there
-- is no implicit cast from text to json: pg_catalog.json_extract_path_text(json, …) is never
-- a candidate for a text column). tests/python/test_parity_shim.py checks each function on
-- Redshift's documented examples, through that search_path.
--
-- Loaded by the harness into the `parity` database; rerunnable (drops and recreates the schema).

drop schema if exists redshift_shim cascade;
create schema redshift_shim;
set search_path = redshift_shim, pg_catalog;

-- ---------------------------------------------------------------------------------------
-- Date parts. Redshift accepts many spellings of a date part (DATEADD/DATEDIFF/DATE_TRUNC):
-- year y yr yrs, quarter qtr qtrs, month mon mons, week w weeks, day d days, hour h hr hrs,
-- minute m min mins, second s sec secs, millisecond ms msec msecs msecond mseconds millisec
-- millisecs millisecon, microsecond us usec usecs usecond useconds microsec microsecs.
-- They are written quoted here ('day'), which both Redshift and PostgreSQL parse.
create function _datepart(part text) returns text
language plpgsql immutable parallel safe as $$
declare p text := lower(trim(part));
begin
    return case
        when p in ('year', 'years', 'y', 'yr', 'yrs') then 'year'
        when p in ('quarter', 'quarters', 'qtr', 'qtrs') then 'quarter'
        when p in ('month', 'months', 'mon', 'mons') then 'month'
        when p in ('week', 'weeks', 'w') then 'week'
        when p in ('day', 'days', 'd') then 'day'
        when p in ('hour', 'hours', 'h', 'hr', 'hrs') then 'hour'
        when p in ('minute', 'minutes', 'm', 'min', 'mins') then 'minute'
        when p in ('second', 'seconds', 's', 'sec', 'secs') then 'second'
        when p in ('millisecond', 'milliseconds', 'ms', 'msec', 'msecs', 'msecond', 'mseconds',
                   'millisec', 'millisecs', 'millisecon') then 'millisecond'
        when p in ('microsecond', 'microseconds', 'us', 'usec', 'usecs', 'usecond', 'useconds',
                   'microsec', 'microsecs') then 'microsecond'
        else _unsupported_datepart(part)
    end;
end $$;

create function _unsupported_datepart(part text) returns text
language plpgsql immutable as $$
begin
    raise exception 'redshift_shim: date part % is not supported by the shim (see legacy/shim/redshift_shim.sql)', quote_literal(part);
end $$;

-- ---------------------------------------------------------------------------------------
-- CONVERT_TIMEZONE(['source_tz',] 'target_tz', timestamp) → TIMESTAMP (no time zone).
-- Redshift reads the timestamp as wall-clock time in the source zone (UTC when omitted) and
-- returns the wall-clock time in the target zone. The shim: (ts AT TIME ZONE source) makes a
-- timestamptz from the source wall clock, AT TIME ZONE target turns it back into a wall clock.
create function convert_timezone(source_tz text, target_tz text, ts timestamp) returns timestamp
language sql immutable parallel safe as $$ select ($3 at time zone $1) at time zone $2 $$;

create function convert_timezone(target_tz text, ts timestamp) returns timestamp
language sql immutable parallel safe as $$ select ($2 at time zone 'UTC') at time zone $1 $$;

-- ---------------------------------------------------------------------------------------
-- DATEADD(datepart, n, date|timestamp) → TIMESTAMP. Redshift adds n date parts; adding months
-- to the 31st clamps to the month's last day (dateadd('month', 1, '2008-01-31') = 2008-02-29),
-- as PostgreSQL's interval arithmetic does. A date argument is cast to timestamp (PostgreSQL's
-- implicit date → timestamp cast), so the result is a timestamp, as in Redshift.
create function dateadd(datepart text, n bigint, ts timestamp) returns timestamp
language sql immutable parallel safe as $$
    select case _datepart($1)
        when 'quarter' then $3 + $2 * interval '3 months'
        else $3 + $2 * ('1 ' || _datepart($1))::interval
    end
$$;

-- ---------------------------------------------------------------------------------------
-- DATEDIFF(datepart, start, end) → BIGINT. Redshift counts the date-part BOUNDARIES crossed
-- going from start to end, not whole elapsed units: datediff('day', '2020-01-01 23:59',
-- '2020-01-02 00:01') = 1, datediff('second', '…:00.900', '…:01.100') = 1. The shim truncates
-- both to the date part and counts the units between them. Weeks: Redshift's week boundaries
-- are taken as Mondays (date_trunc('week'), ISO weeks) — an assumption, stated here because the
-- documented examples do not tell Mondays from Sundays.
create function datediff(datepart text, t0 timestamp, t1 timestamp) returns bigint
language sql immutable parallel safe as $$
    select case _datepart($1)
        when 'year' then extract(year from $3)::bigint - extract(year from $2)::bigint
        when 'quarter' then (extract(year from $3)::bigint * 4 + extract(quarter from $3)::bigint)
                          - (extract(year from $2)::bigint * 4 + extract(quarter from $2)::bigint)
        when 'month' then (extract(year from $3)::bigint * 12 + extract(month from $3)::bigint)
                        - (extract(year from $2)::bigint * 12 + extract(month from $2)::bigint)
        when 'week' then (date_trunc('week', $3)::date - date_trunc('week', $2)::date) / 7
        when 'day' then $3::date - $2::date
        when 'hour' then ((extract(epoch from date_trunc('hour', $3)) - extract(epoch from date_trunc('hour', $2))) / 3600)::bigint
        when 'minute' then ((extract(epoch from date_trunc('minute', $3)) - extract(epoch from date_trunc('minute', $2))) / 60)::bigint
        when 'second' then (extract(epoch from date_trunc('second', $3)) - extract(epoch from date_trunc('second', $2)))::bigint
        when 'millisecond' then ((extract(epoch from date_trunc('milliseconds', $3)) - extract(epoch from date_trunc('milliseconds', $2))) * 1000)::bigint
        when 'microsecond' then ((extract(epoch from $3) - extract(epoch from $2)) * 1000000)::bigint
    end
$$;

-- ---------------------------------------------------------------------------------------
-- TRUNC(timestamp) → DATE. Redshift's TRUNC of a timestamp drops the time (PostgreSQL's trunc
-- takes numbers only).
create function trunc(ts timestamp) returns date
language sql immutable parallel safe as $$ select $1::date $$;

-- GETDATE() → TIMESTAMP: the current UTC time (the session time zone, UTC by default in
-- Redshift) without fractional seconds. Not deterministic: a legacy query that uses it cannot
-- be compared on fixture data (use the :'ymd' parameter instead). SYSDATE is a keyword in
-- Redshift and cannot be shimmed.
create function getdate() returns timestamp
language sql stable parallel safe as $$ select date_trunc('second', now() at time zone 'UTC') $$;

-- ---------------------------------------------------------------------------------------
-- NVL(expr, expr [, expr]) = COALESCE; NVL2(expr, if_not_null, if_null).
create function nvl(a anycompatible, b anycompatible) returns anycompatible
language sql immutable parallel safe as $$ select coalesce($1, $2) $$;

create function nvl(a anycompatible, b anycompatible, c anycompatible) returns anycompatible
language sql immutable parallel safe as $$ select coalesce($1, $2, $3) $$;

create function nvl2(expr anyelement, if_not_null anycompatible, if_null anycompatible) returns anycompatible
language sql immutable parallel safe as $$ select case when $1 is not null then $2 else $3 end $$;

-- ---------------------------------------------------------------------------------------
-- JSON_EXTRACT_PATH_TEXT(json_string, path_elem [, path_elem …] [, null_if_invalid]) → VARCHAR.
-- Redshift (current documentation): the value at the path of object keys (up to 5 levels),
-- strings without their quotes, other values as their JSON text; NULL when a path element
-- does not exist (Redshift once returned an empty string here: queries written then wrap it in
-- NULLIF(…, ''), which also turns a real "" into NULL); a JSON null value gives NULL; invalid
-- JSON is an error, or NULL when null_if_invalid is true. Path elements are keys only: a
-- path through an array or a scalar gives NULL. NULL input gives NULL.
-- The shim walks the keys over PostgreSQL's json type (which keeps a nested object's text
-- exactly as stored) and returns ->> of the last key.
create function json_extract_path_text(json_string text, variadic path_elems text[]) returns text
language plpgsql immutable strict parallel safe as $$
declare
    node json := json_string::json;  -- invalid JSON raises, as Redshift does by default
    i int;
begin
    for i in 1 .. coalesce(array_length(path_elems, 1), 0) - 1 loop
        if json_typeof(node) is distinct from 'object' then
            return null;
        end if;
        node := node -> path_elems[i];
    end loop;
    if json_typeof(node) is distinct from 'object' then
        return null;
    end if;
    return node ->> path_elems[array_length(path_elems, 1)];
end $$;

create function _json_extract_path_text_or_null(json_string text, path_elems text[], null_if_invalid boolean)
returns text language plpgsql immutable parallel safe as $$
begin
    return json_extract_path_text(json_string, variadic path_elems);
exception when invalid_text_representation then  -- 22P02: invalid input syntax for type json
    if null_if_invalid then
        return null;
    end if;
    raise;
end $$;

create function json_extract_path_text(j text, p1 text, null_if_invalid boolean) returns text
language sql immutable parallel safe as $$ select _json_extract_path_text_or_null($1, array[$2], $3) $$;
create function json_extract_path_text(j text, p1 text, p2 text, null_if_invalid boolean) returns text
language sql immutable parallel safe as $$ select _json_extract_path_text_or_null($1, array[$2, $3], $4) $$;
create function json_extract_path_text(j text, p1 text, p2 text, p3 text, null_if_invalid boolean) returns text
language sql immutable parallel safe as $$ select _json_extract_path_text_or_null($1, array[$2, $3, $4], $5) $$;
create function json_extract_path_text(j text, p1 text, p2 text, p3 text, p4 text, null_if_invalid boolean) returns text
language sql immutable parallel safe as $$ select _json_extract_path_text_or_null($1, array[$2, $3, $4, $5], $6) $$;
create function json_extract_path_text(j text, p1 text, p2 text, p3 text, p4 text, p5 text, null_if_invalid boolean)
returns text language sql immutable parallel safe as $$ select _json_extract_path_text_or_null($1, array[$2, $3, $4, $5, $6], $7) $$;

-- JSON_EXTRACT_ARRAY_ELEMENT_TEXT(json_string, pos [, null_if_invalid]) → VARCHAR.
-- Redshift: element pos (zero-based) of the outermost array, strings unquoted; NULL when pos
-- is negative or out of range (PostgreSQL's ->> would count a negative pos from the end: the
-- shim refuses it) or the value is not an array; invalid JSON is an error unless
-- null_if_invalid.
create function json_extract_array_element_text(json_string text, pos int) returns text
language sql immutable strict parallel safe as $$
    select case when $2 >= 0 and json_typeof($1::json) = 'array' then ($1::json) ->> $2 end
$$;

create function json_extract_array_element_text(json_string text, pos int, null_if_invalid boolean) returns text
language plpgsql immutable parallel safe as $$
begin
    return json_extract_array_element_text(json_string, pos);
exception when invalid_text_representation then
    if null_if_invalid then
        return null;
    end if;
    raise;
end $$;

-- JSON_ARRAY_LENGTH(json_string [, null_if_invalid]) → INTEGER: the number of elements of the
-- outermost array (pg_catalog's version takes json, not text).
create function json_array_length(json_string text) returns int
language sql immutable strict parallel safe as $$ select pg_catalog.json_array_length($1::json) $$;

-- ---------------------------------------------------------------------------------------
-- MEDIAN(expr) → the middle value; on an even count the AVERAGE of the two middle values
-- (Redshift's MEDIAN is PERCENTILE_CONT(0.5)); NULLs ignored; usable as a window function
-- (MEDIAN(x) OVER (PARTITION BY …)). Return type as Redshift: DECIMAL for integer and decimal
-- input, DOUBLE PRECISION for floating point. The shim collects the values and averages the
-- one or two middle ones.
create function _median_numeric(vals numeric[]) returns numeric
language sql immutable parallel safe as $$
    with v as (select x from unnest($1) as x where x is not null),
         n as (select count(*) as n from v)
    select avg(x) from (
        select x from v order by x
        offset ((select n from n) - 1) / 2
        limit 2 - (select n from n) % 2
    ) as middle
$$;

create function _median_float8(vals double precision[]) returns double precision
language sql immutable parallel safe as $$
    with v as (select x from unnest($1) as x where x is not null),
         n as (select count(*) as n from v)
    select avg(x) from (
        select x from v order by x
        offset ((select n from n) - 1) / 2
        limit 2 - (select n from n) % 2
    ) as middle
$$;

-- One transition function per input type (an aggregate's state function must take the input
-- type exactly).
create function _median_step(s numeric[], x numeric) returns numeric[] language sql immutable parallel safe as $$ select $1 || $2 $$;
create function _median_step(s numeric[], x bigint) returns numeric[] language sql immutable parallel safe as $$ select $1 || $2::numeric $$;
create function _median_step(s numeric[], x integer) returns numeric[] language sql immutable parallel safe as $$ select $1 || $2::numeric $$;
create function _median_step(s numeric[], x smallint) returns numeric[] language sql immutable parallel safe as $$ select $1 || $2::numeric $$;
create function _median_step(s double precision[], x double precision) returns double precision[] language sql immutable parallel safe as $$ select $1 || $2 $$;
create function _median_step(s double precision[], x real) returns double precision[] language sql immutable parallel safe as $$ select $1 || $2::double precision $$;

create aggregate median(numeric) (sfunc = _median_step, stype = numeric[], finalfunc = _median_numeric, initcond = '{}');
create aggregate median(bigint) (sfunc = _median_step, stype = numeric[], finalfunc = _median_numeric, initcond = '{}');
create aggregate median(integer) (sfunc = _median_step, stype = numeric[], finalfunc = _median_numeric, initcond = '{}');
create aggregate median(smallint) (sfunc = _median_step, stype = numeric[], finalfunc = _median_numeric, initcond = '{}');
create aggregate median(double precision) (sfunc = _median_step, stype = double precision[], finalfunc = _median_float8, initcond = '{}');
create aggregate median(real) (sfunc = _median_step, stype = double precision[], finalfunc = _median_float8, initcond = '{}');

-- ---------------------------------------------------------------------------------------
-- AVG(integer) → BIGINT. Redshift returns BIGINT for AVG of any integer type: the mean with
-- its fraction dropped (avg of 1 and 2 is 1); PostgreSQL returns NUMERIC (1.5). Spark returns
-- DOUBLE (1.5): a conversion that wants the fraction must say so in Redshift with
-- avg(x::float) or avg(x::decimal(…)). The shim (same signature as pg_catalog.avg, found
-- first on the search path) keeps the sum and count and truncates toward zero.
create function _avg_int_final(state numeric[]) returns bigint
language sql immutable parallel safe as $$
    select case when $1[2] > 0 then trunc($1[1] / $1[2])::bigint end
$$;

create function _avg_int_step(state numeric[], x bigint) returns numeric[]
language sql immutable parallel safe as $$ select case when $2 is null then $1 else array[$1[1] + $2, $1[2] + 1] end $$;
create function _avg_int_step(state numeric[], x integer) returns numeric[]
language sql immutable parallel safe as $$ select case when $2 is null then $1 else array[$1[1] + $2, $1[2] + 1] end $$;
create function _avg_int_step(state numeric[], x smallint) returns numeric[]
language sql immutable parallel safe as $$ select case when $2 is null then $1 else array[$1[1] + $2, $1[2] + 1] end $$;

create aggregate avg(smallint) (sfunc = _avg_int_step, stype = numeric[], finalfunc = _avg_int_final, initcond = '{0,0}');
create aggregate avg(integer) (sfunc = _avg_int_step, stype = numeric[], finalfunc = _avg_int_final, initcond = '{0,0}');
create aggregate avg(bigint) (sfunc = _avg_int_step, stype = numeric[], finalfunc = _avg_int_final, initcond = '{0,0}');

-- LISTAGG(expr, delimiter) → VARCHAR, as a plain aggregate (string_agg). Redshift's
-- `LISTAGG(x, ',') WITHIN GROUP (ORDER BY y)` cannot be shimmed: PostgreSQL allows WITHIN GROUP
-- only for ordered-set aggregates, whose aggregated argument is the ORDER BY expression.
-- Without WITHIN GROUP the order of the list is undefined in both databases.
create aggregate listagg(text, text) (sfunc = pg_catalog.string_agg_transfn, stype = internal,
                                      finalfunc = pg_catalog.string_agg_finalfn);

-- ---------------------------------------------------------------------------------------
-- F_URL_DECODE(varchar) → VARCHAR: the URL-decoded text ('+' is a space, %XX a byte, the bytes
-- read as UTF-8). Not a Redshift built-in (Redshift has no URL decoding at all): on Redshift it
-- is the analytics team's scalar Python UDF (f_ is the prefix Redshift reserves for UDFs), which
-- search_keywords_daily (Q14) uses to read the Korean keywords of ?q=… query strings:
--
--   create or replace function f_url_decode(s varchar(max)) returns varchar(max) immutable as $$
--       import urllib
--       if s is None:
--           return None
--       if isinstance(s, unicode):
--           s = s.encode('utf-8')
--       return urllib.unquote_plus(s).decode('utf-8', 'replace')
--   $$ language plpythonu;
--
-- (AWS is retiring Python UDFs in favour of Lambda UDFs; the same few lines of Python run there.)
-- What it returns, and the shim with it: '+' → ' '; '%' and two hex digits (either case) → that
-- byte ('%2B' is a '+', not a space); a '%' not followed by two hex digits is kept as it is
-- (urllib's unquote: '50%' stays '50%'); other characters unchanged; then the bytes are read as
-- UTF-8 with every ill-formed sequence replaced by U+FFFD, one per maximal ill-formed subpart
-- (Unicode's recommended practice, which Python's 'replace' handler and Java's decoder follow:
-- the truncated '%ED%8A' of '…%EB%9E%80%ED%8A' gives one U+FFFD after '임플란'; Python 2.7's
-- decoder may differ on rarer forms, such as encoded surrogates, that search keys do not send).
-- NULL gives NULL. The shim is plpgsql (the local PostgreSQL has no plpython).
create function _utf8_decode_replace(b bytea) returns text
language plpgsql immutable strict parallel safe as $$
declare
    result text := '';
    n int := length(b);
    i int := 0;       -- get_byte is 0-based
    lead_byte int;
    need int;         -- continuation bytes the lead byte announces
    j int;
    lo int;
    hi int;
begin
    while i < n loop
        lead_byte := get_byte(b, i);
        if lead_byte < 128 then need := 0;
        elsif lead_byte between 194 and 223 then need := 1;   -- C2..DF
        elsif lead_byte between 224 and 239 then need := 2;   -- E0..EF
        elsif lead_byte between 240 and 244 then need := 3;   -- F0..F4
        else                                                  -- 80..C1, F5..FF: never a lead byte
            result := result || chr(65533);
            i := i + 1;
            continue;
        end if;
        j := 1;
        while j <= need and i + j < n loop
            lo := 128; hi := 191;                               -- 80..BF, narrower after E0/ED/F0/F4
            if j = 1 then
                if lead_byte = 224 then lo := 160;              -- E0 A0..BF (no overlong forms)
                elsif lead_byte = 237 then hi := 159;           -- ED 80..9F (no surrogates)
                elsif lead_byte = 240 then lo := 144;           -- F0 90..BF (no overlong forms)
                elsif lead_byte = 244 then hi := 143;           -- F4 80..8F (nothing above U+10FFFF)
                end if;
            end if;
            exit when get_byte(b, i + j) not between lo and hi;
            j := j + 1;
        end loop;
        if j > need then                                        -- a well-formed character
            result := result || convert_from(substring(b from i + 1 for need + 1), 'UTF8');
            i := i + need + 1;
        else                                                    -- its maximal ill-formed subpart
            result := result || chr(65533);
            i := i + j;
        end if;
    end loop;
    return result;
end $$;

create function f_url_decode(s text) returns text
language plpgsql immutable strict parallel safe as $$
declare
    raw bytea := '';
    n int := length(s);
    i int := 1;
    c text;
begin
    if position('%' in s) = 0 and position('+' in s) = 0 then
        return s;
    end if;
    while i <= n loop
        c := substr(s, i, 1);
        if c = '+' then
            raw := raw || '\x20'::bytea;
            i := i + 1;
        elsif c = '%' and substr(s, i + 1, 2) ~ '^[0-9A-Fa-f]{2}$' then
            raw := raw || decode(substr(s, i + 1, 2), 'hex');
            i := i + 3;
        else
            raw := raw || convert_to(c, 'UTF8');
            i := i + 1;
        end if;
    end loop;
    return _utf8_decode_replace(raw);
end $$;
