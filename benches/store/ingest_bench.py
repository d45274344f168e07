#!/usr/bin/env python3
"""Ingest benchmark: how fast a NetFlow v9 stream can come in over loopback before `weir serve` (store
on) and nfcapd (nfdump) lose flows.

One capture of v9 datagrams is made once with `weir bench data --pcap` (ten routers, each its own
source id, sampling announced in options, datagrams filled as routers fill them). For each rate of the
ladder, each collector is started fresh on an empty directory, `weir replay --speed` sends the capture
at that rate, and once the collector has gone quiet the flows it stored are counted: Weir's /metrics
(the store's acknowledged flows), nfcapd's files read by `nfdump -R DIR -I`. Loss is 1 - stored / sent.
The highest rate with no loss is each collector's clean rate. The sender's achieved rate is reported
beside the rate asked: past what one sending thread can do, it is the real rate.

Both collectors get the same socket receive buffer where the kernel allows it: Weir forces its buffer
as root, nfcapd's `-B` is capped by net.core.rmem_max; the buffers granted are printed (see README.md).

    python3 benches/store/ingest_bench.py --flows 2000000
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from common import WORK, run, table, weir_binary

# Making the stream: flows spread evenly over an hour, so the capture's own pace is flows / 3600 per second.
PCAP_HOURS = 1
GENERATE_PCAP = ["bench", "data", "--flows", "{flows}", "--seed", "{seed}", "--hours", str(PCAP_HOURS),
                 "--pcap", "{pcap}"]
# The collectors: ports on loopback, and how each is started ({dir}: an empty directory per run).
PORT = 9995
HTTP = "127.0.0.1:9996"
WEIR_SERVE = ["serve", "--listen", f"127.0.0.1:{PORT}", "--no-tcp", "--http", HTTP, "--data", "{dir}"]
NFCAPD = ["nfcapd", "-w", "{dir}", "-b", "127.0.0.1", "-p", str(PORT), "-t", "3600", "-B", "{rcvbuf}"]
# Weir's counters: flows stored (the first of these that /metrics has), records decoded, drops.
STORED = ["weir_store_flows_acknowledged_total", "weir_sink_flows_total"]
DECODED = "weir_exporter_records_total"
KERNEL_DROPS = "weir_receiver_kernel_drops_total"
QUEUE_DROPS = "weir_receiver_drops_total"
# The ladder, flows per second; 0 is as fast as the sender goes.
RATES = [50_000, 100_000, 200_000, 400_000, 800_000, 1_600_000, 0]


def metrics() -> dict[str, float]:
    """Weir's /metrics, each family summed over its labels."""
    text = urllib.request.urlopen(f"http://{HTTP}/metrics", timeout=5).read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            family = name.split("{", 1)[0]
            out[family] = out.get(family, 0.0) + float(value)
    return out


def socket_facts(port: int) -> tuple[int, int, int] | None:
    """Of the UDP sockets on `port` (from `ss`): the largest receive buffer granted, the datagrams the
    kernel dropped and the bytes waiting, summed; None when nothing listens."""
    out = subprocess.run(["ss", "-uamnH", f"sport = :{port}"], capture_output=True, text=True).stdout
    # Each socket: a line `UNCONN <recv-q> <send-q> ...`, then `skmem:(r..,rb<buffer>,...,d<drops>)`.
    queued = [int(line.split()[1]) for line in out.splitlines() if line.startswith("UNCONN")]
    found = re.findall(r"rb(\d+).*?d(\d+)\)", out)
    if not found:
        return None
    return max(int(rb) for rb, _ in found), sum(int(d) for _, d in found), sum(queued)


def wait_for(check, what: str, timeout: float = 10.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"timed out waiting for {what}")


def settle(read, quiet: float = 2.0, timeout: float = 120.0) -> None:
    """Waits until `read()` has not changed for `quiet` seconds."""
    last, since, deadline = None, time.time(), time.time() + timeout
    while time.time() < deadline:
        now = read()
        if now != last:
            last, since = now, time.time()
        elif time.time() - since >= quiet:
            return
        time.sleep(0.25)


def replay(weir: Path, pcap: Path, speed: float | None) -> float:
    """Sends the capture; the seconds it took."""
    pace = ["--top-speed"] if speed is None else ["--speed", f"{speed:.6f}"]
    err = run([weir, "replay", pcap, "--to", f"127.0.0.1:{PORT}", *pace]).stderr
    m = re.search(r"Sent (\d+) datagrams \((\d+) bytes\) in ([\d.]+) s", err)
    if not m:
        sys.exit(f"unexpected replay output: {err}")
    return float(m.group(3))


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_weir(weir: Path, pcap: Path, speed: float | None, work: Path, serve: list[str]) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cmd = [str(weir), *(a.format(dir=work / "data") for a in serve)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(work / "serve.log", "w"))
    try:
        wait_for(lambda: urllib.request.urlopen(f"http://{HTTP}/healthz", timeout=1).status == 200, "weir serve")
        secs = replay(weir, pcap, speed)
        stored_name = next((n for n in STORED if n in metrics()), STORED[-1])
        settle(lambda: (metrics().get(stored_name), metrics().get(DECODED)))
        m = metrics()
        facts = socket_facts(PORT)
    finally:
        stop(proc)
    return {
        "secs": secs,
        "stored": int(m.get(stored_name, 0)),
        "decoded": int(m.get(DECODED, 0)),
        "detail": f"decoded {int(m.get(DECODED, 0)):,}; datagrams dropped by the kernel "
        f"{int(m.get(KERNEL_DROPS, 0)):,}, by the receiver {int(m.get(QUEUE_DROPS, 0)):,}",
        "rcvbuf": facts[0] if facts else 0,
    }


