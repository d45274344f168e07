"""Answers SQL with ClickHouse's own engine (chdb), one JSON request per line on stdin, one JSON answer per
line on stdout, for the test that checks Weir's ClickHouse dialect against a real ClickHouse.

Requests: {"sql": "..."}: runs a statement; answers {"meta": [[name, type], ...], "rows": [[...], ...]} or
{"error": "..."}. Times and 64-bit integers come back as JSON numbers and strings as ClickHouse writes them.
"""

import json
import sys

try:
    from chdb import session
except ImportError as e:  # the test reads this line and says how to install chdb
    print(json.dumps({"error": f"cannot import chdb: {e}"}), flush=True)
    sys.exit(1)

SETTINGS = " SETTINGS output_format_json_quote_64bit_integers = 0, output_format_json_quote_denormals = 0"


def main():
    s = session.Session()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        sql = json.loads(line)["sql"]
        try:
            if sql.lstrip().upper().startswith("SELECT"):
                out = json.loads(str(s.query(sql + SETTINGS, "JSONCompact")))
                answer = {"meta": [[m["name"], m["type"]] for m in out["meta"]], "rows": out["data"]}
            else:
                s.query(sql)
                answer = {"meta": [], "rows": []}
        except Exception as e:  # noqa: BLE001 -- every engine error goes back to the test
            answer = {"error": str(e)}
        print(json.dumps(answer), flush=True)


main()
