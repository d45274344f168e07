#!/usr/bin/env python3
"""Store benchmark: the same four questions asked of Weir's store and of DuckDB and chDB reading one
Parquet file of the same flows.

The flows come from `weir bench data` (same seed, same flows): written once through Weir's store
(`--out`, raw table partitioned by hour plus the 1-minute and 1-hour rollups) and once as a single Parquet
file of the raw schema (`--parquet`) for the other engines. Each query runs `--runs` times (default 3) in
each engine and the median wall time is reported, with the bytes per flow the store takes on disk.

Weir is timed as a `weir query` process (start-up included, a few milliseconds); DuckDB and chDB
in-process from Python, a fresh DuckDB connection per run. The OS page cache is warm for all three (the
data was just written or read).

Run it from the virtual environment (see README.md):
    benches/store/.venv/bin/python benches/store/query_bench.py --flows 50000000
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import ipaddress
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import WORK, dir_bytes, run, table, timed, weir_binary

# Making the data: the store directory and the Parquet file, from the same seed, over the 24 hours from
# {start} (by default yesterday at midnight UTC, so that the day is within every table's retention).
GENERATE_STORE = ["bench", "data", "--flows", "{flows}", "--seed", "{seed}", "--start", "{start}",
                  "--out", "{store}"]
GENERATE_PARQUET = ["bench", "data", "--flows", "{flows}", "--seed", "{seed}", "--start", "{start}",
                    "--parquet", "{parquet}"]

# The four questions: a title, Weir's `weir query` arguments (after `--data DIR`), and the SQL for DuckDB
# and chDB ({t}: the Parquet file as a table). {day_from} and {day_to} are the generated day,
# {hour_from} and {hour_to} its evening peak (20:00 to 21:00), as RFC 3339 for Weir and as
# `YYYY-MM-DD HH:MM:SS` ({hour_from_sql}, {hour_to_sql}) for SQL. Traffic is scaled by the sampling rate everywhere, as Weir
# reports it. "keys" says how to compare the ranked keys (the columns before the last) of the three
# engines: addresses come out of DuckDB and chDB as hex and are printed as Weir prints them.
QUERIES = [
    {
        "name": "top 10 dst_addr by bytes, 24 h",
        "weir": ["--from", "{day_from}", "--to", "{day_to}", "--top", "dst_addr", "--limit", "10", "--no-other"],
        "duckdb": "SELECT hex(dst_addr) AS k, SUM(bytes * sampling_rate) AS b FROM {t} "
        "GROUP BY dst_addr ORDER BY b DESC LIMIT 10",
        "chdb": "SELECT hex(dst_addr) AS k, SUM(bytes * sampling_rate) AS b FROM {t} "
        "GROUP BY dst_addr ORDER BY b DESC LIMIT 10",
        "keys": "addr",
    },
    {
        "name": "top 10 dst_addr by bytes, 1 h",
        "weir": ["--from", "{hour_from}", "--to", "{hour_to}", "--top", "dst_addr", "--limit", "10",
                 "--no-other"],
        "duckdb": "SELECT hex(dst_addr) AS k, SUM(bytes * sampling_rate) AS b FROM {t} "
        "WHERE time_received >= TIMESTAMP '{hour_from_sql}' "
        "AND time_received < TIMESTAMP '{hour_to_sql}' "
        "GROUP BY dst_addr ORDER BY b DESC LIMIT 10",
        "chdb": "SELECT hex(dst_addr) AS k, SUM(bytes * sampling_rate) AS b FROM {t} "
        "WHERE time_received >= toDateTime64('{hour_from_sql}', 9, 'UTC') "
        "AND time_received < toDateTime64('{hour_to_sql}', 9, 'UTC') "
        "GROUP BY dst_addr ORDER BY b DESC LIMIT 10",
        "keys": "addr",
    },
    {
        "name": "bytes per minute by proto, 24 h",
        "weir": ["--from", "{day_from}", "--to", "{day_to}", "--series", "--top", "proto", "--step", "1m",
                 "--limit", "20"],
        "duckdb": "SELECT date_trunc('minute', time_received) AS m, proto, SUM(bytes * sampling_rate) AS b "
        "FROM {t} GROUP BY m, proto ORDER BY m, proto",
        "chdb": "SELECT toStartOfMinute(time_received) AS m, proto, SUM(bytes * sampling_rate) AS b "
        "FROM {t} GROUP BY m, proto ORDER BY m, proto",
        "keys": None,
    },
    {
        "name": "top 10 (src_as, dst_as), dst port 443",
        "weir": ["--from", "{day_from}", "--to", "{day_to}", "--top", "src_as,dst_as", "--limit", "10",
                 "--no-other", "dst port 443"],
        "duckdb": "SELECT src_as, dst_as, SUM(bytes * sampling_rate) AS b FROM {t} "
        "WHERE dst_port = 443 GROUP BY src_as, dst_as ORDER BY b DESC LIMIT 10",
        "chdb": "SELECT src_as, dst_as, SUM(bytes * sampling_rate) AS b "
        "FROM {t} WHERE dst_port = 443 GROUP BY src_as, dst_as ORDER BY b DESC LIMIT 10",
        "keys": "numbers",
    },
]


def addr(hex_text: str) -> str:
    """The 16 stored bytes of an address, as Weir prints it (IPv4 for IPv4-mapped)."""
    a = ipaddress.IPv6Address(bytes.fromhex(hex_text))
    return str(a.ipv4_mapped or a)


def window(start: str) -> dict[str, str]:
    """The placeholders of QUERIES for the day from `start` (an RFC 3339 time)."""
    t0 = datetime.datetime.fromisoformat(start.replace("Z", "+00:00"))
    at = lambda h: t0 + datetime.timedelta(hours=h)  # noqa: E731
    rfc = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    sql = lambda t: t.strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    return {"day_from": rfc(at(0)), "day_to": rfc(at(24)), "hour_from": rfc(at(20)), "hour_to": rfc(at(21)),
            "hour_from_sql": sql(at(20)), "hour_to_sql": sql(at(21))}


def generate(weir: Path, flows: int, seed: int, start: str, store: Path, parquet: Path) -> dict:
    """Writes the store and the Parquet file once for (flows, seed, start); later runs reuse them."""
    marker = WORK / "data.json"
    wanted = {"flows": flows, "seed": seed, "start": start}
    if marker.exists() and store.exists() and parquet.exists():
        made = json.loads(marker.read_text())
        if {k: made.get(k) for k in wanted} == wanted:
            return made
    marker.unlink(missing_ok=True)
    subprocess.run(["rm", "-rf", str(store), str(parquet)], check=True)
    made = dict(wanted)
    for key, template in (("store_secs", GENERATE_STORE), ("parquet_secs", GENERATE_PARQUET)):
        cmd = [weir, *(a.format(flows=flows, seed=seed, start=start, store=store, parquet=parquet)
                       for a in template)]
        print("+", " ".join(map(str, cmd)), flush=True)
        started = time.perf_counter()
        print(run(cmd).stderr.strip(), flush=True)
        made[key] = time.perf_counter() - started
    marker.write_text(json.dumps(made))
    return made


def weir_rows(weir: Path, store: Path, args: list[str]) -> list[list[str]]:
    """Runs one `weir query` and returns its CSV rows without the header."""
    out = run([weir, "query", "--data", store, "--format", "csv", *args]).stdout
    return list(csv.reader(io.StringIO(out)))[1:]


def ranked_keys(rows, kind: str) -> list[tuple[str, ...]]:
    """The keys of ranked rows (every column but the last), as text Weir would print."""
    conv = addr if kind == "addr" else str
    return [tuple(conv(str(c)) for c in r[:-1]) for r in rows]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--flows", type=int, default=50_000_000, help="flows to generate (default 50M)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", help="start of the generated day, RFC 3339 (default: yesterday, 00:00 UTC; "
                   "data already generated is reused as long as --flows and --seed match)")
    p.add_argument("--runs", type=int, default=3, help="runs per query and engine; the median is reported")
    p.add_argument("--weir", help="the weir binary (default: target/release/weir, or $WEIR)")
    p.add_argument("--skip-weir", action="store_true", help="time DuckDB and chDB only")
    a = p.parse_args()

    import chdb  # noqa: E402  (from the virtual environment; imported here so --help works without it)
    import duckdb  # noqa: E402

    weir = weir_binary(a.weir)
    WORK.mkdir(exist_ok=True)
    store, parquet = WORK / "store", WORK / "flows.parquet"
    start = a.start
    if start is None:
        made = json.loads((WORK / "data.json").read_text()) if (WORK / "data.json").exists() else {}
        if made.get("flows") == a.flows and made.get("seed") == a.seed:
            start = made["start"]
        else:
            today = datetime.datetime.now(datetime.timezone.utc).date()
            start = f"{today - datetime.timedelta(days=1)}T00:00:00Z"
    made = generate(weir, a.flows, a.seed, start, store, parquet)
    places = window(start)

    results = []
    for q in QUERIES:
        duck_sql = q["duckdb"].format(t=f"read_parquet('{parquet}')", **places)
        ch_sql = q["chdb"].format(t=f"file('{parquet}', Parquet)", **places)
        weir_args = [w.format(**places) for w in q["weir"]]

        def duck():
            con = duckdb.connect()
            try:
                return con.execute(duck_sql).fetchall()
            finally:
                con.close()

        def ch():
            return list(csv.reader(io.StringIO(str(chdb.query(ch_sql, "CSV")))))

        print(f"{q['name']}: DuckDB", end="", flush=True)
        t_duck, r_duck = timed(duck, a.runs)
        print(", chDB", end="", flush=True)
        t_ch, r_ch = timed(ch, a.runs)
        t_weir, r_weir = None, None
        if not a.skip_weir:
            print(", Weir", end="", flush=True)
            t_weir, r_weir = timed(lambda: weir_rows(weir, store, weir_args), a.runs)
        print(flush=True)

        agree = "-"
        if q["keys"]:
            k_duck, k_ch = ranked_keys(r_duck, q["keys"]), ranked_keys(r_ch, q["keys"])
            width = len(k_duck[0]) if k_duck else 0
            k_weir = None if r_weir is None else [tuple(r[:width]) for r in r_weir]
            ok = k_duck == k_ch and (k_weir is None or k_weir == k_duck)
            agree = "yes" if ok else "NO"
            if not ok:
                print(f"  answers differ:\n  DuckDB {k_duck}\n  chDB   {k_ch}\n  Weir   {k_weir}", flush=True)
        else:
            # Series: the same buckets and the same total in both engines.
            total_duck = sum(int(r[-1]) for r in r_duck)
            total_ch = sum(int(r[-1]) for r in r_ch)
            agree = "yes" if (len(r_duck), total_duck) == (len(r_ch), total_ch) else "NO"
        results.append({"query": q["name"], "weir": t_weir, "duckdb": t_duck, "chdb": t_ch, "agree": agree})

    raw = dir_bytes(store / "flows")
    rollups = sum(dir_bytes(store / t) for t in ("flows_1m", "flows_1h", "traffic_1m", "traffic_1h"))
    pq = parquet.stat().st_size
    fmt = lambda t: "-" if t is None else f"{t:.3f} s"  # noqa: E731
    rows = []
    for r in results:
        best = min(r["duckdb"], r["chdb"])
        ratio = "-" if r["weir"] is None else f"{r['weir'] / best:.2f}"
        rows.append([r["query"], fmt(r["weir"]), fmt(r["duckdb"]), fmt(r["chdb"]), ratio, r["agree"]])
    print()
    print(f"{a.flows} flows (seed {a.seed}, from {start}), median of {a.runs} runs; "
          "ratio = Weir / the faster of DuckDB and chDB")
    print(f"DuckDB {duckdb.__version__}, chDB {chdb.__version__}, {os.cpu_count()} cores")
    print()
    print(table(["query", "Weir", "DuckDB", "chDB", "ratio", "agree"], rows))
    print()
    print(f"store on disk: raw {raw / a.flows:.2f} bytes/flow, rollups {rollups / a.flows:.2f} bytes/flow; "
          f"single Parquet file {pq / a.flows:.2f} bytes/flow")
    if "store_secs" in made:
        print(f"writing: store {a.flows / made['store_secs']:.0f} flows/s, "
              f"Parquet file {a.flows / made['parquet_secs']:.0f} flows/s (generator included)")
    (WORK / "query_results.json").write_text(json.dumps(
        {"flows": a.flows, "seed": a.seed, "runs": a.runs, "results": results,
         "bytes_per_flow": {"raw": raw / a.flows, "rollups": rollups / a.flows, "parquet": pq / a.flows}},
        indent=2))


if __name__ == "__main__":
    sys.exit(main())
