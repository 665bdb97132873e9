// Logistic and softmax regression and the MLP on the GPU. Row-major host matrices are column-major
// matrices of the transposed shape for cuBLAS: X (n x d row-major) is X^T (d x n, ld d), W (k x d
// row-major) is W^T (d x k, ld d), logits (n x k row-major) are (k x n, ld k).
#include "runtime/model/cuda/cuda_model.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/cuda/cuda_check.h"
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

// Mlp (mlp.h) on the GPU: per layer one cuBLAS product forward (Z = A W^T), bias + ReLU, and
// backward gW = l2 W + delta^T A, gb = column sums of delta, prev = delta W masked by the ReLU.
// Activations of every layer are kept (n x s_l each) for the backward pass.
class CudaMlp final : public CudaModelBase {
 public:
  CudaMlp(std::unique_ptr<Model> cpu, int64_t d, const std::vector<int>& hidden, int32_t k,
          double l2, void* stream)
      : CudaModelBase(std::move(cpu), stream), l2_(l2) {
    sizes_.push_back(d);
    for (int h : hidden) sizes_.push_back(h);
    sizes_.push_back(k);
    size_t at = 0;
    for (size_t l = 0; l + 1 < sizes_.size(); ++l) {
      offsets_.push_back(at);
      at += static_cast<size_t>(sizes_[l + 1] * sizes_[l] + sizes_[l + 1]);
    }
  }

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
  size_t Weights(size_t l) const { return static_cast<size_t>(sizes_[l + 1] * sizes_[l]); }

  Result<double> Run(const float* p, const DeviceBatch& batch, float* grad, double* accuracy) {
    const int64_t n = batch.rows;
    const int ni = static_cast<int>(n);
    const size_t layers = sizes_.size() - 1;
    // Scratch: activations of layers 1..L+1 (the last are the logits), then one buffer for the
    // back-propagated product.
    std::vector<size_t> act_at(layers + 1, 0);
    size_t total = 0, widest = 0;
    for (size_t l = 1; l <= layers; ++l) {
      act_at[l] = total;
      total += static_cast<size_t>(n * sizes_[l]);
      widest = std::max(widest, static_cast<size_t>(n * sizes_[l - 1]));
    }
    HEARSAY_RETURN_IF_ERROR(Scratch(std::max<size_t>(total + widest, 1)));
    HEARSAY_RETURN_IF_ERROR(ZeroAccumulators());
    auto act = [&](size_t l) -> float* {
      return l == 0 ? const_cast<float*>(batch.features) : scratch_.data() + act_at[l];
    };
    float* prev = scratch_.data() + total;
    const float one = 1.0f, zero = 0.0f;
    if (n > 0) {
      for (size_t l = 0; l < layers; ++l) {
        const int in = static_cast<int>(sizes_[l]), out = static_cast<int>(sizes_[l + 1]);
        HEARSAY_RETURN_IF_ERROR(
            CublasStatus(cublasSgemm(handle_, CUBLAS_OP_T, CUBLAS_OP_N, out, ni, in, &one,
                                     p + offsets_[l], in, act(l), in, &zero, act(l + 1), out),
                         "mlp Z = A W^T"));
        if (l + 1 < layers) {
          HEARSAY_RETURN_IF_ERROR(
              LaunchBiasRelu(act(l + 1), p + offsets_[l] + Weights(l), n, out, stream_));
        }
      }
      // Adds the output bias, loss terms, and (for the gradient) dL/dlogits in place.
      HEARSAY_RETURN_IF_ERROR(
          LaunchSoftmaxRows(act(layers), p + offsets_[layers - 1] + Weights(layers - 1),
                            batch.labels, n, static_cast<int32_t>(sizes_.back()), grad != nullptr,
                            acc_.data(), correct_.data(), stream_));
    }
    for (size_t l = 0; l < layers; ++l) {
      HEARSAY_RETURN_IF_ERROR(
          LaunchSum(p + offsets_[l], Weights(l), true, acc_.data() + 1, stream_));
    }
    if (grad != nullptr) {
      for (size_t l = layers; l-- > 0;) {
        const int in = static_cast<int>(sizes_[l]), out = static_cast<int>(sizes_[l + 1]);
        const float* w = p + offsets_[l];
        float* gw = grad + offsets_[l];
        float* gb = gw + Weights(l);
        HEARSAY_RETURN_IF_ERROR(LaunchScale(gw, w, static_cast<float>(l2_), Weights(l), stream_));
        if (n == 0) {
          HEARSAY_RETURN_IF_ERROR(FillZero(gb, 4 * static_cast<size_t>(out), stream_));
          continue;
        }
        float* delta = act(l + 1);  // holds dL/d(pre-activation of layer l + 1)
        HEARSAY_RETURN_IF_ERROR(
            CublasStatus(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_T, in, out, ni, &one, act(l),
                                     in, delta, out, &one, gw, in),
                         "mlp gW += delta^T A"));
        HEARSAY_RETURN_IF_ERROR(LaunchColumnSums(delta, n, out, gb, stream_));
        if (l > 0) {
          HEARSAY_RETURN_IF_ERROR(
              CublasStatus(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, in, ni, out, &one, w, in,
                                       delta, out, &zero, prev, in),
                           "mlp prev = delta W"));
          // The masked product replaces the (no longer needed) activation as the next delta.
          HEARSAY_RETURN_IF_ERROR(
              LaunchReluBackward(act(l), prev, static_cast<size_t>(n * in), stream_));
        }
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

  std::vector<int64_t> sizes_;   // s_0 .. s_{L+1}
  std::vector<size_t> offsets_;  // start of W_l in the flat vector
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
  // A gather view (the sampler's) is made contiguous on the host first: one copy either way.
  const Batch rows = Contiguous(batch, &host_rows_);
  HEARSAY_RETURN_IF_ERROR(
      CopyToDevice(features_.data(), rows.features, 4 * nf, stream, "features"));
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
  if (config.kind == "mlp") {
    auto m = std::make_unique<CudaMlp>(std::move(cpu), num_features, config.hidden, num_classes,
                                       config.l2, stream);
    HEARSAY_RETURN_IF_ERROR(m->Setup());
    return std::unique_ptr<CudaModel>(std::move(m));
  }
  return Unimplemented("model '" + config.kind +
                       "' has no CUDA implementation (GPU models: logistic, softmax, mlp)");
}

}  // namespace hearsay::cuda
