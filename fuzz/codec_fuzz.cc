// libFuzzer target: every codec decoder on arbitrary bytes, and every codec's encoder on
// arbitrary floats (NaN, infinities, huge and tiny values) followed by its own decoder.
//   input: [codec selector][mode][2 bytes: element count] then payload or float bytes
// Invariants: Decode of any bytes returns a Status and never reads or writes out of bounds
// (ASan); whatever Encode accepts, the same codec's Decode accepts (issue 8: qsgd:norm=l2 wrote
// an infinite scale its own decoder rejected).
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "compressors/compressor.h"

namespace {

const std::vector<std::string>& Specs() {
  static const std::vector<std::string> specs = {"identity",
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
  return specs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hearsay;
  if (size < 4) return 0;
  const std::string& spec = Specs()[data[0] % Specs().size()];
  const bool encode_mode = data[1] & 1;
  const size_t d = 1 + ((static_cast<size_t>(data[2]) << 8 | data[3]) % 1024);
  data += 4;
  size -= 4;
  auto made = MakeCompressor(spec);
  if (!made.ok()) __builtin_trap();  // every spec above is valid
  Compressor& codec = **made;
  const RngKey key{7, 1, 3, 0, 0};
  std::vector<float> out(d);
  if (!encode_mode) {
    (void)codec.Decode({data, size}, key, out);
    return 0;
  }
  std::vector<float> x(d, 0.0f);
  std::memcpy(x.data(), data, std::min(size, d * sizeof(float)));
  ByteBuffer bytes;
  if (!codec.Encode(x, key, &bytes).ok()) {
    if (!bytes.empty()) __builtin_trap();  // a refused encode leaves nothing behind
    return 0;
  }
  auto decoder = MakeCompressor(spec);
  if (!(*decoder)->Decode(bytes, key, out).ok()) __builtin_trap();
  return 0;
}
