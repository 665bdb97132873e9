#include "runtime/peer/device_backend.h"

#include <mutex>

namespace hearsay {
namespace {

std::mutex g_mu;
DeviceTrainerFactory& Factory() {
  static DeviceTrainerFactory factory;
  return factory;
}

}  // namespace

void RegisterDeviceTrainerFactory(DeviceTrainerFactory factory) {
  std::lock_guard<std::mutex> lock(g_mu);
  Factory() = std::move(factory);
}

Result<std::unique_ptr<DeviceTrainer>> MakeDeviceTrainer(DeviceTrainerArgs args) {
  DeviceTrainerFactory factory;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    factory = Factory();
  }
  if (!factory) {
    return FailedPrecondition("device '" + args.device +
                              "' requested, but this program has no CUDA backend (hearsay was "
                              "built without nvcc); use device: cpu");
  }
  return factory(std::move(args));
}

}  // namespace hearsay
