-- page: data
-- title: 数据
--
-- The lake's health: when each source last loaded, the scheduled jobs,
-- why rows were quarantined, and the latest runs. No filters.

-- panel: loads
-- title: 各数据源最近入库
-- view: table
-- 距今天数: whole days since the source's last batch finished; 拒收或失败: batches not loaded.
SELECT source AS 数据源, max(finished_at) AS 最近入库, CAST(date_part('day', now() - max(finished_at)) AS BIGINT) AS 距今天数,
       count(*) AS 批次, sum(rows_loaded) AS 入库行, sum(rows_quarantined) AS 隔离行,
       sum(CASE WHEN status <> 'loaded' THEN 1 ELSE 0 END) AS 拒收或失败
FROM ingest_batches
GROUP BY source
ORDER BY 距今天数 DESC, source;

-- panel: jobs
-- title: 定时任务运行情况
-- view: table
SELECT substr(kind, 5) AS 任务, max(finished_at) AS 最近运行,
       sum(CASE WHEN status = 'ok' THEN 1 ELSE 0 END) AS 成功次数,
       sum(CASE WHEN status <> 'ok' THEN 1 ELSE 0 END) AS 失败次数,
       max(CASE WHEN status <> 'ok' THEN finished_at END) AS 最近失败
FROM runs
WHERE kind LIKE 'job:%'
GROUP BY kind
ORDER BY 任务;

-- panel: rejected
-- title: 拒收的文件(原因与改法)
-- view: table
-- The files not loaded, newest first (50 at most), with why — for a missing column, the
-- file's likeliest header and the line to add to xuncha.toml.
SELECT source AS 数据源, file AS 文件, CAST(finished_at AS VARCHAR) AS 结束, error AS 原因与改法
FROM ingest_batches
WHERE status <> 'loaded'
ORDER BY finished_at DESC, file
LIMIT 50;

-- panel: quarantine
-- title: 隔离原因
-- view: bars 原因 行数 行
SELECT source || ':' || reason_kind AS 原因, count(*) AS 行数
FROM quarantine
GROUP BY 1
ORDER BY 行数 DESC, 原因
LIMIT 30;

-- panel: runs
-- title: 运行记录
-- view: table
SELECT run_id AS 运行编号, kind AS 类型, started_at AS 开始, finished_at AS 结束, status AS 状态, as_of AS 参考日,
       findings_rows AS 比对发现, risk_score_rows AS 风险评分, error AS 错误
FROM runs
ORDER BY run_id DESC
LIMIT 20;
