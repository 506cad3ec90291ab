-- report: finding
-- title: 比对发现详情
-- One finding with its rule and village, found by its run, rule and entity
-- key. The page's link carries a keyed MAC of the key (the key, often an ID
-- number, never appears in a URL); the dashboard finds the key among the
-- run's keys of the rule (`keys`), within the user's scope.

-- query: keys
-- row: entity_key
SELECT DISTINCT entity_key FROM findings WHERE run_id = ${run_id} AND rule_id = ${rule_id};

-- query: finding
SELECT f.rule_id, r.title, f.severity, v.town_name, v.village_name, f.village_code, f.entity_key, f.person_name, f.id_number,
       f.period, f.amount, f.as_of, f.evidence, r.description
FROM findings f
LEFT JOIN rule_catalogue r ON r.rule_id = f.rule_id
LEFT JOIN villages v ON v.village_code = f.village_code
WHERE f.run_id = ${run_id} AND f.rule_id = ${rule_id} AND f.entity_key = ${entity_key}
LIMIT 1;
