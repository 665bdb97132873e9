// The cryptography of the wire protocol (docs/wire_format.md "Authentication"), all of it from
// libsodium and OpenSSL's libcrypto: random nonces, proofs of the cluster secret, per-connection
// session keys and the per-frame MAC. Nothing here is hand-written cryptography.
//
//   K           = BLAKE2b-256("hearsay/2 cluster key" | secret)                 once per transport
//   T           = version | dialer id | acceptor id | nonce_d | nonce_a         (length-prefixed)
//   proof_role  = BLAKE2b-256 keyed with K over "hearsay/2 proof <role>" | T
//   key_dir     = BLAKE2b-256 keyed with K over "hearsay/2 key <dir>" | T        dir: d2a, a2d
//   frame MAC   = Poly1305 with the one-time key ChaCha20(key_dir, nonce = seq)[0..32) over
//                 prefix | header | payload                                    (as in RFC 8439)
//
// Each connection has fresh nonces from both sides, so its keys are fresh; a (key, seq) pair is
// used for one frame only, which is what Poly1305 requires.
// Thread-safety: ClusterKey is immutable after construction and may be shared; FrameMac is a
// value owned by one thread at a time; the free functions are thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

struct evp_mac_ctx_st;  // OpenSSL's EVP_MAC_CTX, kept out of this header

namespace hearsay {

inline constexpr size_t kNonceBytes = 32;
inline constexpr size_t kProofBytes = 32;
inline constexpr size_t kSessionKeyBytes = 32;
inline constexpr size_t kMacBytes = 16;

using SessionKey = std::array<uint8_t, kSessionKeyBytes>;
using MacTag = std::array<uint8_t, kMacBytes>;

enum class HandshakeRole { kDialer, kAcceptor };

// Initialises libsodium (idempotent, thread-safe). Internal when the library cannot start.
Status InitCrypto();

// kNonceBytes bytes from the operating system's random generator (libsodium randombytes).
std::string MakeNonce();

// Constant-time equality of two byte strings (false when the sizes differ).
bool BytesEqual(std::string_view a, std::string_view b);

// The identities and nonces one handshake binds its proofs and keys to.
struct Transcript {
  int dialer = -1;
  int acceptor = -1;
  std::string dialer_nonce;
  std::string acceptor_nonce;
};

struct SessionKeys {
  SessionKey dialer_to_acceptor{};
  SessionKey acceptor_to_dialer{};
};

// The cluster key derived from the shared secret; wipes itself on destruction.
class ClusterKey {
 public:
  explicit ClusterKey(std::string_view secret);
  ~ClusterKey();
  ClusterKey(const ClusterKey&) = delete;
  ClusterKey& operator=(const ClusterKey&) = delete;

  // kProofBytes bytes proving that the side playing `role` knows the secret, bound to t.
  std::string Proof(HandshakeRole role, const Transcript& t) const;
  SessionKeys DeriveSessionKeys(const Transcript& t) const;

 private:
  std::array<uint8_t, 32> key_{};
};

// Frames of at least this many bytes are MAC'd with libcrypto's Poly1305 (vectorised: about 3x
// libsodium's on AVX-512, docs/wire_format.md "Performance"), shorter ones with libsodium's, which
// costs less to set up. Both compute the same function, so the tag does not depend on the choice.
inline constexpr size_t kLongFrameMacBytes = 512;
inline constexpr size_t kEvpBlockBytes = 128;

// Streaming MAC of one frame (prefix, header and payload may arrive in pieces). `frame_bytes` is
// how many bytes the frame will MAC (prefix + header + payload); it only picks the implementation.
class FrameMac {
 public:
  FrameMac(const SessionKey& key, uint64_t seq, size_t frame_bytes = 0);
  ~FrameMac();
  FrameMac(const FrameMac&) = delete;
  FrameMac& operator=(const FrameMac&) = delete;

  void Update(std::span<const uint8_t> bytes);
  // The tag. Should libcrypto fail midway (it does not for Poly1305, but its calls can return an
  // error), a random tag, which no frame carries: the frame is then rejected, never accepted.
  MacTag Final();

  // Whether this frame's MAC runs on libcrypto (for tests).
  bool vectorised() const { return evp_ != nullptr; }

 private:
  void EvpUpdate(const uint8_t* p, size_t n);

  // libsodium's Poly1305 state when evp_ is null; else the bytes held back so that libcrypto is
  // fed whole multiples of kEvpBlockBytes (its 512-bit loop runs only on such calls: 11 against
  // 7.6 GB/s here).
  alignas(16) unsigned char state_[256];
  evp_mac_ctx_st* evp_ = nullptr;  // libcrypto's Poly1305, for long frames
  size_t held_ = 0;                // bytes held in state_ (evp_ only)
  bool failed_ = false;
};

// Constant-time check of a received tag.
bool TagEquals(const MacTag& expected, std::span<const uint8_t> received);

}  // namespace hearsay
