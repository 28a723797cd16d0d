#!/usr/bin/env python3
"""Builds the seed corpora of the three fuzz targets from real files.

    Fuzz/make-seeds.py DATA_DIR... OUT_DIR

DATA_DIR: data directories of short `edge-ctl train --sim --data DIR` runs (transitions.log and
checkpoint.bin). Board seeds come from boards/*.board. Writes OUT_DIR/{board,checkpoint,log}/: each real
file, a small checkpoint keeping the real file's short entries (so mutations reach every reader
quickly), and truncated and bit-flipped variants. Checkpoint and log seeds start with the harness's
flags byte (see Fuzz/*Harness.swift).
"""
import glob
import os
import struct
import sys
import zlib


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def flipped(data, offset):
    b = bytearray(data)
    b[offset % len(b)] ^= 0x10
    return bytes(b)


def checkpoint_entries(data):
    """Entries of a checkpoint file: (name, kind, raw values)."""
    assert data[:8] == b"EDGECKPT"
    payload = data[24:]
    count, = struct.unpack_from("<I", payload, 0)
    offset, entries = 4, []
    for _ in range(count):
        n, = struct.unpack_from("<H", payload, offset); offset += 2
        name = payload[offset:offset + n]; offset += n
        kind = payload[offset]; offset += 1
        values, = struct.unpack_from("<I", payload, offset); offset += 4
        size = values * (4 if kind == 0 else 8)
        entries.append((name, kind, values, payload[offset:offset + size])); offset += size
    return entries


def checkpoint_file(entries):
    payload = struct.pack("<I", len(entries))
    for name, kind, values, raw in entries:
        payload += struct.pack("<H", len(name)) + name + bytes([kind]) + struct.pack("<I", values) + raw
    return b"EDGECKPT" + struct.pack("<IQI", 1, len(payload), zlib.crc32(payload)) + payload


def main():
    *data_dirs, out = sys.argv[1:]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    board_dir, checkpoint_dir, log_dir = (os.path.join(out, t) for t in ("board", "checkpoint", "log"))

    for path in sorted(glob.glob(os.path.join(root, "boards", "*.board"))):
        text = open(path, "rb").read()
        stem = os.path.basename(path)[:-6]
        write(board_dir, stem, text)
        write(board_dir, stem + "-truncated", text[: len(text) * 2 // 3])
        write(board_dir, stem + "-flipped", flipped(text, len(text) // 2))
        lines = text.split(b"\n")
        write(board_dir, stem + "-no-header", b"\n".join(l for l in lines if not l.startswith(b"pin ")))

    for data_dir in data_dirs:
        rig = os.path.basename(os.path.normpath(data_dir))
        checkpoint = open(os.path.join(data_dir, "checkpoint.bin"), "rb").read()
        entries = checkpoint_entries(checkpoint)
        small = checkpoint_file([e for e in entries if e[2] <= 64])
        for flags in (0, 1, 2, 3):
            write(checkpoint_dir, f"{rig}-small-{flags}", bytes([flags]) + small)
        write(checkpoint_dir, f"{rig}-full", bytes([3]) + checkpoint)
        for cut in (0, 8, 23, 24, 40, len(small) // 2, len(small) - 1):
            write(checkpoint_dir, f"{rig}-small-cut{cut}", bytes([0]) + small[:cut])
        for offset in (0, 9, 13, 21, 30, len(small) // 3):
            write(checkpoint_dir, f"{rig}-small-flip{offset}", bytes([0]) + flipped(small, offset))
        write(checkpoint_dir, f"{rig}-small-flip-fixed", bytes([1]) + flipped(small, len(small) // 3))

        log = open(os.path.join(data_dir, "transitions.log"), "rb").read()
        short = log[: 16 + 10 * (8 + struct.unpack_from("<I", log, 16)[0])]  # header and 10 records
        for flags in (0, 1, 2, 3):
            write(log_dir, f"{rig}-{flags}", bytes([flags]) + short)
        write(log_dir, f"{rig}-full", bytes([2]) + log)
        for cut in (0, 5, 15, 16, 20, 30, len(short) - 3):
            write(log_dir, f"{rig}-cut{cut}", bytes([2]) + short[:cut])
        for offset in (0, 9, 13, 17, 22, 40, len(short) - 2):
            write(log_dir, f"{rig}-flip{offset}", bytes([2]) + flipped(short, offset))
        write(log_dir, f"{rig}-flip-fixed", bytes([3]) + flipped(short, 40))


if __name__ == "__main__":
    main()
