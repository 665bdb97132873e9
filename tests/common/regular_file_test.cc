// Input files that must be regular files (common/regular_file.h).
#include "common/regular_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace hearsay {
namespace {

TEST(RegularFile, ReadsAndCapsRegularFiles) {
  const std::string path = ::testing::TempDir() + "/hearsay_regular_" + std::to_string(::getpid());
  std::ofstream(path) << "hello";
  Result<std::string> r = ReadRegularFile(path, 100, "test file");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "hello");
  EXPECT_TRUE(CheckRegularFile(path, 5, "test file").ok());
  const Status big = CheckRegularFile(path, 4, "test file");
  EXPECT_EQ(big.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(big.message().find("5 bytes, more than the limit of 4"), std::string::npos);
  EXPECT_FALSE(ReadRegularFile(path, 4, "test file").ok());
  ::unlink(path.c_str());
  EXPECT_EQ(CheckRegularFile(path, 4, "test file").code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadRegularFile(path, 4, "test file").status().code(), StatusCode::kNotFound);
}

TEST(RegularFile, OpenReadsPiecesAtOffsetsAndNamesAShortRead) {
  const std::string path =
      ::testing::TempDir() + "/hearsay_regular_at_" + std::to_string(::getpid());
  std::ofstream(path) << "0123456789";
  Result<RegularFile> f = RegularFile::Open(path, 100, "test file");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->size(), 10u);
  char buf[4] = {};
  ASSERT_TRUE(f->ReadAt(6, buf, 4).ok());
  EXPECT_EQ(std::string(buf, 4), "6789");
  ASSERT_TRUE(f->ReadAt(2, buf, 3).ok());
  EXPECT_EQ(std::string(buf, 3), "234");
  const Status past = f->ReadAt(8, buf, 4);
  EXPECT_EQ(past.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(past.message(), path +
                                ": test file ends at byte 10, 2 bytes short of what was to be "
                                "read there (did it change while being read?)");
  RegularFile moved = std::move(f).value();  // the descriptor moves with it
  ASSERT_TRUE(moved.ReadAt(0, buf, 1).ok());
  EXPECT_EQ(buf[0], '0');
  EXPECT_FALSE(RegularFile::Open(path, 9, "test file").ok());
  EXPECT_FALSE(RegularFile::Open("/dev/zero", 100, "test file").ok());
  ::unlink(path.c_str());
  EXPECT_EQ(RegularFile::Open(path, 100, "test file").status().code(), StatusCode::kNotFound);
}

TEST(RegularFile, RefusesDevicesFifosAndDirectoriesWithoutBlocking) {
  const Status dev = CheckRegularFile("/dev/zero", 1 << 20, "data file");
  EXPECT_EQ(dev.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(dev.message(), "/dev/zero: data file is a character device, not a regular file");
  EXPECT_FALSE(ReadRegularFile("/dev/urandom", 1 << 20, "data file").ok());
  const std::string fifo = ::testing::TempDir() + "/hearsay_fifo_" + std::to_string(::getpid());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // No writer: a plain open would block here for ever.
  Result<std::string> r = ReadRegularFile(fifo, 1 << 20, "data file");
  ::unlink(fifo.c_str());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("FIFO"), std::string::npos) << r.status().message();
  EXPECT_NE(CheckRegularFile("/tmp", 1, "data file").message().find("directory"),
            std::string::npos);
}

}  // namespace
}  // namespace hearsay
