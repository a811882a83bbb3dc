#pragma once

#include <cstddef>
#include <cstdint>

namespace isoscope::detail {

// The fixed 26-byte envelope: a msgpack array of five with fixed-width encodings, so the
// magic, the version and the body length sit at known offsets and can be checked before
// any msgpack parsing:
//   0x95 | 0xa8 "ISOSCOPE" | 0xcd major(u16) | 0xcd minor(u16) | 0xce crc32(u32) | 0xc6 len(u32)
// followed by `len` bytes of body (a msgpack map). Integers are big-endian, as in msgpack.
constexpr char kMagic[] = "ISOSCOPE";
constexpr size_t kMagicLen = 8;
constexpr size_t kHeaderSize = 26;
constexpr size_t kMajorOffset = 11;
constexpr size_t kMinorOffset = 14;
constexpr size_t kCrcOffset = 17;
constexpr size_t kLengthOffset = 22;

// Leaf marker in a tree's per-node feature array.
constexpr uint16_t kLeafFeature = 0xFFFF;

}  // namespace isoscope::detail
