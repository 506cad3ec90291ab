-- report: filters
-- title: 筛选栏
-- The choices of the dashboard's filter bar, from the user's scoped session.

-- query: towns
-- row: town_code town_name
SELECT town_code, town_name FROM towns ORDER BY town_code;

-- query: terms
-- row: term
SELECT DISTINCT term FROM inspections ORDER BY term;
