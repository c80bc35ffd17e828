#!/usr/bin/env python3
"""Regenerates the golden files of core/cas independently of the Go code.

cas_ids come from b3sum (the BLAKE3 reference implementation) over a sampled-v1 message built here
from REFERENCE.md §1; content UUIDs come from Python's uuid.uuid5. Content is the pattern
byte(i) = ((i * 0x9E3779B1) mod 2**64) >> 15 & 0xff, which patternReaderAt in cas_test.go
reproduces, so sizes far beyond a test's disk are covered.

    cd core/cas/testdata && python3 gen_golden.py
"""
import struct
import subprocess
import uuid

MASK = (1 << 64) - 1


def pattern(off, n):
    return bytes((((i * 0x9E3779B1) & MASK) >> 15) & 0xFF for i in range(off, off + n))


def message(size):
    head = struct.pack("<Q", size)
    if size <= 102400:
        return head + pattern(0, size)
    jump = (size - 16384) // 4
    parts = [pattern(0, 8192)]
    parts += [pattern(8192 + i * jump, 10240) for i in range(4)]
    parts.append(pattern(size - 8192, 8192))
    return head + b"".join(parts)


def b3(data):
    out = subprocess.run(["b3sum", "--no-names"], input=data, capture_output=True, check=True)
    return out.stdout.decode().split()[0]


SIZES = [1, 2, 7, 8191, 8192, 16384, 16385, 57345, 102399, 102400, 102401, 102403, 1 << 20,
         50 << 20, (1 << 30) + 12345, 1 << 40, (1 << 63) - 1]

ids = []
with open("sampled-v1.golden", "w") as f:
    f.write("# size cas_id — content byte(i) = ((i*0x9E3779B1) mod 2^64) >> 15 & 0xff; gen_golden.py\n")
    for size in SIZES:
        cid = b3(message(size))[:16]
        ids.append(cid)
        f.write(f"{size} {cid}\n")

NS = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
with open("content-uuid.golden", "w") as f:
    f.write("# cas_id uuidv5(6ba7b810-9dad-11d1-80b4-00c04fd430c8, cas_id) — Python uuid.uuid5; gen_golden.py\n")
    for cid in ids[:6] + ["0000000000000000", "ffffffffffffffff", "af1349b9f5f9a1a6"]:
        f.write(f"{cid} {uuid.uuid5(NS, cid)}\n")
