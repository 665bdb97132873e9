// Bounded helpers of the transport: the buffer pool, the log limiter, and where the cluster
// secret comes from (runtime/transport/{buffer_pool,log_limiter,secret}.h).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "runtime/peer/experiment.h"
#include "runtime/transport/buffer_pool.h"
#include "runtime/transport/log_limiter.h"
#include "runtime/transport/secret.h"
#include "runtime/transport/tcp/tcp_transport.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

TEST(BufferPool, ReusesFittingBuffersWithinBounds) {
  BufferPool pool(/*max_buffers=*/2, /*max_bytes=*/3 << 20, /*min_bytes=*/1024);
  ByteBuffer a(1 << 20, 1);
  const uint8_t* a_data = a.data();
  pool.Release(std::move(a));
  EXPECT_EQ(pool.pooled_buffers(), 1u);
  ByteBuffer got = pool.Acquire(900 << 10);  // fits (not more than 4x too large)
  EXPECT_EQ(got.data(), a_data);
  EXPECT_EQ(pool.pooled_buffers(), 0u);
  pool.Release(std::move(got));
  ByteBuffer tiny = pool.Acquire(1000);  // 1 MiB for 1000 bytes is wasteful: a fresh one
  EXPECT_NE(tiny.data(), a_data);
  EXPECT_GE(tiny.capacity(), 1000u);
  pool.Release(ByteBuffer(100));  // below min_bytes: not kept
  EXPECT_EQ(pool.pooled_buffers(), 1u);
  pool.Release(ByteBuffer(1 << 20));
  pool.Release(ByteBuffer(1 << 20));  // over max_buffers
  EXPECT_EQ(pool.pooled_buffers(), 2u);
  EXPECT_LE(pool.pooled_bytes(), 3u << 20);
}

// A payload sent to several neighbours is one buffer with several holders: the last to let go
// gives it back to the pool (from whichever thread), and none of them sees it change meanwhile;
// a pool that is gone by then is not touched.
TEST(BufferPool, ASharedBufferGoesBackFromItsLastHolderOnly) {
  auto pool = std::make_shared<BufferPool>(/*max_buffers=*/4, /*max_bytes=*/8 << 20,
                                           /*min_bytes=*/1024);
  ByteBuffer bytes(1 << 20);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7);
  const ByteBuffer expected = bytes;
  std::shared_ptr<const ByteBuffer> a = ShareFromPool(pool, std::move(bytes));
  std::shared_ptr<const ByteBuffer> b = a;
  const uint8_t* data = a->data();
  a.reset();
  EXPECT_EQ(pool->pooled_buffers(), 0u);  // b still reads it
  EXPECT_EQ(*b, expected);
  std::thread([held = std::move(b)]() mutable { held.reset(); }).join();
  ASSERT_EQ(pool->pooled_buffers(), 1u);
  EXPECT_EQ(pool->Acquire(1 << 20).data(), data);

  std::shared_ptr<const ByteBuffer> orphan = ShareFromPool(pool, ByteBuffer(1 << 20));
  pool.reset();
  EXPECT_EQ(orphan->size(), 1u << 20);
  orphan.reset();  // freed: nothing to give it back to
}

// OwnPayload (what the in-process transport and the simulator do with a shared payload): a copy,
// the other holders' bytes untouched.
TEST(Message, OwnPayloadCopiesASharedPayload) {
  ByteBuffer bytes(4096);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 13 + 1);
  const ByteBuffer expected = bytes;
  Message m;
  m.shared_payload = std::make_shared<const ByteBuffer>(std::move(bytes));
  const std::shared_ptr<const ByteBuffer> other = m.shared_payload;
  EXPECT_EQ(m.payload_size(), expected.size());
  OwnPayload(m);
  EXPECT_EQ(m.shared_payload, nullptr);
  EXPECT_EQ(m.payload, expected);
  EXPECT_NE(m.payload.data(), other->data());
  EXPECT_EQ(*other, expected);
  Message plain;
  plain.payload = expected;
  OwnPayload(plain);  // nothing shared: unchanged
  EXPECT_EQ(plain.payload, expected);
}

