// CudaModel: the GPU twin of Model (runtime/model/model.h) for parameters, gradients and batches
// in device memory. Logistic and softmax regression today, with cuBLAS for the matrix products
// and small kernels for the per-example terms; the Eigen models (logistic.cc, softmax.cc) are the
// oracles, and the GPU results agree with them within float tolerance (the order of reductions
// differs: cuBLAS and atomics, so results are close, not bit-identical). The MLP has no GPU twin
// yet because its CPU version (runtime/model/mlp.*) does not exist yet.
//
// Init and Describe delegate to the CPU model (initial parameters are computed on the host with
// the same generator and uploaded), so both devices start from identical parameters.
//
// Ownership: a CudaModel owns a cuBLAS handle and scratch space sized to the largest batch seen;
// it runs on the stream given at creation. CudaBatch owns device copies of one batch.
// Thread-safety: none (scratch space); one per compute thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/cuda/cuda_device.h"
#include "common/status.h"
#include "runtime/data/dataset.h"
#include "runtime/model/model.h"

namespace hearsay::cuda {

// A batch in device memory: rows x cols row-major features, rows labels.
struct DeviceBatch {
  const float* features = nullptr;
  const int32_t* labels = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
};

// Device copy of a host Batch (grows as needed; Upload is asynchronous on `stream`, the host
// batch must stay valid until the stream has run the copy).
class CudaBatch {
 public:
  Status Upload(const Batch& batch, void* stream);
  DeviceBatch view() const;

 private:
  DeviceBuffer<float> features_;
  DeviceBuffer<int32_t> labels_;
  int64_t rows_ = 0, cols_ = 0;
  // Host rows of a gathered batch. Pageable memory: the copy from it completes before Upload
  // returns, so it can be refilled next round.
  std::vector<float> host_rows_;
};

class CudaModel {
 public:
  virtual ~CudaModel() = default;
  virtual size_t num_params() const = 0;
  virtual std::string Describe() const = 0;  // same string as the CPU twin
  // Host initial parameters (the CPU twin's Init); upload them with CopyToDevice.
  virtual void Init(uint64_t seed, std::span<float> params) const = 0;
  // Mean loss over the batch plus the L2 term; writes the gradient to `grad` (device, num_params
  // floats) unless it is null. Waits for the stream to return the loss.
  virtual Result<double> LossAndGradient(const float* params, const DeviceBatch& batch,
                                         float* grad) = 0;
  // Fraction of correctly classified examples (0 for an empty batch).
  virtual Result<double> Accuracy(const float* params, const DeviceBatch& batch) = 0;
};

// Same configuration, checks and errors as MakeModel. `stream` is a cudaStream_t (nullptr =
// default stream).
Result<std::unique_ptr<CudaModel>> MakeCudaModel(const ModelConfig& config, int64_t num_features,
                                                 int32_t num_classes, void* stream);

}  // namespace hearsay::cuda
