-- page: data
-- title: 数据
--
-- The lake's health: when each source last loaded, the scheduled jobs,
-- why rows were quarantined, and the latest runs. No filters. Sources and
-- reasons are shown in words (the `labels` table); times in the office's
-- time zone (the page formats them).

-- panel: loads
-- title: 各数据源最近入库
-- view: table
-- 距今天数: whole days since the source's last batch finished; 拒收或失败: batches not loaded.
SELECT coalesce(l.label, b.source) AS 数据源, max(b.finished_at) AS 最近入库, CAST(date_part('day', now() - max(b.finished_at)) AS BIGINT) AS 距今天数,
       count(*) AS 批次, sum(b.rows_loaded) AS 入库行, sum(b.rows_quarantined) AS 隔离行,
       sum(CASE WHEN b.status <> 'loaded' THEN 1 ELSE 0 END) AS 拒收或失败
FROM ingest_batches b LEFT JOIN labels l ON l.kind = 'source' AND l.code = b.source
GROUP BY b.source, l.label
ORDER BY 距今天数 DESC, 数据源;

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
SELECT coalesce(l.label, b.source) AS 数据源, b.file AS 文件, b.finished_at AS 结束, b.error AS 原因与改法
FROM ingest_batches b LEFT JOIN labels l ON l.kind = 'source' AND l.code = b.source
WHERE b.status <> 'loaded'
ORDER BY b.finished_at DESC, b.file
LIMIT 50;

-- panel: quarantine
-- title: 隔离原因
-- view: bars 原因 行数 行
-- (the source's title and the reason in words; not shown to a user with a scope, whose session
-- has no quarantine: its raw rows cannot be scoped)
SELECT coalesce(s.label, q.source) || ':' || coalesce(r.label, q.reason_kind) AS 原因, count(*) AS 行数
FROM quarantine q
LEFT JOIN labels s ON s.kind = 'source' AND s.code = q.source
LEFT JOIN labels r ON r.kind = 'reason' AND r.code = q.reason_kind
GROUP BY 1
ORDER BY 行数 DESC, 原因
LIMIT 30;

-- panel: runs
-- title: 运行记录
-- view: table
SELECT CASE WHEN kind = 'rules' THEN '比对运行' WHEN kind LIKE 'job:%' THEN '定时任务 ' || substr(kind, 5) ELSE kind END AS 类型,
       started_at AS 开始, finished_at AS 结束, CASE status WHEN 'ok' THEN '成功' WHEN 'error' THEN '失败' ELSE status END AS 状态,
       as_of AS 参考日, findings_rows AS 比对发现, risk_score_rows AS 风险评分, error AS 错误
FROM runs
ORDER BY run_id DESC
LIMIT 20;