TEST(LogLimiter, AllowsOneLinePerKeyPerIntervalAndCountsTheRest) {
  LogLimiter limiter(10);
  const TimePoint t0 = Now();
  uint64_t suppressed = 99;
  EXPECT_TRUE(limiter.Allow("accept", t0, &suppressed));
  EXPECT_EQ(suppressed, 0u);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.Allow("accept", t0, &suppressed));
  EXPECT_TRUE(limiter.Allow("10.0.0.1", t0, &suppressed));  // another key
  EXPECT_TRUE(limiter.Allow("accept", t0 + std::chrono::seconds(11), &suppressed));
  EXPECT_EQ(suppressed, 1000u);
}

class SecretTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hearsay_secret_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content, mode_t mode = 0600) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }
  fs::path dir_;
};

TEST_F(SecretTest, FileWinsOverEnvironmentAndInlineAndLosesOneTrailingNewline) {
  SecretSources s;
  s.secret_file = Write("secret", "0123456789abcdef0123\n");
  s.env = "from-the-environment-0123456789";
  s.inline_secret = "inline";
  Result<ResolvedSecret> r = ResolveClusterSecret(s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->secret, "0123456789abcdef0123");
  EXPECT_TRUE(r->warnings.empty());
  s.secret_file = Write("crlf", "0123456789abcdef0123\r\n");
  EXPECT_EQ(ResolveClusterSecret(s)->secret, "0123456789abcdef0123");
}

TEST_F(SecretTest, EnvironmentThenInlineThenDevelopmentSecret) {
  SecretSources s;
  s.env = "from-the-environment-0123456789";
  s.inline_secret = "inline-secret-that-is-long-enough";
  EXPECT_EQ(ResolveClusterSecret(s)->origin, "HEARSAY_SECRET");
  s.env.reset();
  Result<ResolvedSecret> r = ResolveClusterSecret(s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->secret, "inline-secret-that-is-long-enough");
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("discouraged"), std::string::npos);
  // No `secret:` key: RunConfig's default is the development secret, which MakeTcpTransport
  // accepts only on loopback.
  s.inline_secret = RunConfig().secret;
  r = ResolveClusterSecret(s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->secret, kDevelopmentSecret);
  EXPECT_TRUE(r->warnings.empty());
}

TEST_F(SecretTest, EmptySecretsAndBadFilesAreErrorsNamingTheSource) {
  SecretSources s;
  s.env = "";
  Result<ResolvedSecret> r = ResolveClusterSecret(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("HEARSAY_SECRET is set but empty"), std::string::npos);
  s.env.reset();
  s.inline_secret = "";
  EXPECT_FALSE(ResolveClusterSecret(s).ok());
  s.secret_file = Write("empty", "\n");
  r = ResolveClusterSecret(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("secret file is empty"), std::string::npos);
  s.secret_file = (dir_ / "missing").string();
  EXPECT_EQ(ResolveClusterSecret(s).status().code(), StatusCode::kNotFound);
  s.secret_file = "/dev/zero";
  r = ResolveClusterSecret(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("character device"), std::string::npos)
      << r.status().message();
  s.secret_file = Write("huge", std::string(kMaxSecretFileBytes + 1, 'x'));
  EXPECT_FALSE(ResolveClusterSecret(s).ok());
}

TEST_F(SecretTest, WarnsAboutReadableFilesAndShortSecrets) {
  SecretSources s;
  s.secret_file = Write("open", "short", 0644);
  Result<ResolvedSecret> r = ResolveClusterSecret(s);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->warnings.size(), 2u);
  EXPECT_NE(r->warnings[0].find("readable by other users"), std::string::npos);
  EXPECT_NE(r->warnings[1].find("only 5 bytes"), std::string::npos);
}

}  // namespace
}  // namespace hearsay
