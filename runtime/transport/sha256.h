// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), used for the handshake's authentication proof
// (docs/wire_format.md). Self-contained so hearsay does not depend on OpenSSL. Not tuned for
// bulk data: the handshake hashes a few hundred bytes per connection.
// Thread-safety: Sha256 objects have one owner; the free functions are pure.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace hearsay {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  void Update(std::span<const uint8_t> data);
  void Update(std::string_view data);
  // Finishes the hash; the object must not be updated afterwards.
  Sha256Digest Finish();

 private:
  void Compress(const uint8_t* block);

  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

Sha256Digest Sha256Of(std::string_view data);
Sha256Digest HmacSha256(std::string_view key, std::string_view message);
// Lower-case hex of the digest (64 characters).
std::string DigestHex(const Sha256Digest& digest);

}  // namespace hearsay
