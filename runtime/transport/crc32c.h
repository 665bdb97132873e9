// CRC32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78): the payload checksum of every
// hearsay frame (docs/wire_format.md). Uses the SSE4.2 crc32 instruction when the build targets
// it (the default x86-64-v2 baseline does), a table otherwise; both give identical values.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>

namespace hearsay {

// CRC32C of `data`; pass a previous result as `crc` to extend it over more bytes.
// Crc32c("123456789") == 0xE3069283.
uint32_t Crc32c(std::span<const uint8_t> data, uint32_t crc = 0);

}  // namespace hearsay
