-- page: petitions
-- title: 信访
--
-- Petitions (信访件) by month, by category and by village. Filters:
-- ${town}, ${from}/${to} (received_date). 不满意占比 is over the petitions
-- that were rated (满意 / 基本满意 / 不满意).

-- panel: by_month
-- title: 信访量(按月)
-- view: lines 月份 信访件 重复件
SELECT to_char(received_date, '%Y-%m') AS 月份, count(*) AS 信访件, sum(CASE WHEN is_repeat THEN 1 ELSE 0 END) AS 重复件
FROM petitions
WHERE (${town} IS NULL OR starts_with(village_code, ${town}))
  AND (${from} IS NULL OR received_date >= ${from})
  AND (${to} IS NULL OR received_date <= ${to})
GROUP BY 1
ORDER BY 1;

-- panel: by_topic
-- title: 信访问题类别
-- view: bars 问题类别 信访件 件
SELECT topic AS 问题类别, count(*) AS 信访件,
       round(100.0 * sum(CASE WHEN is_repeat THEN 1 ELSE 0 END) / count(*), 1) AS 重复件占比百分比,
       round(100.0 * sum(CASE WHEN satisfaction = '不满意' THEN 1 ELSE 0 END)
             / nullif(sum(CASE WHEN satisfaction IN ('满意', '基本满意', '不满意') THEN 1 ELSE 0 END), 0), 1) AS 不满意占比百分比
FROM petitions
WHERE (${town} IS NULL OR starts_with(village_code, ${town}))
  AND (${from} IS NULL OR received_date >= ${from})
  AND (${to} IS NULL OR received_date <= ${to})
GROUP BY topic
ORDER BY 信访件 DESC, 问题类别;

-- panel: hotspots
-- title: 信访热点村(前 20)
-- view: table
-- 每千人: petitions per 1,000 registered residents (divisions' population).
SELECT v.town_name AS 乡镇, v.village_name AS 村, count(*) AS 信访件, sum(CASE WHEN p.is_repeat THEN 1 ELSE 0 END) AS 重复件,
       round(1000.0 * count(*) / nullif(v.population, 0), 2) AS 每千人
FROM petitions p JOIN villages v ON v.village_code = p.village_code
WHERE (${town} IS NULL OR starts_with(p.village_code, ${town}))
  AND (${from} IS NULL OR p.received_date >= ${from})
  AND (${to} IS NULL OR p.received_date <= ${to})
GROUP BY v.village_code, v.town_name, v.village_name, v.population
ORDER BY 信访件 DESC, v.village_code
LIMIT 20;
