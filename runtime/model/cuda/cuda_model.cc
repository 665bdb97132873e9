// Logistic and softmax regression on the GPU. Row-major host matrices are column-major matrices
// of the transposed shape for cuBLAS: X (n x d row-major) is X^T (d x n, ld d), W (k x d
// row-major) is W^T (d x k, ld d), logits (n x k row-major) are (k x n, ld k).
#include "runtime/model/cuda/cuda_model.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>

#include "compressors/cuda/cuda_check.h"
#include "runtime/model/cuda/model_kernels.h"

namespace hearsay::cuda {
namespace {

Status CublasStatus(cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return Status::Ok();
  return Internal(std::string(what) + ": " + cublasGetStatusString(s));
}

// Shared plumbing: the CPU twin, cuBLAS handle, accumulators and per-batch scratch.
class CudaModelBase : public CudaModel {
 public:
  CudaModelBase(std::unique_ptr<Model> cpu, void* stream) : cpu_(std::move(cpu)), stream_(stream) {}
  ~CudaModelBase() override {
    if (handle_ != nullptr) (void)cublasDestroy(handle_);
  }
  size_t num_params() const override { return cpu_->num_params(); }
  std::string Describe() const override { return cpu_->Describe(); }
  void Init(uint64_t seed, std::span<float> params) const override { cpu_->Init(seed, params); }

  Status Setup() {
    HEARSAY_RETURN_IF_ERROR(CublasStatus(cublasCreate(&handle_), "cublasCreate"));
    HEARSAY_RETURN_IF_ERROR(CublasStatus(
        cublasSetStream(handle_, static_cast<cudaStream_t>(stream_)), "cublasSetStream"));
    // Plain fp32 products (no TF32), to stay close to the Eigen twin.
    HEARSAY_RETURN_IF_ERROR(
        CublasStatus(cublasSetMathMode(handle_, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode"));
    HEARSAY_ASSIGN_OR_RETURN(acc_, DeviceBuffer<double>::Create(2));
    HEARSAY_ASSIGN_OR_RETURN(correct_, DeviceBuffer<int64_t>::Create(1));
    HEARSAY_ASSIGN_OR_RETURN(host_, PinnedBuffer<double>::Create(3));
    return Status::Ok();
  }

 protected:
  Status Scratch(size_t n) {
    if (scratch_.size() < n) {
      HEARSAY_ASSIGN_OR_RETURN(scratch_, DeviceBuffer<float>::Create(n));
    }
    return Status::Ok();
  }
  Status ZeroAccumulators() {
    HEARSAY_RETURN_IF_ERROR(FillZero(acc_.data(), acc_.bytes(), stream_));
    return FillZero(correct_.data(), correct_.bytes(), stream_);
  }
  // Reads (loss sum, squared norm, correct count) after the stream's work.
  Status ReadAccumulators(double* loss, double* sq, int64_t* correct) {
    HEARSAY_RETURN_IF_ERROR(CopyToHost(host_.data(), acc_.data(), 16, stream_, "loss"));
    HEARSAY_RETURN_IF_ERROR(CopyToHost(host_.data() + 2, correct_.data(), 8, stream_, "count"));
    HEARSAY_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)),
                                 "model stream");
    *loss = host_.data()[0];
    *sq = host_.data()[1];
    int64_t c;
    std::memcpy(&c, host_.data() + 2, 8);
    *correct = c;
    return Status::Ok();
  }

  std::unique_ptr<Model> cpu_;
  void* stream_;
  cublasHandle_t handle_ = nullptr;
  DeviceBuffer<double> acc_;  // [loss sum, squared norm of the weights]
  DeviceBuffer<int64_t> correct_;
  PinnedBuffer<double> host_;
  DeviceBuffer<float> scratch_;
};

class CudaLogistic final : public CudaModelBase {
 public:
  CudaLogistic(std::unique_ptr<Model> cpu, int64_t d, double l2, void* stream)
      : CudaModelBase(std::move(cpu), stream), d_(d), l2_(l2) {}

