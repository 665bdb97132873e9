// Bit-plane packing. The loops are templated on the bit width so that the compiler unrolls the
// 8-value groups into shifts and one store.
#include "compressors/wire.h"

namespace hearsay {
namespace {

template <int kBits>
void PackBitsT(const uint8_t* v, size_t n, uint8_t* dst) {
  const size_t full = n / 8;
  for (size_t g = 0; g < full; ++g) {
    if constexpr (kBits == 8) {
      std::memcpy(dst + g * 8, v + g * 8, 8);
    } else {
      uint64_t acc = 0;
      for (int j = 0; j < 8; ++j) acc |= static_cast<uint64_t>(v[g * 8 + j]) << (j * kBits);
      std::memcpy(dst + g * kBits, &acc, kBits);
    }
  }
  const size_t rest = n - full * 8;
  if (rest != 0) {
    uint8_t tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(tmp, v + full * 8, rest);
    uint8_t packed[8];
    Pack8(tmp, kBits, packed);
    std::memcpy(dst + full * kBits, packed, DivUp(rest * kBits, 8));
  }
}

template <int kBits>
void UnpackBitsT(const uint8_t* src, size_t n, uint8_t* v) {
  const size_t full = n / 8;
  constexpr uint64_t kMask = (uint64_t{1} << kBits) - 1;
  for (size_t g = 0; g < full; ++g) {
    if constexpr (kBits == 8) {
      std::memcpy(v + g * 8, src + g * 8, 8);
    } else {
      uint64_t acc = 0;
      std::memcpy(&acc, src + g * kBits, kBits);
      for (int j = 0; j < 8; ++j) v[g * 8 + j] = static_cast<uint8_t>((acc >> (j * kBits)) & kMask);
    }
  }
  const size_t rest = n - full * 8;
  if (rest != 0) {
    uint8_t packed[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(packed, src + full * kBits, DivUp(rest * kBits, 8));
    uint8_t tmp[8];
    Unpack8(packed, kBits, tmp);
    std::memcpy(v + full * 8, tmp, rest);
  }
}

}  // namespace

void PackBits(const uint8_t* v, size_t n, int bits, uint8_t* dst) {
  switch (bits) {
    case 1:
      return PackBitsT<1>(v, n, dst);
    case 2:
      return PackBitsT<2>(v, n, dst);
    case 3:
      return PackBitsT<3>(v, n, dst);
    case 4:
      return PackBitsT<4>(v, n, dst);
    case 5:
      return PackBitsT<5>(v, n, dst);
    case 6:
      return PackBitsT<6>(v, n, dst);
    case 7:
      return PackBitsT<7>(v, n, dst);
    default:
      return PackBitsT<8>(v, n, dst);
  }
}

void UnpackBits(const uint8_t* src, size_t n, int bits, uint8_t* v) {
  switch (bits) {
    case 1:
      return UnpackBitsT<1>(src, n, v);
    case 2:
      return UnpackBitsT<2>(src, n, v);
    case 3:
      return UnpackBitsT<3>(src, n, v);
    case 4:
      return UnpackBitsT<4>(src, n, v);
    case 5:
      return UnpackBitsT<5>(src, n, v);
    case 6:
      return UnpackBitsT<6>(src, n, v);
    case 7:
      return UnpackBitsT<7>(src, n, v);
    default:
      return UnpackBitsT<8>(src, n, v);
  }
}

}  // namespace hearsay
