"""What the store and ingest benchmarks share: where things are, running Weir, timing."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
# Generated data and results: git-ignored.
WORK = HERE / "work"


def weir_binary(given: str | None) -> Path:
    """The `weir` binary: --weir, $WEIR, or the release build of this checkout."""
    path = Path(given or os.environ.get("WEIR") or REPO / "target" / "release" / "weir")
    if not path.is_file():
        sys.exit(f"no weir binary at {path}: build it with `cargo build --release -p weir`, or pass --weir")
    return path


def run(cmd: list[str | Path], **kw) -> subprocess.CompletedProcess:
    """Runs a command, failing loudly with its output when it fails."""
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if done.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stderr}{done.stdout}")
    return done


def timed(fn, runs: int) -> tuple[float, object]:
    """The median wall time of `runs` calls of `fn`, in seconds, and the last call's result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def table(header: list[str], rows: list[list[str]]) -> str:
    """Rows as an aligned text table: the first column left, the others right."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        return "  ".join(cells).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def dir_bytes(path: Path) -> int:
    """Bytes of every file under `path` (0 when it does not exist)."""
    if not path.exists():
        return 0
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