  Result<double> LossAndGradient(const float* params, const DeviceBatch& batch,
                                 float* grad) override {
    return Run(params, batch, grad, nullptr);
  }
  Result<double> Accuracy(const float* params, const DeviceBatch& batch) override {
    double acc = 0;
    HEARSAY_RETURN_IF_ERROR(Run(params, batch, nullptr, &acc).status());
    return acc;
  }

 private:
  Result<double> Run(const float* w, const DeviceBatch& batch, float* grad, double* accuracy) {
    const int64_t n = batch.rows;
    const int d = static_cast<int>(d_);
    HEARSAY_RETURN_IF_ERROR(Scratch(static_cast<size_t>(std::max<int64_t>(n, 1))));
    HEARSAY_RETURN_IF_ERROR(ZeroAccumulators());
    float bias = 0;
    HEARSAY_RETURN_IF_ERROR(CopyToHost(&bias, w + d_, 4, stream_, "bias"));
    HEARSAY_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)), "bias");
    const float one = 1.0f, zero = 0.0f;
    float* z = scratch_.data();
    if (n > 0) {
      HEARSAY_RETURN_IF_ERROR(CublasStatus(cublasSgemv(handle_, CUBLAS_OP_T, d, static_cast<int>(n),
                                                       &one, batch.features, d, w, 1, &zero, z, 1),
                                           "logistic z = X w"));
      HEARSAY_RETURN_IF_ERROR(LaunchLogisticRows(z, bias, batch.labels, n,
                                                 grad != nullptr ? z : nullptr, acc_.data(),
                                                 correct_.data(), stream_));
    }
    HEARSAY_RETURN_IF_ERROR(LaunchSum(w, d_, true, acc_.data() + 1, stream_));
    if (grad != nullptr) {
      HEARSAY_RETURN_IF_ERROR(LaunchScale(grad, w, static_cast<float>(l2_), d_, stream_));
      if (n > 0) {
        HEARSAY_RETURN_IF_ERROR(
            CublasStatus(cublasSgemv(handle_, CUBLAS_OP_N, d, static_cast<int>(n), &one,
                                     batch.features, d, z, 1, &one, grad, 1),
                         "logistic grad += X^T dz"));
        HEARSAY_RETURN_IF_ERROR(LaunchColumnSums(z, n, 1, grad + d_, stream_));
      } else {
        HEARSAY_RETURN_IF_ERROR(FillZero(grad + d_, 4, stream_));
      }
    }
    double loss = 0, sq = 0;
    int64_t correct = 0;
    HEARSAY_RETURN_IF_ERROR(ReadAccumulators(&loss, &sq, &correct));
    if (accuracy != nullptr) {
      *accuracy = n > 0 ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
    }
    if (n > 0) loss /= static_cast<double>(n);
    return loss + 0.5 * l2_ * sq;
  }

  int64_t d_;
  double l2_;
};

class CudaSoftmax final : public CudaModelBase {
 public:
  CudaSoftmax(std::unique_ptr<Model> cpu, int64_t d, int32_t k, double l2, void* stream)
      : CudaModelBase(std::move(cpu), stream), d_(d), k_(k), l2_(l2) {}

  Result<double> LossAndGradient(const float* params, const DeviceBatch& batch,
                                 float* grad) override {
    return Run(params, batch, grad, nullptr);
  }
  Result<double> Accuracy(const float* params, const DeviceBatch& batch) override {
    double acc = 0;
    HEARSAY_RETURN_IF_ERROR(Run(params, batch, nullptr, &acc).status());
    return acc;
  }

