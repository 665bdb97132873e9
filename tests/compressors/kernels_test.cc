// The AVX2 and portable kernels (compressors/kernels.h) give identical bytes: each kernel is run
// on both paths over random bit patterns (every exponent, signs, zeros, subnormals), at many
// lengths and misaligned offsets, and the outputs compared byte for byte.
#include "compressors/kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <vector>

#include "common/random.h"
#include "compressors/wire.h"

namespace hearsay::kernels {
namespace {

// Finite floats with every exponent (including subnormals and zero) below 2^127.
std::vector<float> RandomFloats(size_t n, uint64_t seed, uint32_t max_exponent = 253) {
  const RngKey k{seed, 0, 0, kStreamData, 0};
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t w = WordAt(k, 2 * i), v = WordAt(k, 2 * i + 1);
    uint32_t e = v % (max_exponent + 1);
    if (v % 7 == 0) e = 120 + v % 10;  // many values near 1
    x[i] = BitsFloat((w & 0x807FFFFFu) | (e << 23));
    if (i % 13 == 5) x[i] = (w & 1) ? -0.0f : 0.0f;
  }
  return x;
}

// Runs `f` at every kernel level this CPU has (AVX-512, AVX2, portable) and expects the same
// bytes in `out` (cleared with 0xAB before each run).
template <typename T>
void ExpectSameOnBothPaths(std::vector<T>* out, const std::function<void()>& f, const char* what) {
  if (!UseAvx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::vector<T> portable_out;
  {
    ScopedPortableKernels portable;
    ASSERT_FALSE(UseAvx2());
    std::memset(out->data(), 0xAB, out->size() * sizeof(T));
    f();
    portable_out = *out;
  }
  for (int level = static_cast<int>(BestKernelLevel()); level > 0; --level) {
    ScopedKernelLevel cap(static_cast<KernelLevel>(level));
    ASSERT_EQ(static_cast<int>(ActiveKernelLevel()), level);
    std::memset(out->data(), 0xAB, out->size() * sizeof(T));
    f();
    ASSERT_EQ(0, std::memcmp(portable_out.data(), out->data(), out->size() * sizeof(T)))
        << what << " at kernel level " << level;
  }
}

constexpr size_t kLengths[] = {0, 1, 7, 8, 9, 31, 32, 33, 64, 100, 256, 1000, 4103};

TEST(Kernels, EncodersMatchPortable) {
  const DitherKey dk = MakeDitherKey(RngKey{3, 1, 2, 0, 0});
  for (size_t n : kLengths) {
    for (size_t off : {size_t{0}, size_t{1}, size_t{3}}) {
      const auto buf = RandomFloats(n + off, 10 + n);
      const float* x = buf.data() + off;
      const uint32_t index = static_cast<uint32_t>(17 * n + off);
      std::vector<uint8_t> out(2 * n + 16);
      uint32_t r = 0;
      // As the codec calls it: |x| * prescale <= scale * prescale, inv = max_level / that.
      const auto tiny_buf = RandomFloats(n + off, 20 + n, 20);  // all below 2^-106
      for (const float* v : {x, tiny_buf.data() + off}) {
        const float scale = BitsFloat(std::max(MaxAbsBits(v, n), 1u));
        const float prescale = scale < 0x1p-100f ? 0x1p100f : 1.0f;
        for (int32_t max_level : {1, 15, 255}) {
          const float inv = static_cast<float>(max_level) / (scale * prescale);
          ExpectSameOnBothPaths(
              &out,
              [&] {
                QsgdQuantize(v, n, index, dk, prescale, inv, max_level, out.data(),
                             out.data() + n + 8);
              },
              "qsgd");
        }
        for (int bits = 1; bits <= 8; ++bits) {  // packed planes, 4103 % 8 != 0 included
          const int32_t max_level = (1 << bits) - 1;
          const float inv = static_cast<float>(max_level) / (scale * prescale);
          ExpectSameOnBothPaths(
              &out,
              [&] {
                QsgdQuantizePacked(v, n, index, dk, prescale, inv, max_level, bits, out.data(),
                                   out.data() + n + 8);
              },
              "qsgd packed");
        }
      }
      std::vector<uint32_t> ret(1);
      ExpectSameOnBothPaths(
          &out,
          [&] {
            r = NaturalEncode(x, n, index, dk, out.data(), out.data() + n / 8 + 1);
            std::memcpy(out.data() + 2 * n + 8, &r, 4);
          },
          "natural");
      for (uint32_t base : {1u, 100u, 128u}) {
        ExpectSameOnBothPaths(
            &out, [&] { Natural8Encode(x, n, index, dk, base, out.data()); }, "natural8");
      }
      for (int32_t s : {1, 4, 127}) {
        ExpectSameOnBothPaths(
            &out, [&] { NatDitherEncode(x, n, index, dk, 1.0f, 1e-30f, s, out.data()); },
            "natdither");
      }
      ExpectSameOnBothPaths(
          &out, [&] { PackSigns(x, n, out.data()); }, "signs");
      ExpectSameOnBothPaths(
          &ret, [&] { ret[0] = MaxAbsBits(x, n); }, "max");
    }
  }
}

// The packed kernels write exactly the plane wire.h's PackBits writes: levels quantised one byte
// each and then packed give the same bytes, and unpacking gives the levels back.
TEST(Kernels, PackedQsgdPlaneIsWiresLayout) {
  const DitherKey dk = MakeDitherKey(RngKey{9, 2, 5, 0, 0});
  const auto x = RandomFloats(1003, 77, 140);
  const size_t n = x.size();
  const float scale = BitsFloat(MaxAbsBits(x.data(), n));
  for (int bits = 1; bits <= 8; ++bits) {
    const int32_t max_level = (1 << bits) - 1;
    const float inv = static_cast<float>(max_level) / scale;
    std::vector<uint8_t> levels(n), signs(n / 8 + 1), want(n), got(n, 0xAB), signs2(n / 8 + 1);
    QsgdQuantize(x.data(), n, 0, dk, 1.0f, inv, max_level, levels.data(), signs.data());
    PackBits(levels.data(), n, bits, want.data());
    QsgdQuantizePacked(x.data(), n, 0, dk, 1.0f, inv, max_level, bits, got.data(), signs2.data());
    const size_t plane = (n * bits + 7) / 8;
    EXPECT_EQ(0, std::memcmp(want.data(), got.data(), plane)) << bits << " bits";
    EXPECT_EQ(signs, signs2);
    EXPECT_GT(*std::max_element(levels.begin(), levels.end()), 0) << "input quantised to zeros";
    std::vector<float> y(n), y_ref(n);
    QsgdDequantizePacked(got.data(), signs.data(), n, bits, 0.5f, y.data(), false);
    QsgdDequantize(levels.data(), signs.data(), n, 0.5f, y_ref.data(), false);
    EXPECT_EQ(0, std::memcmp(y.data(), y_ref.data(), n * sizeof(float))) << bits << " bits";
  }
}

TEST(Kernels, BlockSumsMatchPortable) {
  const auto x = RandomFloats(4096 * 19 + 5, 4, 160);
  for (size_t block : {size_t{8}, size_t{12}, size_t{256}, size_t{4096}}) {
    for (bool squares : {false, true}) {
      const size_t nb = x.size() / block;
      std::vector<double> sums(nb);
      ExpectSameOnBothPaths(
          &sums, [&] { BlockSums(x.data() + 1, nb - 1, block, squares, sums.data()); }, "sums");
    }
  }
}

TEST(Kernels, DecodersMatchPortable) {
  const auto bytes_f = RandomFloats(5000, 5);
  std::vector<uint8_t> bytes(5000 * 4);
  std::memcpy(bytes.data(), bytes_f.data(), bytes.size());
  std::vector<uint8_t> scales(4 * 600);  // per-block scales: finite, positive, varied
  for (size_t b = 0; b < 600; ++b) {
    const float s = 0.001f * static_cast<float>(b * b % 977 + 1);
    std::memcpy(scales.data() + 4 * b, &s, 4);
  }
  for (size_t n : kLengths) {
    for (bool stream : {false, true}) {
      for (size_t off : {size_t{0}, size_t{1}, size_t{4}}) {
        std::vector<float> out(n + off + 8);
        float* y = out.data() + off;
        const uint8_t* a = bytes.data() + 3;
        const uint8_t* b = bytes.data() + 9000;
        ExpectSameOnBothPaths(
            &out,
            [&] {
              QsgdDequantize(a, b, n, 0.37f, y, stream);
              StoreFence();
            },
            "qsgd");
        for (int bits = 1; bits <= 8; ++bits) {
          ExpectSameOnBothPaths(
              &out,
              [&] {
                QsgdDequantizePacked(a, b, n, bits, 0.37f, y, stream);
                StoreFence();
              },
              "qsgd packed");
        }
        for (int bits : {1, 2, 3, 4, 5, 8}) {
          ExpectSameOnBothPaths(
              &out,
              [&] {
                QsgdDecodeBlocks(scales.data(), a, b, n, 16, bits, (1 << bits) - 1, y, stream);
                StoreFence();
              },
              "qsgd blocks");
        }
        ExpectSameOnBothPaths(
            &out,
            [&] {
              SignDecodeBlocks(scales.data(), b, n, 24, y, stream);
              StoreFence();
            },
            "sign blocks");
        ExpectSameOnBothPaths(
            &out,
            [&] {
              SignDecode(b, n, 2.5f, y, stream);
              StoreFence();
            },
            "sign");
        ExpectSameOnBothPaths(
            &out,
            [&] {
              const uint32_t m = NaturalDecode(a, b, n, y, stream);
              StoreFence();
              std::memcpy(out.data() + n + off, &m, 4);
            },
            "natural");
        ExpectSameOnBothPaths(
            &out,
            [&] {
              Natural8Decode(a, n, 77, y, stream);
              StoreFence();
            },
            "natural8");
        ExpectSameOnBothPaths(
            &out,
            [&] {
              const uint32_t m = NatDitherDecode(a, n, 3.25f, 127, y, stream);
              StoreFence();
              std::memcpy(out.data() + n + off, &m, 4);
            },
            "natdither");
      }
    }
  }
}

}  // namespace
}  // namespace hearsay::kernels
