"""DuckDB running xuncha's rules on the lake's own Parquet files.

Usage: run_rules.py LAKE RULES_JSON THREADS RUNS OUT_JSON
RULES_JSON maps rule id -> bound xuncha SQL (from `xuncha rules --show`).
Each table is a view over exactly the Parquet files its Delta log names
(Python deltalake), the same files xuncha reads. Every rule runs RUNS times
(result fetched whole as Arrow, as xuncha collects it); the median time and the
entity keys found are written to OUT_JSON. The translations are written
beside this script, in rules/ (not committed), for reading.
"""
import json, statistics, sys, time
from pathlib import Path

import duckdb
from deltalake import DeltaTable

sys.path.insert(0, str(Path(__file__).parent))
from translate import translate  # noqa: E402


def main():
    lake, rules_json, threads, runs, out = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5])
    con = duckdb.connect()
    con.execute(f"SET threads TO {threads}")
    con.execute((Path(__file__).parent / "udfs.sql").read_text())
    for table in sorted(p.parent.name for p in lake.glob("*/_delta_log")):
        files = DeltaTable(str(lake / table)).file_uris()
        if files:
            listed = ", ".join("'" + f.replace("file://", "").replace("'", "''") + "'" for f in files)
            con.execute(f'CREATE VIEW "{table}" AS SELECT * FROM read_parquet([{listed}])')
    translations = Path(__file__).parent / "rules"
    translations.mkdir(exist_ok=True)
    results = {}
    for rule_id, bound in json.loads(rules_json.read_text()).items():
        sql = translate(bound)
        (translations / f"{rule_id}.sql").write_text(f"-- DuckDB translation of {rule_id} (bench/duckdb/translate.py)\n{sql}\n")
        times, keys = [], None
        for _ in range(runs):
            start = time.perf_counter()
            table = con.sql(sql).to_arrow_table()
            times.append(time.perf_counter() - start)
            keys = sorted(set(table.column("entity_key").to_pylist()))
        results[rule_id] = {"seconds": statistics.median(times), "keys": keys}
    out.write_text(json.dumps(results))


if __name__ == "__main__":
    main()
