// Device query: runs on every machine (no GPU needed for these).
#include "common/cuda/cuda_device.h"

#include <gtest/gtest.h>

#include "tests/cuda/cuda_test_util.h"

namespace hearsay::cuda {
namespace {

TEST(CudaDevice, CountIsNeverAnErrorWithoutDriver) {
  Result<int> n = CudaDeviceCount();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_GE(*n, 0);
}

TEST(CudaDevice, MissingDeviceGivesClearMessage) {
  Result<int> n = CudaDeviceCount();
  ASSERT_TRUE(n.ok());
  const Status s = CheckCudaDevice(*n);  // one past the last device: never usable
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("device cuda:" + std::to_string(*n) + " requested but"),
            std::string::npos)
      << s.message();
  if (*n == 0) {
    EXPECT_NE(s.message().find("no usable GPU"), std::string::npos) << s.message();
  }
}

TEST(CudaDevice, BuffersRoundTrip) {
  HEARSAY_REQUIRE_GPU();
  const std::vector<float> x = testing::SeededInput(1000, 3);
  ASSERT_TRUE(testing::AnyNonZero(x));
  DeviceBuffer<float> d = testing::Upload(x);
  EXPECT_TRUE(testing::SameBits(testing::Download(d.data(), x.size()), x));
  auto pinned = PinnedBuffer<float>::Create(x.size());
  ASSERT_TRUE(pinned.ok());
  auto stream = CudaStream::Create();
  ASSERT_TRUE(stream.ok());
  ASSERT_TRUE(CopyToHost(pinned->data(), d.data(), d.bytes(), stream->handle(), "t").ok());
  ASSERT_TRUE(stream->Synchronize().ok());
  EXPECT_TRUE(testing::SameBits(std::vector<float>(pinned->data(), pinned->data() + x.size()), x));
}

}  // namespace
}  // namespace hearsay::cuda