def run_nfcapd(weir: Path, pcap: Path, speed: float | None, work: Path, rcvbuf: int) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    (work / "data").mkdir(parents=True)
    cmd = [a.format(dir=work / "data", rcvbuf=rcvbuf) for a in NFCAPD]
    proc = subprocess.Popen(cmd, stdout=open(work / "nfcapd.log", "w"), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: socket_facts(PORT) is not None, "nfcapd")
        secs = replay(weir, pcap, speed)
        # Until the socket is drained; nfcapd writes its file when it stops.
        settle(lambda: socket_facts(PORT))
        facts = socket_facts(PORT)
    finally:
        stop(proc)
    out = run(["nfdump", "-R", work / "data", "-I"]).stdout
    m = re.search(r"^Flows: (\d+)$", out, re.M)
    return {
        "secs": secs,
        "stored": int(m.group(1)) if m else 0,
        "detail": f"datagrams dropped by the kernel {facts[1] if facts else 0:,}",
        "rcvbuf": facts[0] if facts else 0,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--flows", type=int, default=2_000_000, help="flows in the stream (default 2M)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rates", default=",".join(map(str, RATES)),
                   help="flows/s, comma-separated; 0 for as fast as the sender goes")
    p.add_argument("--rcvbuf", type=int, default=32 << 20,
                   help="socket buffer asked of nfcapd (-B); Weir asks 32 MiB by default")
    p.add_argument("--weir", help="the weir binary (default: target/release/weir, or $WEIR)")
    p.add_argument("--only", choices=["weir", "nfcapd"], help="measure one collector")
    p.add_argument("--weir-serve", help="the `weir serve` arguments instead of WEIR_SERVE's, space-separated "
                   "({dir}: the run's empty directory), e.g. to compare settings")
    a = p.parse_args()
    weir = weir_binary(a.weir)
    if a.only != "weir" and not shutil.which("nfcapd"):
        sys.exit("nfcapd is not installed (Debian: apt-get install nfdump), or pass --only weir")
    rates = [int(r) for r in a.rates.split(",")]

    WORK.mkdir(exist_ok=True)
    pcap = WORK / f"ingest-{a.flows}-{a.seed}.pcap"
    if not pcap.exists():
        cmd = [weir, *(x.format(flows=a.flows, seed=a.seed, pcap=pcap) for x in GENERATE_PCAP)]
        print("+", " ".join(map(str, cmd)), flush=True)
        print(run(cmd).stderr.strip(), flush=True)
    native = a.flows / (PCAP_HOURS * 3600)

    rows, clean = [], {"weir": None, "nfcapd": None}
    buffers = {}
    for rate in rates:
        speed = None if rate == 0 else rate / native
        asked = "top speed" if rate == 0 else f"{rate:,}"
        row = [asked]
        for name in ("weir", "nfcapd"):
            if a.only and a.only != name:
                row += ["-", "-", "-"]
                continue
            print(f"{asked} flows/s into {name} ...", end="", flush=True)
            work = WORK / f"ingest-{name}"
            if name == "weir":
                r = run_weir(weir, pcap, speed, work, a.weir_serve.split() if a.weir_serve else WEIR_SERVE)
            else:
                r = run_nfcapd(weir, pcap, speed, work, a.rcvbuf)
            buffers[name] = r["rcvbuf"]
            loss = 1 - r["stored"] / a.flows
            print(f" sent at {a.flows / r['secs']:,.0f} flows/s, stored {r['stored']:,}, loss {loss:.2%} "
                  f"({r['detail']})", flush=True)
            if loss <= 0 and (clean[name] is None or a.flows / r["secs"] > clean[name]):
                clean[name] = a.flows / r["secs"]
            row += [f"{a.flows / r['secs']:,.0f}", f"{r['stored']:,}", f"{loss:.2%}"]
        rows.append(row)

    print()
    print(f"{a.flows:,} flows of NetFlow v9 over loopback, one sender; receive buffers granted: "
          + ", ".join(f"{k} {v:,} bytes" for k, v in buffers.items()))
    print()
    print(table(["flows/s asked", "sent to Weir", "Weir stored", "Weir loss",
                 "sent to nfcapd", "nfcapd stored", "nfcapd loss"], rows))
    print()
    for name, r in clean.items():
        if not a.only or a.only == name:
            print(f"{name}: highest rate without loss: " + ("none" if r is None else f"{r:,.0f} flows/s (sent)"))


if __name__ == "__main__":
    sys.exit(main())
