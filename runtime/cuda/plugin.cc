// Entry point of the CUDA plugin, libhearsay_cuda.so (runtime/peer/device_backend.h): `hearsay`
// dlopen()s it the first time a run asks for `device: cuda`, and this function installs the CUDA
// DeviceTrainerFactory. Everything else the plugin calls (Status, logging, the CPU codecs and
// algorithms) binds to the executable's own copy, so the plugin must come from the same build:
// the version string and the layout of DeviceTrainerArgs are checked before anything else runs.
#include <cstring>
#include <exception>
#include <string>

#include "runtime/cuda/cuda_trainer.h"
#include "runtime/peer/device_backend.h"

// The name must be HEARSAY_DEVICE_PLUGIN_ENTRY's ("hearsay_device_plugin_register").
extern "C" __attribute__((visibility("default"))) const char* hearsay_device_plugin_register(
    const char* host_version, size_t device_trainer_args_size) {
  static thread_local std::string refused;
  // Nothing may escape into the C caller: any failure becomes the returned message.
  try {
    if (host_version == nullptr || std::strcmp(host_version, HEARSAY_VERSION_STRING) != 0) {
      refused = std::string("plugin built for hearsay ") + HEARSAY_VERSION_STRING +
                ", loaded by hearsay " + (host_version != nullptr ? host_version : "(unknown)") +
                "; use the plugin built with this executable";
      return refused.c_str();
    }
    if (device_trainer_args_size != sizeof(hearsay::DeviceTrainerArgs)) {
      refused = "plugin and executable disagree on the DeviceTrainerArgs layout (" +
                std::to_string(sizeof(hearsay::DeviceTrainerArgs)) + " vs " +
                std::to_string(device_trainer_args_size) +
                " bytes); use the plugin built with this executable";
      return refused.c_str();
    }
    hearsay::cuda::RegisterCudaBackend();
    return nullptr;
  } catch (const std::exception& e) {
    refused = std::string("plugin registration failed: ") + e.what();
    return refused.c_str();
  }
}
