// Device backends: where a peer's model, gradient and gossip state live when the experiment says
// `device: cuda` (or `cuda:N`).
//
// The runtime does not depend on CUDA. An accelerator backend registers a DeviceTrainerFactory;
// the CUDA one lives in a plugin, libhearsay_cuda.so (runtime/cuda/plugin.cc), which
// MakeDeviceTrainer loads with dlopen() the first time a run asks for a device other than "cpu"
// and no factory is registered yet. So a CPU-only process never maps a CUDA library, and one
// `hearsay` binary serves both. The plugin is looked for in $HEARSAY_CUDA_PLUGIN (a file path)
// when set, else next to the running executable. It binds to the runtime of the executable that
// loads it (the `hearsay` executable exports its symbols when built with CUDA); a program that
// does not export them gets dlopen's "undefined symbol" message. Programs that link the backend
// in (tests/cuda) call hearsay::cuda::RegisterCudaBackend() instead.
//
// A DeviceTrainer owns a device-resident Algorithm (same Begin/Absorb/End protocol as the CPU
// one, so the peer loop and its determinism guarantees are unchanged) and computes each round's
// minibatch gradient on the device. Without a factory or a loadable plugin, `device: cuda` fails
// at start with FailedPrecondition saying why.
//
// Thread-safety: every function here may be called from any thread; the plugin is loaded at most
// once per process (the outcome, success or error, is remembered). A DeviceTrainer is owned by one
// peer's compute thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "common/byte_buffer.h"
#include "common/status.h"
#include "compressors/compressor.h"
#include "runtime/algorithms/algorithm.h"
#include "runtime/data/dataset.h"
#include "runtime/model/model.h"
#include "topology/topology.h"

namespace hearsay {

class DeviceTrainer {
 public:
  virtual ~DeviceTrainer() = default;
  // The device-resident algorithm (params() is a host copy, refreshed at End()).
  virtual Algorithm& algorithm() = 0;
  // Loss and gradient of `batch` at the current device model, then algorithm().Begin on the
  // device; returns the minibatch loss.
  virtual Result<double> Begin(int64_t round, const Batch& batch, float lr, ByteBuffer* out) = 0;
};

struct DeviceTrainerArgs {
  std::string device;  // "cuda" or "cuda:N"
  AlgorithmConfig algorithm;
  std::shared_ptr<const Topology> topology;
  int self = 0;
  std::span<const float> x0;
  std::unique_ptr<Compressor> compressor;
  ModelConfig model;
  int64_t num_features = 0;
  int32_t num_classes = 0;
};

using DeviceTrainerFactory =
    std::function<Result<std::unique_ptr<DeviceTrainer>>(DeviceTrainerArgs args)>;

// Installs the factory used for every device other than "cpu" (the last call wins).
void RegisterDeviceTrainerFactory(DeviceTrainerFactory factory);
// Builds the trainer for args.device, loading the CUDA plugin first if no factory is registered;
// otherwise explains why this program cannot (FailedPrecondition naming the device).
Result<std::unique_ptr<DeviceTrainer>> MakeDeviceTrainer(DeviceTrainerArgs args);

// The plugin's file name, and where MakeDeviceTrainer loads it from: $HEARSAY_CUDA_PLUGIN when
// set and not empty, else kCudaPluginFile in the folder of the running executable.
inline constexpr const char* kCudaPluginFile = "libhearsay_cuda.so";
std::string CudaPluginPath();

// Loads the plugin at `path` and runs its registration (which installs its factory). Errors:
// NotFound when the file does not exist, FailedPrecondition when dlopen fails (message: dlerror's,
// e.g. a missing libcudart) or when the plugin was built for another hearsay version or ABI.
Status LoadDevicePlugin(const std::string& path);

}  // namespace hearsay

// The plugin's one entry point, looked up by name with dlsym. It checks that it was built with
// the host's version string and DeviceTrainerArgs layout, registers its factory, and returns
// nullptr, or returns a message saying why it refused (valid until the next call).
extern "C" {
typedef const char* (*HearsayDevicePluginRegisterFn)(const char* host_version,
                                                     size_t device_trainer_args_size);
}
#define HEARSAY_DEVICE_PLUGIN_ENTRY "hearsay_device_plugin_register"
