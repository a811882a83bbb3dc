#!/usr/bin/python3
"""Independent implementation of isoscope's shard hash (spec: native/config/shard.h), written from the
spec and not from the C++ code. It prints the golden file tests/golden/shard/group_hash.json:

    /usr/bin/python3 tools/shard_hash.py > tests/golden/shard/group_hash.json

Spec: the group's labels (detector + group_by labels, absent = ""), sorted by name (bytewise),
each encoded as UTF-8 name "=" value, joined by the byte 0xFF; FNV-1a 64 over those bytes
(offset basis 0xcbf29ce484222325, prime 0x100000001b3); shard = hash mod N.
Also: `tools/shard_hash.py --shard N detector=x job=y` prints the shard of one group.
"""
import json
import sys

OFFSET = 0xCBF29CE484222325
PRIME = 0x100000001B3


def fnv1a64(data: bytes) -> int:
    h = OFFSET
    for b in data:
        h ^= b
        h = (h * PRIME) % (1 << 64)
    return h


def group_bytes(labels: dict) -> bytes:
    pairs = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in labels.items())
    return b"\xff".join(k + b"=" + v for k, v in pairs)


def group_hash(labels: dict) -> int:
    return fnv1a64(group_bytes(labels))


# Label sets chosen for the sharp edges: one label, order of names (uppercase < "_" < lowercase
# bytewise), an empty value, '=' and 0xFF-adjacent UTF-8 in values, many labels.
CASES = [
    {"detector": "checkout"},
    {"detector": "checkout", "job": "checkout"},
    {"detector": "checkout", "job": "payments"},
    {"job": "payments", "detector": "checkout"},
    {"detector": "api", "job": "", "zone": "eu-1"},
    {"detector": "api", "Zone": "b", "_x": "c", "zone": "d"},
    {"detector": "d", "path": "/a=b", "q": "x=y=z"},
    {"detector": "d", "city": "Zürich", "emoji": "\u00ff\u0100"},
    {"detector": "checkout", "job": "checkout-0", "instance": "10.0.0.1:9100", "pod": "api-7f9c"},
]
# The raw FNV-1a 64 vectors published with the algorithm (Fowler/Noll/Vo test suite).
FNV_VECTORS = {"": "cbf29ce484222325", "a": "af63dc4c8601ec8c", "foobar": "85944171f73967e8"}
SHARD_COUNTS = [1, 2, 3, 7, 1024]


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--shard":
        n = int(sys.argv[2])
        labels = dict(a.split("=", 1) for a in sys.argv[3:])
        print(group_hash(labels) % n)
        return
    for text, want in FNV_VECTORS.items():
        assert "%016x" % fnv1a64(text.encode()) == want, text
    out = {"fnv1a64": FNV_VECTORS, "groups": []}
    for labels in CASES:
        h = group_hash(labels)
        out["groups"].append({
            "labels": labels,
            "bytes_hex": group_bytes(labels).hex(),
            "hash": "%016x" % h,
            "shard_of": {str(n): h % n for n in SHARD_COUNTS},
        })
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
