// Device backends: where a peer's model, gradient and gossip state live when the experiment says
// `device: cuda` (or `cuda:N`).
//
// The runtime does not depend on CUDA: an accelerator backend (runtime/cuda/) registers a
// DeviceTrainerFactory at program start (apps/main.cc does so when hearsay is built with CUDA).
// A DeviceTrainer owns a device-resident Algorithm (same Begin/Absorb/End protocol as the CPU
// one, so the peer loop and its determinism guarantees are unchanged) and computes each round's
// minibatch gradient on the device. Without a registered factory, `device: cuda` fails at start
// with a message saying why.
//
// Thread-safety: registration happens once before peers start; a DeviceTrainer is owned by one
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
// Builds the trainer for args.device, or explains why this program cannot.
Result<std::unique_ptr<DeviceTrainer>> MakeDeviceTrainer(DeviceTrainerArgs args);

}  // namespace hearsay
