#include "runtime/transport/auth.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace hearsay {
namespace {

static_assert(sizeof(crypto_onetimeauth_state) <= 256, "FrameMac::state_ is too small");
static_assert(alignof(crypto_onetimeauth_state) <= 16, "FrameMac::state_ is under-aligned");
static_assert(crypto_onetimeauth_BYTES == kMacBytes);
static_assert(crypto_onetimeauth_KEYBYTES == 32);
static_assert(crypto_stream_chacha20_ietf_KEYBYTES == kSessionKeyBytes);

constexpr uint32_t kProtocolTag = 2;  // the wire protocol version these derivations belong to

// Length-prefixed, so that no two field lists produce the same byte string.
void AppendField(std::string* out, std::string_view field) {
  const auto n = static_cast<uint32_t>(field.size());
  out->append(reinterpret_cast<const char*>(&n), sizeof(n));
  out->append(field);
}

std::string TranscriptBytes(std::string_view label, const Transcript& t) {
  std::string m;
  AppendField(&m, label);
  AppendField(&m, std::to_string(kProtocolTag));
  AppendField(&m, std::to_string(t.dialer));
  AppendField(&m, std::to_string(t.acceptor));
  AppendField(&m, t.dialer_nonce);
  AppendField(&m, t.acceptor_nonce);
  return m;
}

crypto_onetimeauth_state* State(unsigned char* storage) {
  return reinterpret_cast<crypto_onetimeauth_state*>(storage);
}

// libcrypto's Poly1305, fetched once; null where the provider lacks it (FrameMac then uses
// libsodium for every frame).
EVP_MAC* Poly1305Evp() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "POLY1305", nullptr);
  return mac;
}

// A Poly1305 context of libcrypto keyed with `one_time_key`, or null on any failure.
EVP_MAC_CTX* NewEvpPoly1305(const unsigned char* one_time_key) {
  EVP_MAC* mac = Poly1305Evp();
  if (mac == nullptr) return nullptr;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  if (ctx != nullptr &&
      EVP_MAC_init(ctx, one_time_key, crypto_onetimeauth_KEYBYTES, nullptr) == 1) {
    return ctx;
  }
  EVP_MAC_CTX_free(ctx);
  return nullptr;
}

}  // namespace

Status InitCrypto() {
  // sodium_init is thread-safe and returns 1 when already initialised.
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  return Status::Ok();
}

std::string MakeNonce() {
  (void)InitCrypto();
  std::string nonce(kNonceBytes, '\0');
  randombytes_buf(nonce.data(), nonce.size());
  return nonce;
}

bool BytesEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

ClusterKey::ClusterKey(std::string_view secret) {
  (void)InitCrypto();
  std::string m;
  AppendField(&m, "hearsay/2 cluster key");
  AppendField(&m, secret);
  crypto_generichash(key_.data(), key_.size(), reinterpret_cast<const unsigned char*>(m.data()),
                     m.size(), nullptr, 0);
  sodium_memzero(m.data(), m.size());
}

ClusterKey::~ClusterKey() { sodium_memzero(key_.data(), key_.size()); }

std::string ClusterKey::Proof(HandshakeRole role, const Transcript& t) const {
  const std::string m = TranscriptBytes(
      role == HandshakeRole::kDialer ? "hearsay/2 proof dialer" : "hearsay/2 proof acceptor", t);
  std::string proof(kProofBytes, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(proof.data()), proof.size(),
                     reinterpret_cast<const unsigned char*>(m.data()), m.size(), key_.data(),
                     key_.size());
  return proof;
}

SessionKeys ClusterKey::DeriveSessionKeys(const Transcript& t) const {
  SessionKeys keys;
  const std::string d2a = TranscriptBytes("hearsay/2 key d2a", t);
  const std::string a2d = TranscriptBytes("hearsay/2 key a2d", t);
  crypto_generichash(keys.dialer_to_acceptor.data(), keys.dialer_to_acceptor.size(),
                     reinterpret_cast<const unsigned char*>(d2a.data()), d2a.size(), key_.data(),
                     key_.size());
  crypto_generichash(keys.acceptor_to_dialer.data(), keys.acceptor_to_dialer.size(),
                     reinterpret_cast<const unsigned char*>(a2d.data()), a2d.size(), key_.data(),
                     key_.size());
  return keys;
}

FrameMac::FrameMac(const SessionKey& key, uint64_t seq, size_t frame_bytes) {
  static_assert(kEvpBlockBytes < sizeof(state_) && kEvpBlockBytes % 16 == 0);
  // The one-time Poly1305 key is the first block of ChaCha20 keystream under the direction's
  // session key with the sequence number as nonce (RFC 8439 section 2.6).
  unsigned char nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {};
  std::memcpy(nonce + sizeof(nonce) - sizeof(seq), &seq, sizeof(seq));
  unsigned char one_time_key[crypto_onetimeauth_KEYBYTES];
  crypto_stream_chacha20_ietf(one_time_key, sizeof(one_time_key), nonce, key.data());
  if (frame_bytes >= kLongFrameMacBytes) evp_ = NewEvpPoly1305(one_time_key);
  if (evp_ == nullptr) crypto_onetimeauth_init(State(state_), one_time_key);
  sodium_memzero(one_time_key, sizeof(one_time_key));
}

FrameMac::~FrameMac() {
  EVP_MAC_CTX_free(evp_);  // wipes the key
  sodium_memzero(state_, sizeof(state_));
}

void FrameMac::Update(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  if (evp_ == nullptr) {
    crypto_onetimeauth_update(State(state_), bytes.data(), bytes.size());
  } else {
    const uint8_t* p = bytes.data();
    size_t n = bytes.size();
    if (held_ > 0) {  // complete the held block first
      const size_t take = std::min(n, kEvpBlockBytes - held_);
      std::memcpy(state_ + held_, p, take);
      held_ += take;
      p += take;
      n -= take;
      if (held_ < kEvpBlockBytes) return;
      EvpUpdate(state_, kEvpBlockBytes);
      held_ = 0;
    }
    const size_t whole = n - n % kEvpBlockBytes;
    if (whole > 0) EvpUpdate(p, whole);
    std::memcpy(state_, p + whole, n - whole);
    held_ = n - whole;
  }
}

void FrameMac::EvpUpdate(const uint8_t* p, size_t n) {
  if (EVP_MAC_update(evp_, p, n) != 1) failed_ = true;
}

MacTag FrameMac::Final() {
  MacTag tag;
  if (evp_ == nullptr) {
    crypto_onetimeauth_final(State(state_), tag.data());
    return tag;
  }
  if (held_ > 0) EvpUpdate(state_, held_);
  held_ = 0;
  size_t written = 0;
  if (failed_ || EVP_MAC_final(evp_, tag.data(), &written, tag.size()) != 1 ||
      written != tag.size()) {
    randombytes_buf(tag.data(), tag.size());
  }
  return tag;
}

bool TagEquals(const MacTag& expected, std::span<const uint8_t> received) {
  return received.size() == kMacBytes && crypto_verify_16(expected.data(), received.data()) == 0;
}

}  // namespace hearsay
