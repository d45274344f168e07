#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the test captures in fixtures/captures/.

Each capture becomes one input holding all its export datagrams in the framing the fuzz bodies read
(big-endian u16 length, then the datagram), so that templates and the data that uses them meet in one run; each
datagram is also an input of its own. Raw datagram files of one device (templates, then data) are joined the same
way. Needs tshark to read the pcaps. Run from the repository root: `python3 fuzz/seed_corpus.py`.
"""
import hashlib
import pathlib
import subprocess
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "fixtures" / "captures"
CORPUS = ROOT / "fuzz" / "corpus"


def target_of(datagram: bytes) -> str:
    if datagram[:2] in (b"\x00\x01", b"\x00\x05", b"\x00\x07", b"\x00\x08"):
        return "netflow_legacy"
    if datagram[:2] == b"\x00\x09":
        return "netflow_v9"
    if datagram[:2] == b"\x00\x0a":
        return "ipfix"
    if datagram[:4] in (b"\x00\x00\x00\x02", b"\x00\x00\x00\x04", b"\x00\x00\x00\x05"):
        return "sflow"
    return "decoder"


def frame(datagrams):
    return b"".join(struct.pack(">H", len(d)) + d for d in datagrams if len(d) <= 0xFFFF)


def save(target: str, data: bytes):
    if target == "netflow_legacy":
        # The target's first byte picks the version: 1, 5, 7, 8 for 0, 1, 2, 3.
        data = bytes([{1: 0, 5: 1, 7: 2, 8: 3}.get(data[3] if len(data) > 3 else 5, 1)]) + data
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def udp_payloads(pcap: pathlib.Path):
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-T", "fields", "-e", "udp.payload"],
        check=True, capture_output=True, text=True,
    ).stdout
    return [bytes.fromhex(line.strip()) for line in out.splitlines() if line.strip()]


def main():
    groups = {}
    for pcap in sorted(CAPTURES.rglob("*.pcap")):
        groups[pcap.name] = udp_payloads(pcap)
    raws = sorted(list(CAPTURES.rglob("*.dat")) + list(CAPTURES.rglob("*.bin")))
    # Template files first, as an exporter sends them.
    raws.sort(key=lambda p: (0 if "tpl" in p.stem else 1, p.name))
    for raw in raws:
        device = raw.stem.split("_tpl")[0].split("_opttpl")[0].split("_data")[0]
        groups.setdefault(device, []).append(raw.read_bytes())
    for datagrams in groups.values():
        for d in datagrams:
            save(target_of(d), struct.pack(">H", len(d)) + d)
            save("decoder", struct.pack(">H", len(d)) + d)
        if datagrams:
            whole = frame(datagrams)
            save(target_of(datagrams[0]), whole)
            save("decoder", whole)


if __name__ == "__main__":
    main()
