#include "runtime/transport/handshake.h"

#include <cinttypes>
#include <cstdio>
#include <random>

#include "runtime/transport/sha256.h"

namespace hearsay {
namespace {

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

void AppendField(std::string* out, const std::string& field) {
  // Length-prefixed so that no two field lists produce the same byte string.
  const auto n = static_cast<uint32_t>(field.size());
  out->append(reinterpret_cast<const char*>(&n), sizeof(n));
  out->append(field);
}

}  // namespace

std::string Hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
  return buf;
}

std::string HelloMismatch(const HelloInfo& theirs, const HelloInfo& ours) {
  if (theirs.protocol_version != ours.protocol_version) {
    return "protocol version " + std::to_string(theirs.protocol_version) + " differs from ours " +
           std::to_string(ours.protocol_version);
  }
  if (theirs.cluster_id != ours.cluster_id) {
    return "cluster id " + Quoted(theirs.cluster_id) + " differs from ours " +
           Quoted(ours.cluster_id);
  }
  if (theirs.topology_hash != ours.topology_hash) {
    return "topology hash " + Hex64(theirs.topology_hash) + " differs from ours " +
           Hex64(ours.topology_hash);
  }
  if (theirs.model_shape != ours.model_shape) {
    return "model shape " + Quoted(theirs.model_shape) + " differs from ours " +
           Quoted(ours.model_shape);
  }
  if (theirs.algorithm != ours.algorithm) {
    return "algorithm " + Quoted(theirs.algorithm) + " differs from ours " + Quoted(ours.algorithm);
  }
  if (theirs.nonce.size() != kNonceBytes) {
    return "nonce has " + std::to_string(theirs.nonce.size()) + " bytes, expected " +
           std::to_string(kNonceBytes);
  }
  return "";
}

std::string HandshakeProof(HandshakeRole role, const std::string& secret,
                           const std::string& cluster_id, int dialer, int acceptor,
                           const std::string& dialer_nonce, const std::string& acceptor_nonce) {
  std::string message = role == HandshakeRole::kDialer ? "hearsay/1 dialer" : "hearsay/1 acceptor";
  AppendField(&message, cluster_id);
  AppendField(&message, std::to_string(dialer));
  AppendField(&message, std::to_string(acceptor));
  AppendField(&message, dialer_nonce);
  AppendField(&message, acceptor_nonce);
  const Sha256Digest mac = HmacSha256(secret, message);
  return std::string(mac.begin(), mac.end());
}

bool ProofsEqual(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string MakeNonce() {
  thread_local std::mt19937_64 gen([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  std::string nonce(kNonceBytes, '\0');
  for (size_t i = 0; i < kNonceBytes; i += 8) {
    const uint64_t r = gen();
    for (size_t k = 0; k < 8 && i + k < kNonceBytes; ++k)
      nonce[i + k] = static_cast<char>(r >> (8 * k));
  }
  return nonce;
}

}  // namespace hearsay
