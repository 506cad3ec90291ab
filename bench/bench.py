"""xuncha beside DuckDB, one run, same data, ratios reported.

1. `xuncha gen` at the chosen scale: wall time and peak memory (cached).
2. Ingest of every subsidy payment as one UTF-8 CSV: `xuncha ingest` (typing,
   validation, quarantine, a Delta commit) beside DuckDB
   `COPY (SELECT * FROM read_csv(...)) TO '...parquet'`, same threads.
Each measurement is the median of several runs; peak RSS from /usr/bin/time
or resource.getrusage of the child.
"""
import argparse, json, os, platform, shutil, statistics, subprocess, sys, time
from pathlib import Path

def measure(cmd, env=None):
    """Wall seconds and peak RSS (MiB) of one command, from its own wait4."""
    import tempfile
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{stdout[-2000:]}\n{stderr[-2000:]}")
    return wall, usage.ru_maxrss / 1024, stdout

def median_of(runs, fn):
    results = [fn() for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xuncha", required=True)
    ap.add_argument("--scale", default="county")
    ap.add_argument("--cache", required=True)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    cache = Path(a.cache) / a.scale
    inbox = cache / "inbox"
    results = {"scale": a.scale, "cores": os.cpu_count(), "machine": platform.platform(), "cache_root": a.cache}

    # 1. gen (once; cached)
    if not (inbox / "answer_key.csv").exists():
        shutil.rmtree(inbox, ignore_errors=True)
        wall, rss, _ = measure([a.xuncha, "gen", "--scale", a.scale, "--seed", "2026", "--out", str(inbox)])
        (cache / "gen.json").write_text(json.dumps({"seconds": wall, "peak_mib": rss}))
    results["gen"] = json.loads((cache / "gen.json").read_text())

    # 2. one big payments CSV, exported from a lake of the inbox
    big = cache / "payments.csv"
    if not big.exists():
        lake = cache / "lake-export"
        shutil.rmtree(lake, ignore_errors=True)
        only = cache / "inbox-payments"
        shutil.rmtree(only, ignore_errors=True)
        only.mkdir(parents=True)
        os.symlink(inbox / "subsidy_payments", only / "subsidy_payments")
        measure([a.xuncha, "--lake", str(lake), "ingest", str(only)])
        cols = "payment_id, program, id_number, name, village_code, period, amount, bank_account, paid_date, department"
        measure([a.xuncha, "--lake", str(lake), "sql", f"SELECT {cols} FROM subsidy_payments", "--format", "csv", "--out", str(big)])
    rows = sum(1 for _ in open(big, encoding="utf-8-sig")) - 1
    results["payments_rows"] = rows

    def ours():
        work = cache / "bench-ingest"
        shutil.rmtree(work, ignore_errors=True)
        (work / "inbox" / "subsidy_payments").mkdir(parents=True)
        os.link(big, work / "inbox" / "subsidy_payments" / "payments.csv")
        return measure([a.xuncha, "--lake", str(work / "lake"), "ingest", str(work / "inbox")])

    def duck():
        out = cache / "duck.parquet"
        out.unlink(missing_ok=True)
        script = ("import duckdb, sys; c = duckdb.connect(); c.execute(f'SET threads TO {sys.argv[3]}'); "
                  "c.execute(f\"COPY (SELECT * FROM read_csv('{sys.argv[1]}', header=true)) TO '{sys.argv[2]}' (FORMAT parquet, COMPRESSION zstd)\")")
        return measure([sys.executable, "-c", script, str(big), str(out), str(os.cpu_count())])

    ours_s, ours_rss = median_of(a.runs, ours)
    duck_s, duck_rss = median_of(a.runs, duck)
    results["ingest"] = {"xuncha_s": ours_s, "xuncha_peak_mib": ours_rss, "duckdb_s": duck_s, "duckdb_peak_mib": duck_rss, "ratio": ours_s / duck_s}
    write_results(results)
    print(json.dumps(results, indent=2, ensure_ascii=False))

def write_results(r):
    i = r["ingest"]
    verdict = "met" if i["ratio"] <= 1.25 else "missed"
    gens = ""
    for scale in ("sample", "county", "city"):
        f = Path(r["cache_root"]) / scale / "gen.json"
        if f.exists():
            g = json.loads(f.read_text())
            gens += f"| `gen --scale {scale}` | {g['seconds']:.1f} s, peak {g['peak_mib']:.0f} MiB | – | – | a few minutes at city scale, flat memory |\n"
    text = f"""# Benchmark results

Written by `bench/run {r['scale']}`. Machine: {r['cores']} cores, {r['machine']}.

| measurement | xuncha | DuckDB | ratio (xuncha ÷ DuckDB) | target |
|---|---|---|---|---|
{gens}| ingest {r['payments_rows']:,} payment rows (one UTF-8 CSV) | {i['xuncha_s']:.2f} s, peak {i['xuncha_peak_mib']:.0f} MiB | {i['duckdb_s']:.2f} s, peak {i['duckdb_peak_mib']:.0f} MiB | {i['ratio']:.2f}× | ≤ 1.25× ({verdict}) |

Reading: xuncha's ingest types every cell by the contract (dates in every
department spelling, exact decimals, ID upgrade), checks keys for duplicates,
keeps bad rows in quarantine and commits a Delta transaction; DuckDB's COPY
only parses and writes Parquet. Medians of several runs; peak memory is
each process's own (wait4).

Where the ingest target is missed: each file is typed on one core, cells
are still copied into owned strings before typing, and a file's typed
batches are held, concatenated and sorted before its Delta commit (hence
the peak memory). In reach: typing row chunks in parallel, typing straight
from the CSV byte records into the Arrow builders, and a streaming Delta
writer.
"""
    Path(__file__).with_name("RESULTS.md").write_text(text)

if __name__ == "__main__":
    main()
