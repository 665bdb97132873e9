// The device backend seam: the CUDA plugin is looked for where documented, and every way of
// failing to load it is a clear FailedPrecondition/NotFound, never a crash.
#include "runtime/peer/device_backend.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace hearsay {
namespace {

// Sets an environment variable for the scope of one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    had_ = getenv(name) != nullptr;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(name_, old_.c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(DeviceBackend, PluginPathComesFromTheEnvironmentOrTheExecutableFolder) {
  {
    ScopedEnv env("HEARSAY_CUDA_PLUGIN", "/opt/x/libhearsay_cuda.so");
    EXPECT_EQ(CudaPluginPath(), "/opt/x/libhearsay_cuda.so");
  }
  ScopedEnv env("HEARSAY_CUDA_PLUGIN", "");  // empty: ignored
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe");
  EXPECT_EQ(CudaPluginPath(), (exe.parent_path() / kCudaPluginFile).string());
}

TEST(DeviceBackend, MissingPluginIsNotFoundAndNamesThePath) {
  Status s = LoadDevicePlugin("/nonexistent/libhearsay_cuda.so");
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("/nonexistent/libhearsay_cuda.so does not exist"), std::string::npos)
      << s.message();
}

TEST(DeviceBackend, FileThatIsNotALibraryGivesDlopensReason) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("hearsay_fake_plugin_" + std::to_string(getpid()) + ".so"))
                               .string();
  { std::ofstream(path) << "not an ELF file\n"; }
  Status s = LoadDevicePlugin(path);
  std::remove(path.c_str());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("could not be loaded"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
}

TEST(DeviceBackend, LibraryWithoutTheEntryPointIsRefused) {
  // The C library is a real shared library with no hearsay entry point.
  Dl_info info{};
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&::getpid), &info), 0);
  ASSERT_NE(info.dli_fname, nullptr);
  Status s = LoadDevicePlugin(info.dli_fname);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("is not a hearsay device plugin"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace hearsay
