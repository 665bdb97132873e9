#include "runtime/peer/device_backend.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>

#include "common/logging.h"

namespace hearsay {
namespace {

std::mutex g_mu;  // guards the factory
DeviceTrainerFactory& Factory() {
  static DeviceTrainerFactory factory;
  return factory;
}

DeviceTrainerFactory CurrentFactory() {
  std::lock_guard<std::mutex> lock(g_mu);
  return Factory();
}

// The plugin is loaded at most once per process: its registration calls
// RegisterDeviceTrainerFactory (which takes g_mu), so loading has its own lock, and a failure is
// remembered rather than retried by every peer of an in-process run.
std::mutex g_load_mu;
std::optional<Status> g_load_status;

std::string ExecutableFolder() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

}  // namespace

void RegisterDeviceTrainerFactory(DeviceTrainerFactory factory) {
  std::lock_guard<std::mutex> lock(g_mu);
  Factory() = std::move(factory);
}

std::string CudaPluginPath() {
  const char* env = std::getenv("HEARSAY_CUDA_PLUGIN");
  if (env != nullptr && *env != '\0') return env;
  const std::string folder = ExecutableFolder();
  return folder.empty() ? std::string(kCudaPluginFile) : folder + "/" + kCudaPluginFile;
}

Status LoadDevicePlugin(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return NotFound("this hearsay has no CUDA plugin: " + path +
                    " does not exist (it is built with hearsay when nvcc is found; "
                    "HEARSAY_CUDA_PLUGIN names another file)");
  }
  // RTLD_NOW: an unresolved symbol fails here, with its name, rather than in the middle of a
  // run. RTLD_LOCAL: the plugin's own symbols stay out of the global namespace.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return FailedPrecondition("the CUDA plugin " + path +
                              " could not be loaded: " + (why != nullptr ? why : "unknown error"));
  }
  auto entry =
      reinterpret_cast<HearsayDevicePluginRegisterFn>(dlsym(handle, HEARSAY_DEVICE_PLUGIN_ENTRY));
  if (entry == nullptr) {
    dlclose(handle);
    return FailedPrecondition(path + " is not a hearsay device plugin (no " +
                              HEARSAY_DEVICE_PLUGIN_ENTRY + ")");
  }
  if (const char* refused = entry(HEARSAY_VERSION_STRING, sizeof(DeviceTrainerArgs))) {
    const std::string message = path + ": " + refused;
    dlclose(handle);
    return FailedPrecondition(message);
  }
  // The handle stays open for the life of the process: the factory's code lives in it.
  HEARSAY_LOG_DEBUG("loaded the CUDA plugin {}", path);
  return Status::Ok();
}

Result<std::unique_ptr<DeviceTrainer>> MakeDeviceTrainer(DeviceTrainerArgs args) {
  DeviceTrainerFactory factory = CurrentFactory();
  if (!factory) {
    Status loaded;
    {
      std::lock_guard<std::mutex> lock(g_load_mu);
      if (!g_load_status) g_load_status = LoadDevicePlugin(CudaPluginPath());
      loaded = *g_load_status;
    }
    if (!loaded.ok()) {
      return FailedPrecondition("device '" + args.device + "' requested, but " + loaded.message() +
                                "; use device: cpu");
    }
    factory = CurrentFactory();
    if (!factory) {
      return Internal("the CUDA plugin loaded but registered no device trainer factory");
    }
  }
  return factory(std::move(args));
}

}  // namespace hearsay
