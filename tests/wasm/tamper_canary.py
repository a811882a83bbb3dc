"""Writes a copy of a bundle whose first canary expects a score 1e-9 off (tolerance 1e-12),
re-packed with a valid CRC and length: a well-formed file that must fail its canary check.
  tamper_canary.py SRC DST   (prints the canary's label)"""
import struct
import sys
import zlib

import msgpack

src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
head, (crc, n) = data[:16], struct.unpack(">xIxI", data[16:26])
assert data[0] == 0x95 and data[1:10] == b"\xa8ISOSCOPE", "not an isoscope bundle"
assert data[16] == 0xCE and data[21] == 0xC6, "unexpected header encoding"
body = data[26:]
assert len(body) == n and zlib.crc32(body) == crc, "source bundle length/CRC"
obj = msgpack.unpackb(body, raw=False, strict_map_key=False)


def pack(o):
    return msgpack.packb(o, use_bin_type=True, use_single_float=False)


assert pack(obj) == body, "msgpack round trip changed the body"
c = obj["canaries"][0]
c["anomaly_score"] += 1e-9
new = pack(obj)
assert len(new) == len(body)
with open(dst, "wb") as f:
    f.write(head + struct.pack(">BIBI", 0xCE, zlib.crc32(new), 0xC6, len(new)) + new)
print(c["label"])
