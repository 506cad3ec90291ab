-- xuncha's SQL functions as DuckDB macros, so that the rules run on DuckDB
-- unchanged but for the mechanical rewrites of translate.py.
CREATE OR REPLACE MACRO to_char(d, f) AS strftime(d, f);
CREATE OR REPLACE MACRO regexp_like(s, p) AS regexp_matches(s, p);
CREATE OR REPLACE MACRO month_start(period) AS CAST(strptime(period || '-01', '%Y-%m-%d') AS DATE);
CREATE OR REPLACE MACRO month_end(period) AS CAST(last_day(CAST(strptime(period || '-01', '%Y-%m-%d') AS DATE)) AS DATE);
CREATE OR REPLACE MACRO age_on(birth, d) AS
    CAST(date_part('year', d) - date_part('year', birth)
         - CASE WHEN strftime(d, '%m%d') < strftime(birth, '%m%d') THEN 1 ELSE 0 END AS INTEGER);
-- CONTRACT §3: no white space (ASCII or Unicode, such as the ideographic
-- space), every middle dot one dot. (DuckDB has no NFKC;
-- full-width letters in names would differ, and the result check would say so.)
CREATE OR REPLACE MACRO norm_name(n) AS
    regexp_replace(regexp_replace(n, '[\s\p{Z}]', '', 'g'), '[·•・･．‧.∙⋅]', '·', 'g');
-- GB 11643: 18 characters, 17 digits and the check character, a real birth date.
CREATE OR REPLACE MACRO id_valid(id) AS
    coalesce(length(id) = 18 AND regexp_full_match(id, '[0-9]{17}[0-9X]')
    AND try_strptime(substr(id, 7, 8), '%Y%m%d') IS NOT NULL
    AND substr(id, 7, 4) <> '0000'
    AND substr('10X98765432', CAST((
          7 * TRY_CAST(substr(id, 1, 1) AS INTEGER) + 9 * TRY_CAST(substr(id, 2, 1) AS INTEGER)
        + 10 * TRY_CAST(substr(id, 3, 1) AS INTEGER) + 5 * TRY_CAST(substr(id, 4, 1) AS INTEGER)
        + 8 * TRY_CAST(substr(id, 5, 1) AS INTEGER) + 4 * TRY_CAST(substr(id, 6, 1) AS INTEGER)
        + 2 * TRY_CAST(substr(id, 7, 1) AS INTEGER) + 1 * TRY_CAST(substr(id, 8, 1) AS INTEGER)
        + 6 * TRY_CAST(substr(id, 9, 1) AS INTEGER) + 3 * TRY_CAST(substr(id, 10, 1) AS INTEGER)
        + 7 * TRY_CAST(substr(id, 11, 1) AS INTEGER) + 9 * TRY_CAST(substr(id, 12, 1) AS INTEGER)
        + 10 * TRY_CAST(substr(id, 13, 1) AS INTEGER) + 5 * TRY_CAST(substr(id, 14, 1) AS INTEGER)
        + 8 * TRY_CAST(substr(id, 15, 1) AS INTEGER) + 4 * TRY_CAST(substr(id, 16, 1) AS INTEGER)
        + 2 * TRY_CAST(substr(id, 17, 1) AS INTEGER)) % 11 + 1 AS INTEGER), 1) = substr(id, 18, 1), false);
