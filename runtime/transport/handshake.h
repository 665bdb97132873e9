// Handshake rules shared by both ends of a hearsay connection (docs/wire_format.md
// "Handshake"): comparing the two sides' HELLO fields and deriving the authentication proofs.
//
//   dialer (lower id)                       acceptor (higher id)
//   HELLO{identity, nonce_d}        ->
//                                   <-      HELLO{identity, nonce_a, proof_a} | REFUSE{reason}
//   AUTH{proof_d} | REFUSE{reason}  ->
//                                   <-      WELCOME | REFUSE{reason}
//
// proof_a = HMAC-SHA256(secret, "hearsay/1 acceptor" | cluster | dialer | acceptor | nonce_d |
// nonce_a), proof_d the same with "dialer": each side proves it knows the secret and has seen
// this connection's fresh nonces (no replay).
// Thread-safety: pure functions (MakeNonce uses a thread-local generator).
#pragma once

#include <string>

#include "runtime/transport/frame.h"

namespace hearsay {

inline constexpr size_t kNonceBytes = 16;

enum class HandshakeRole { kDialer, kAcceptor };

// "" when `theirs` may talk to `ours`; otherwise the first difference, written from our side:
// "topology hash 0x1a2b... differs from ours 0x9f8e...".
std::string HelloMismatch(const HelloInfo& theirs, const HelloInfo& ours);

// Proof that the side playing `role` knows `secret`, bound to both ids and nonces.
std::string HandshakeProof(HandshakeRole role, const std::string& secret,
                           const std::string& cluster_id, int dialer, int acceptor,
                           const std::string& dialer_nonce, const std::string& acceptor_nonce);

// Constant-time comparison of two proofs.
bool ProofsEqual(const std::string& a, const std::string& b);

// kNonceBytes fresh random bytes.
std::string MakeNonce();

// "0x" and 16 hex digits.
std::string Hex64(uint64_t v);

}  // namespace hearsay
