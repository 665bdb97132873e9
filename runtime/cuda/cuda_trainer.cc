#include "runtime/cuda/cuda_trainer.h"

#include <string>

#include "common/cuda/cuda_device.h"
#include "runtime/cuda/cuda_algorithm.h"
#include "runtime/model/cuda/cuda_model.h"
#include "runtime/peer/device_backend.h"

namespace hearsay::cuda {
namespace {

// "cuda" -> 0, "cuda:N" -> N.
Result<int> ParseDeviceIndex(const std::string& device) {
  if (device == "cuda") return 0;
  if (device.rfind("cuda:", 0) == 0) {
    const std::string n = device.substr(5);
    if (!n.empty() && n.size() < 4 && n.find_first_not_of("0123456789") == std::string::npos) {
      return std::stoi(n);
    }
  }
  return InvalidArgument("device '" + device + "' is not valid (use cpu, cuda or cuda:N)");
}

class CudaTrainer final : public DeviceTrainer {
 public:
  CudaTrainer(std::unique_ptr<CudaAlgorithm> algorithm, std::unique_ptr<CudaModel> model,
              DeviceBuffer<float> grad)
      : algorithm_(std::move(algorithm)), model_(std::move(model)), grad_(std::move(grad)) {}

  Algorithm& algorithm() override { return *algorithm_; }

  Result<double> Begin(int64_t round, const Batch& batch, float lr, ByteBuffer* out) override {
    HEARSAY_RETURN_IF_ERROR(batch_.Upload(batch, algorithm_->stream()));
    HEARSAY_ASSIGN_OR_RETURN(double loss, model_->LossAndGradient(algorithm_->device_params(),
                                                                  batch_.view(), grad_.data()));
    HEARSAY_RETURN_IF_ERROR(algorithm_->BeginDevice(round, grad_.data(), lr, out));
    return loss;
  }

 private:
  std::unique_ptr<CudaAlgorithm> algorithm_;
  std::unique_ptr<CudaModel> model_;
  DeviceBuffer<float> grad_;
  CudaBatch batch_;
};

Result<std::unique_ptr<DeviceTrainer>> MakeCudaTrainer(DeviceTrainerArgs args) {
  HEARSAY_ASSIGN_OR_RETURN(int index, ParseDeviceIndex(args.device));
  HEARSAY_RETURN_IF_ERROR(CheckCudaDevice(index));
  HEARSAY_RETURN_IF_ERROR(UseCudaDevice(index));
  HEARSAY_ASSIGN_OR_RETURN(std::unique_ptr<CudaAlgorithm> algorithm,
                           CudaAlgorithm::Make(args.algorithm, args.topology, args.self, args.x0,
                                               std::move(args.compressor), index));
  HEARSAY_ASSIGN_OR_RETURN(
      std::unique_ptr<CudaModel> model,
      MakeCudaModel(args.model, args.num_features, args.num_classes, algorithm->stream()));
  if (model->num_params() != args.x0.size()) {
    return Internal("CUDA model has " + std::to_string(model->num_params()) +
                    " parameters, the CPU model " + std::to_string(args.x0.size()));
  }
  HEARSAY_ASSIGN_OR_RETURN(DeviceBuffer<float> grad, DeviceBuffer<float>::Create(args.x0.size()));
  return std::unique_ptr<DeviceTrainer>(
      new CudaTrainer(std::move(algorithm), std::move(model), std::move(grad)));
}

}  // namespace

void RegisterCudaBackend() { RegisterDeviceTrainerFactory(MakeCudaTrainer); }

}  // namespace hearsay::cuda
