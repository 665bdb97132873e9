// Writes the seed corpus of the fuzz targets that need well-formed binary inputs (frame_fuzz,
// codec_fuzz) into fuzz/corpus/<target>/. Text targets' seeds are plain files made by hand.
//   usage: fuzz_make_seeds SOURCE_DIR      (built by `make fuzz`; docs/fuzzing.md)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "compressors/compressor.h"
#include "runtime/transport/frame.h"
#include "runtime/transport/handshake.h"

namespace {

using namespace hearsay;
namespace fs = std::filesystem;

void Write(const fs::path& dir, const std::string& name, const ByteBuffer& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

void Append(ByteBuffer* out, const ByteBuffer& b) { out->insert(out->end(), b.begin(), b.end()); }

void FrameSeeds(const fs::path& dir) {
  HandshakeSetup s;
  s.role = HandshakeRole::kDialer;
  s.self = 0;
  s.peer = 1;
  s.key = std::make_shared<const ClusterKey>("fuzz-cluster-secret");
  s.config = ClusterConfig{"fuzz", 42, "softmax params=10", "dpsgd"};
  Handshake dialer(s);
  const ControlFrame hello = dialer.Hello();
  ByteBuffer seed = {0};  // mode 0: at the acceptor
  Append(&seed, EncodeFrameHead(hello.header, 0, false));
  Write(dir, "acceptor_hello", seed);
  FrameHeader reply;
  reply.kind = FrameKind::kHello;
  reply.sender = 1;
  reply.receiver = 0;
  reply.nonce = std::string(kNonceBytes, 'n');
  reply.proof = std::string(kProofBytes, 'p');
  seed = {1};  // mode 1: at the dialer
  Append(&seed, EncodeFrameHead(reply, 0, false));
  Write(dir, "dialer_hello", seed);
  FrameHeader refuse = reply;
  refuse.kind = FrameKind::kRefuse;
  refuse.reason = "go away";
  seed = {4};
  Append(&seed, EncodeFrameHead(refuse, 0, false));
  Write(dir, "dialer_refuse", seed);
  // mode 2: MAC'd message frames, small and large.
  seed = {2};
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    Message m;
    m.from = 0;
    m.to = 1;
    m.round = static_cast<int64_t>(seq);
    m.kind = seq == 3 ? MessageKind::kDone : MessageKind::kGossip;
    ByteBuffer head = EncodeFrameHead(DataFrameHeader(m, seq, seq - 1), 0, true);
    const ByteBuffer header(head.begin() + kFramePrefixBytes, head.end());
    seed.push_back(static_cast<uint8_t>(header.size()));
    seed.push_back(static_cast<uint8_t>(header.size() >> 8));
    Append(&seed, header);
    const uint32_t payload = seq == 2 ? 200000 : 100;
    seed.push_back(static_cast<uint8_t>(payload));
    seed.push_back(static_cast<uint8_t>(payload >> 8));
    seed.push_back(static_cast<uint8_t>(payload >> 16));
    seed.push_back(static_cast<uint8_t>(seq * 17));
  }
  Write(dir, "macd_messages", seed);
}

void CodecSeeds(const fs::path& dir) {
  // Same order as fuzz/codec_fuzz.cc's spec list.
  const std::vector<std::string> specs = {"identity",
                                          "fp16",
                                          "bf16",
                                          "qsgd:1",
                                          "qsgd:2",
                                          "qsgd:4",
                                          "qsgd:8",
                                          "qsgd:4:64",
                                          "qsgd:2:norm=l2",
                                          "qsgd:8:norm=l2",
                                          "terngrad",
                                          "minmax8",
                                          "minmax8:64",
                                          "natural",
                                          "natural8",
                                          "natdither:3",
                                          "natdither:8:64",
                                          "sign",
                                          "sign:64",
                                          "topk:0.1",
                                          "topk:1",
                                          "randk:0.25",
                                          "randk_unbiased:0.3",
                                          "then(topk:0.1,natural)",
                                          "then(randk_unbiased:0.5,qsgd:4)",
                                          "ef(qsgd:2)",
                                          "ef(topk:0.05)",
                                          "ef(sign)"};
  std::vector<float> x(64);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) - 3.0f + 0.25f * i;
  for (size_t i = 0; i < specs.size(); ++i) {
    auto c = MakeCompressor(specs[i]);
    if (!c.ok()) continue;
    ByteBuffer payload;
    if (!(*c)->Encode(x, RngKey{7, 1, 3, 0, 0}, &payload).ok()) continue;
    // d = 1 + 63 = 64 elements.
    ByteBuffer decode = {static_cast<uint8_t>(i), 0, 0, 63};
    Append(&decode, payload);
    Write(dir, "decode_" + std::to_string(i), decode);
    ByteBuffer encode = {static_cast<uint8_t>(i), 1, 0, 63};
    const auto* raw = reinterpret_cast<const uint8_t*>(x.data());
    encode.insert(encode.end(), raw, raw + 4 * x.size());
    Write(dir, "encode_" + std::to_string(i), encode);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SOURCE_DIR\n", argv[0]);
    return 1;
  }
  const fs::path corpus = fs::path(argv[1]) / "fuzz" / "corpus";
  FrameSeeds(corpus / "frame_fuzz");
  CodecSeeds(corpus / "codec_fuzz");
  return 0;
}
