"""Where a store's raw table spends its bytes: compressed bytes per flow of each column, from the Parquet footers.

    benches/store/.venv/bin/python benches/store/columns.py [STORE]     # default: work/store of query_bench.py

Reads only the files' metadata (DuckDB's `parquet_metadata`), so it takes seconds on any size. Prints, for each
column, its compressed and uncompressed bytes per flow and the encodings its chunks use, largest first, then the
row groups. Files being merged at the time may be counted twice: run it on a store at rest.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from common import WORK


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("store", nargs="?", type=Path, default=WORK / "store", help="the store's directory")
    a = p.parse_args()
    files = sorted(str(f) for f in (a.store / "flows").rglob("*.parquet"))
    if not files:
        raise SystemExit(f"no raw files under {a.store / 'flows'}")
    con = duckdb.connect()
    meta = f"parquet_metadata({files!r})"
    flows, groups = con.execute(
        f"SELECT SUM(n), COUNT(*) FROM (SELECT DISTINCT file_name, row_group_id, row_group_num_rows AS n FROM {meta})"
    ).fetchone()
    total = sum(Path(f).stat().st_size for f in files)
    print(f"{len(files)} files, {flows} flows, {total} bytes: {total / flows:.2f} bytes/flow; "
          f"{groups} row groups of {flows / groups:,.0f} rows on average")
    print(f"{'column':28} {'bytes/flow':>10} {'uncompressed':>12}  encodings")
    rows = con.execute(
        f"SELECT path_in_schema, SUM(total_compressed_size), SUM(total_uncompressed_size), "
        f"string_agg(DISTINCT encodings, ' | ') FROM {meta} GROUP BY 1 ORDER BY 2 DESC"
    ).fetchall()
    for path, compressed, uncompressed, encodings in rows:
        print(f"{path:28} {compressed / flows:10.2f} {uncompressed / flows:12.2f}  {encodings}")
    chunks = sum(r[1] for r in rows)
    print(f"{'(footers and page headers)':28} {(total - chunks) / flows:10.2f}")


if __name__ == "__main__":
    main()