 private:
  Result<double> Run(const float* w, const DeviceBatch& batch, float* grad, double* accuracy) {
    const int64_t n = batch.rows;
    const int d = static_cast<int>(d_), k = k_;
    const size_t nw = static_cast<size_t>(k_) * static_cast<size_t>(d_);
    const float* b = w + nw;
    HEARSAY_RETURN_IF_ERROR(Scratch(static_cast<size_t>(std::max<int64_t>(n, 1)) * k_));
    HEARSAY_RETURN_IF_ERROR(ZeroAccumulators());
    const float one = 1.0f, zero = 0.0f;
    float* logits = scratch_.data();
    if (n > 0) {
      HEARSAY_RETURN_IF_ERROR(
          CublasStatus(cublasSgemm(handle_, CUBLAS_OP_T, CUBLAS_OP_N, k, static_cast<int>(n), d,
                                   &one, w, d, batch.features, d, &zero, logits, k),
                       "softmax logits = X W^T"));
      HEARSAY_RETURN_IF_ERROR(LaunchSoftmaxRows(logits, b, batch.labels, n, k_, grad != nullptr,
                                                acc_.data(), correct_.data(), stream_));
    }
    HEARSAY_RETURN_IF_ERROR(LaunchSum(w, nw, true, acc_.data() + 1, stream_));
    if (grad != nullptr) {
      HEARSAY_RETURN_IF_ERROR(LaunchScale(grad, w, static_cast<float>(l2_), nw, stream_));
      if (n > 0) {
        HEARSAY_RETURN_IF_ERROR(
            CublasStatus(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_T, d, k, static_cast<int>(n),
                                     &one, batch.features, d, logits, k, &one, grad, d),
                         "softmax grad += dL^T X"));
        HEARSAY_RETURN_IF_ERROR(LaunchColumnSums(logits, n, k_, grad + nw, stream_));
      } else {
        HEARSAY_RETURN_IF_ERROR(FillZero(grad + nw, 4 * static_cast<size_t>(k_), stream_));
      }
    }
    double loss = 0, sq = 0;
    int64_t correct = 0;
    HEARSAY_RETURN_IF_ERROR(ReadAccumulators(&loss, &sq, &correct));
    if (accuracy != nullptr) {
      *accuracy = n > 0 ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
    }
    if (n > 0) loss /= static_cast<double>(n);
    return loss + 0.5 * l2_ * sq;
  }

  int64_t d_;
  int32_t k_;
  double l2_;
};

}  // namespace

Status CudaBatch::Upload(const Batch& batch, void* stream) {
  const size_t nf = static_cast<size_t>(batch.rows * batch.cols);
  const size_t nl = static_cast<size_t>(batch.rows);
  if (features_.size() < nf) {
    HEARSAY_ASSIGN_OR_RETURN(features_, DeviceBuffer<float>::Create(nf));
  }
  if (labels_.size() < nl) {
    HEARSAY_ASSIGN_OR_RETURN(labels_, DeviceBuffer<int32_t>::Create(nl));
  }
  HEARSAY_RETURN_IF_ERROR(
      CopyToDevice(features_.data(), batch.features, 4 * nf, stream, "features"));
  HEARSAY_RETURN_IF_ERROR(CopyToDevice(labels_.data(), batch.labels, 4 * nl, stream, "labels"));
  rows_ = batch.rows;
  cols_ = batch.cols;
  return Status::Ok();
}

DeviceBatch CudaBatch::view() const {
  return DeviceBatch{features_.data(), labels_.data(), rows_, cols_};
}

Result<std::unique_ptr<CudaModel>> MakeCudaModel(const ModelConfig& config, int64_t num_features,
                                                 int32_t num_classes, void* stream) {
  HEARSAY_ASSIGN_OR_RETURN(std::unique_ptr<Model> cpu,
                           MakeModel(config, num_features, num_classes));
  if (config.kind == "logistic") {
    auto m = std::make_unique<CudaLogistic>(std::move(cpu), num_features, config.l2, stream);
    HEARSAY_RETURN_IF_ERROR(m->Setup());
    return std::unique_ptr<CudaModel>(std::move(m));
  }
  if (config.kind == "softmax") {
    auto m =
        std::make_unique<CudaSoftmax>(std::move(cpu), num_features, num_classes, config.l2, stream);
    HEARSAY_RETURN_IF_ERROR(m->Setup());
    return std::unique_ptr<CudaModel>(std::move(m));
  }
  return Unimplemented("model '" + config.kind +
                       "' has no CUDA implementation yet (GPU models: logistic, softmax)");
}

}  // namespace hearsay::cuda
