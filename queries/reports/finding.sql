-- report: finding
-- title: 比对发现详情
-- One finding with its rule and village, found by its run, rule and the
-- digest of its entity key (the first ${digest_len} hex digits of its SHA-256:
-- the key, often an ID number, never appears in a URL).

-- query: finding
SELECT f.rule_id, r.title, f.severity, v.town_name, v.village_name, f.village_code, f.entity_key, f.person_name, f.id_number,
       f.period, f.amount, f.as_of, f.evidence, r.description
FROM findings f
LEFT JOIN rule_catalogue r ON r.rule_id = f.rule_id
LEFT JOIN villages v ON v.village_code = f.village_code
WHERE f.run_id = ${run_id} AND f.rule_id = ${rule_id} AND left(encode(sha256(f.entity_key), 'hex'), ${digest_len}) = ${digest}
LIMIT 1;
