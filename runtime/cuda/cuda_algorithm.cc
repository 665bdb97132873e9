// CudaGossip: the device-resident implementation of CudaAlgorithm. The protocol bookkeeping is
// RoundProtocol's, as in gossip_base.cc; the update rules call the fused kernels of
// update_kernels.h and the decoders of codec_kernels.h with the DecodeApply of each algorithm.
#include "runtime/cuda/cuda_algorithm.h"

#include <cuda_runtime_api.h>

#include <cstring>
#include <utility>

#include "common/cuda/cuda_check.h"
#include "common/cuda/cuda_device.h"
#include "compressors/cuda/cuda_codec.h"
#include "runtime/algorithms/round_protocol.h"
#include "runtime/cuda/update_kernels.h"

namespace hearsay::cuda {
namespace {

enum class Rule { kDpsgd, kDcd, kEcd, kChoco };

// One pinned staging slot for received payloads, reusable once its event has completed.
struct Slot {
  PinnedBuffer<uint8_t> host;
  cudaEvent_t done = nullptr;
};

class CudaGossip final : public CudaAlgorithm {
 public:
  CudaGossip(const AlgorithmConfig& config, std::shared_ptr<const Topology> topology, int self,
             Rule rule, std::unique_ptr<CudaCodec> codec)
      : config_(config),
        topology_(std::move(topology)),
        rule_(rule),
        codec_(std::move(codec)),
        protocol_(self) {}
  ~CudaGossip() override {
    (void)stream_.Synchronize();
    for (Slot& s : slots_) {
      if (s.done != nullptr) (void)cudaEventDestroy(s.done);
    }
  }

  Status Init(std::span<const float> x0);

  std::string name() const override { return config_.name; }
  std::span<float> params() override { return host_x_; }
  std::span<const float> params() const override { return host_x_; }
  float* device_params() override { return x_.data(); }
  void* stream() const override { return stream_.handle(); }
  Status UploadParams() override {
    HEARSAY_RETURN_IF_ERROR(
        CopyToDevice(x_.data(), host_x_.data(), 4 * dim(), stream(), "parameters"));
    return stream_.Synchronize();
  }

  Status Begin(int64_t round, std::span<const float> grad, float lr, ByteBuffer* out) override;
  Status BeginDevice(int64_t round, const float* grad, float lr, ByteBuffer* out) override;
  Status Absorb(int64_t round, int from, std::span<const uint8_t> payload) override;
  Status End(int64_t round) override;

 private:
  size_t dim() const { return host_x_.size(); }
  int self() const { return protocol_.self(); }
  RngKey KeyFor(int peer, int64_t round) const {
    RngKey key;
    key.seed = config_.seed;
    key.peer = static_cast<uint32_t>(peer);
    key.round = static_cast<uint32_t>(round);
    return key;
  }
  Status CheckBegin(int64_t round, float lr) const;
  Status EncodeOwn(int64_t round, const float* x, ByteBuffer* out);
  float* Replica(size_t pos) {
    return pos == protocol_.self_pos() && rule_ == Rule::kDcd ? x_.data() : copies_[pos].data();
  }

  AlgorithmConfig config_;
  std::shared_ptr<const Topology> topology_;
  Rule rule_;
  std::unique_ptr<CudaCodec> codec_;  // null: raw fp32 (dpsgd)
  CudaStream stream_;

  std::vector<float> host_x_;                    // mirror of x_
  DeviceBuffer<float> x_, x_new_, work_, grad_;  // work_: diff (dcd, choco), z (ecd), acc (dpsgd)
  DeviceBuffer<float> xh_, m_;                   // choco
  std::vector<DeviceBuffer<float>> copies_;      // dcd replicas / ecd estimates, by row position
  DeviceBuffer<uint8_t> msg_;                    // own encoding, then received payloads
  DeviceBuffer<uint8_t> in_msg_;
  DeviceBuffer<uint64_t> error_word_;
  PinnedBuffer<uint8_t> out_host_;
  Slot slots_[2];
  int next_slot_ = 0;
  float lr_ = 0;

  RoundProtocol protocol_;  // the open round, its row and what was absorbed
};

Status CudaGossip::Init(std::span<const float> x0) {
  const size_t d = x0.size();
  host_x_.assign(x0.begin(), x0.end());
  HEARSAY_ASSIGN_OR_RETURN(stream_, CudaStream::Create());
  HEARSAY_ASSIGN_OR_RETURN(x_, DeviceBuffer<float>::Create(d));
  HEARSAY_ASSIGN_OR_RETURN(work_, DeviceBuffer<float>::Create(d));
  HEARSAY_ASSIGN_OR_RETURN(grad_, DeviceBuffer<float>::Create(d));
  HEARSAY_ASSIGN_OR_RETURN(error_word_, DeviceBuffer<uint64_t>::Create(1));
  HEARSAY_RETURN_IF_ERROR(CopyToDevice(x_.data(), x0.data(), 4 * d, stream(), "initial model"));
  const size_t row_size = topology_->Row(self(), 1).size();
  const std::vector<Neighbor>& row = topology_->Row(self(), 1);
  if (rule_ == Rule::kEcd || rule_ == Rule::kChoco) {
    HEARSAY_ASSIGN_OR_RETURN(x_new_, DeviceBuffer<float>::Create(d));
  }
  if (rule_ == Rule::kDcd || rule_ == Rule::kEcd) {
    copies_.resize(row_size);
    for (size_t p = 0; p < row_size; ++p) {
      if (rule_ == Rule::kDcd && row[p].id == self()) continue;  // r_i is x_i itself
      HEARSAY_ASSIGN_OR_RETURN(copies_[p], DeviceBuffer<float>::Create(d));
      HEARSAY_RETURN_IF_ERROR(
          CopyDeviceToDevice(copies_[p].data(), x_.data(), 4 * d, stream(), "initial replica"));
    }
  }
  if (rule_ == Rule::kChoco) {
    HEARSAY_ASSIGN_OR_RETURN(xh_, DeviceBuffer<float>::Create(d));
    HEARSAY_ASSIGN_OR_RETURN(m_, DeviceBuffer<float>::Create(d));
    HEARSAY_RETURN_IF_ERROR(CopyDeviceToDevice(xh_.data(), x_.data(), 4 * d, stream(), "xh"));
    HEARSAY_RETURN_IF_ERROR(CopyDeviceToDevice(m_.data(), x_.data(), 4 * d, stream(), "m"));
  }
  const size_t msg_bytes = codec_ ? codec_->EncodedBytes(d) : 4 * d;
  HEARSAY_ASSIGN_OR_RETURN(msg_, DeviceBuffer<uint8_t>::Create(msg_bytes));
  HEARSAY_ASSIGN_OR_RETURN(in_msg_, DeviceBuffer<uint8_t>::Create(msg_bytes));
  HEARSAY_ASSIGN_OR_RETURN(out_host_, PinnedBuffer<uint8_t>::Create(msg_bytes));
  for (Slot& s : slots_) {
    HEARSAY_ASSIGN_OR_RETURN(s.host, PinnedBuffer<uint8_t>::Create(msg_bytes));
    HEARSAY_CUDA_RETURN_IF_ERROR(cudaEventCreateWithFlags(&s.done, cudaEventDisableTiming),
                                 "cudaEventCreate");
  }
  return stream_.Synchronize();
}

Status CudaGossip::CheckBegin(int64_t round, float lr) const {
  HEARSAY_RETURN_IF_ERROR(protocol_.CheckBegin(name(), round));
  return CheckLearningRate(name(), lr);
}

Status CudaGossip::EncodeOwn(int64_t round, const float* x, ByteBuffer* out) {
  const size_t bytes = codec_ ? codec_->EncodedBytes(dim()) : 4 * dim();
  if (codec_ == nullptr) {
    HEARSAY_RETURN_IF_ERROR(CopyToHost(out_host_.data(), x, bytes, stream(), "own model"));
  } else {
    HEARSAY_RETURN_IF_ERROR(codec_->EncodeAsync(x, dim(), KeyFor(self(), round), msg_.data(),
                                                error_word_.data(), stream()));
    HEARSAY_RETURN_IF_ERROR(CopyToHost(out_host_.data(), msg_.data(), bytes, stream(), "payload"));
  }
  uint64_t err = ~uint64_t{0};
  if (codec_ != nullptr) {
    HEARSAY_RETURN_IF_ERROR(CopyToHost(&err, error_word_.data(), 8, stream(), "error word"));
  }
  HEARSAY_RETURN_IF_ERROR(stream_.Synchronize());
  if (codec_ != nullptr) HEARSAY_RETURN_IF_ERROR(codec_->EncodeResult(err));
  AppendBytes(out, out_host_.data(), bytes);
  return Status::Ok();
}

Status CudaGossip::Begin(int64_t round, std::span<const float> grad, float lr, ByteBuffer* out) {
  if (grad.size() != dim()) {
    return InvalidArgument(name() + " peer " + std::to_string(self()) + ": gradient has " +
                           std::to_string(grad.size()) + " values; the model has " +
                           std::to_string(dim()));
  }
  HEARSAY_RETURN_IF_ERROR(CheckBegin(round, lr));
  HEARSAY_RETURN_IF_ERROR(CopyToDevice(grad_.data(), grad.data(), 4 * dim(), stream(), "gradient"));
  return BeginDevice(round, grad_.data(), lr, out);
}

Status CudaGossip::BeginDevice(int64_t round, const float* grad, float lr, ByteBuffer* out) {
  HEARSAY_RETURN_IF_ERROR(CheckBegin(round, lr));
  HEARSAY_ASSIGN_OR_RETURN(const RoundProtocol::RoundRow round_row,
                           protocol_.LookUpRow(*topology_, round));
  const std::vector<Neighbor>& row = *round_row.row;
  const size_t self_pos = round_row.self_pos;
  const size_t d = dim();
  std::vector<float> w(row.size());
  for (size_t p = 0; p < row.size(); ++p) w[p] = static_cast<float>(row[p].weight);
  out->clear();
  // On an encode error the state must be unchanged: the rules below write x_new_/work_ only and
  // swap into x_ after the encode succeeded (dcd changes x_ only in Absorb).
  switch (rule_) {
    case Rule::kDpsgd:
      HEARSAY_RETURN_IF_ERROR(EncodeOwn(round, x_.data(), out));
      if (grad != grad_.data()) {
        HEARSAY_RETURN_IF_ERROR(CopyDeviceToDevice(grad_.data(), grad, 4 * d, stream(), "grad"));
      }
      HEARSAY_RETURN_IF_ERROR(FillZero(work_.data(), 4 * d, stream()));
      lr_ = lr;
      break;
    case Rule::kDcd: {
      std::vector<const float*> src(row.size());
      for (size_t p = 0; p < row.size(); ++p)
        src[p] = p == self_pos ? x_.data() : copies_[p].data();
      HEARSAY_RETURN_IF_ERROR(
          LaunchDcdBegin(work_.data(), src, w, grad, lr, x_.data(), d, stream()));
      HEARSAY_RETURN_IF_ERROR(EncodeOwn(round, work_.data(), out));
      break;
    }
    case Rule::kEcd: {
      std::vector<const float*> src(row.size());
      for (size_t p = 0; p < row.size(); ++p) src[p] = copies_[p].data();
      const double half_t = 0.5 * static_cast<double>(round);
      HEARSAY_RETURN_IF_ERROR(LaunchEcdBegin(x_new_.data(), work_.data(), src, w, grad, lr,
                                             x_.data(), half_t, d, stream()));
      HEARSAY_RETURN_IF_ERROR(EncodeOwn(round, work_.data(), out));
      std::swap(x_, x_new_);
      break;
    }
    case Rule::kChoco: {
      const auto gamma = static_cast<float>(config_.consensus_step);
      HEARSAY_RETURN_IF_ERROR(LaunchChocoBegin(x_new_.data(), work_.data(), x_.data(), grad, lr,
                                               gamma, m_.data(), xh_.data(), d, stream()));
      HEARSAY_RETURN_IF_ERROR(EncodeOwn(round, work_.data(), out));
      std::swap(x_, x_new_);
      break;
    }
  }
  protocol_.Open(round, round_row);
  return Status::Ok();
}

Status CudaGossip::Absorb(int64_t round, int from, std::span<const uint8_t> payload) {
  HEARSAY_ASSIGN_OR_RETURN(const size_t pos, protocol_.CheckAbsorb(name(), round, from));
  // Validate on the host bytes before anything is copied or changed.
  // Built only for an error: every payload passes here.
  const auto where = [&] {
    return "round " + std::to_string(round) + ", payload from peer " + std::to_string(from);
  };
  const size_t d = dim();
  if (codec_ == nullptr) {
    if (payload.size() != 4 * d) {
      return Corruption(where() + ": " + std::to_string(payload.size()) + " bytes; expected " +
                        std::to_string(4 * d) + " (" + std::to_string(d) + " fp32 values)");
    }
  } else {
    Status s = codec_->Validate(payload, d);
    if (!s.ok()) return s.WithPrefix(where() + " (" + codec_->Spec() + ")");
  }
  // Stage through a pinned slot whose previous copy has completed, then copy and decode on the
  // stream (the device buffer is reused in stream order).
  Slot& slot = slots_[next_slot_];
  next_slot_ ^= 1;
  HEARSAY_CUDA_RETURN_IF_ERROR(cudaEventSynchronize(slot.done), "wait for a staging slot");
  std::memcpy(slot.host.data(), payload.data(), payload.size());
  HEARSAY_RETURN_IF_ERROR(
      CopyToDevice(in_msg_.data(), slot.host.data(), payload.size(), stream(), "payload"));
  HEARSAY_CUDA_RETURN_IF_ERROR(cudaEventRecord(slot.done, static_cast<cudaStream_t>(stream())),
                               "cudaEventRecord");

  const auto weight = static_cast<float>(protocol_.row()[pos].weight);
  DecodeApply apply;
  float* y = nullptr;
  switch (rule_) {
    case Rule::kDpsgd:
      apply.op = DecodeApply::Op::kAddWeighted;
      apply.weight = weight;
      y = work_.data();
      break;
    case Rule::kDcd:
      apply.op = DecodeApply::Op::kAdd;
      y = Replica(pos);
      break;
    case Rule::kEcd:
      apply.op = DecodeApply::Op::kEcd;
      apply.b = 2.0 / static_cast<double>(round);
      apply.a = 1.0 - apply.b;
      y = copies_[pos].data();
      break;
    case Rule::kChoco:
      apply.op = pos == protocol_.self_pos() ? DecodeApply::Op::kAddWeightedAndSelf
                                             : DecodeApply::Op::kAddWeighted;
      apply.weight = weight;
      apply.self = xh_.data();
      y = m_.data();
      break;
  }
  if (codec_ == nullptr) {
    HEARSAY_RETURN_IF_ERROR(LaunchRawDecode(in_msg_.data(), d, y, apply, stream()));
  } else {
    HEARSAY_RETURN_IF_ERROR(
        codec_->DecodeAsync(in_msg_.data(), d, KeyFor(from, round), y, apply, stream()));
  }
  protocol_.Absorbed(pos);
  return Status::Ok();
}

Status CudaGossip::End(int64_t round) {
  HEARSAY_RETURN_IF_ERROR(protocol_.CheckEnd(name(), round));
  if (rule_ == Rule::kDpsgd) {
    HEARSAY_RETURN_IF_ERROR(
        LaunchDpsgdEnd(x_.data(), work_.data(), grad_.data(), lr_, dim(), stream()));
  }
  HEARSAY_RETURN_IF_ERROR(CopyToHost(host_x_.data(), x_.data(), 4 * dim(), stream(), "model"));
  HEARSAY_RETURN_IF_ERROR(stream_.Synchronize());
  protocol_.Close();
  return Status::Ok();
}

}  // namespace

CudaAlgorithm::~CudaAlgorithm() = default;

Result<std::unique_ptr<CudaAlgorithm>> CudaAlgorithm::Make(const AlgorithmConfig& config,
                                                           std::shared_ptr<const Topology> topology,
                                                           int self, std::span<const float> x0,
                                                           std::unique_ptr<Compressor> compressor,
                                                           int device) {
  HEARSAY_RETURN_IF_ERROR(
      ValidateAlgorithmArgs(config, topology.get(), self, x0, compressor.get()));
  const std::string& name = config.name;
  Rule rule = Rule::kDpsgd;
  std::unique_ptr<CudaCodec> codec;
  if (name != "dpsgd") {
    rule = name == "dcd" ? Rule::kDcd : name == "ecd" ? Rule::kEcd : Rule::kChoco;
    HEARSAY_ASSIGN_OR_RETURN(codec, CudaCodec::Make(compressor->Spec()));
  }
  HEARSAY_RETURN_IF_ERROR(CheckCudaDevice(device));
  HEARSAY_RETURN_IF_ERROR(UseCudaDevice(device));
  auto algo =
      std::make_unique<CudaGossip>(config, std::move(topology), self, rule, std::move(codec));
  HEARSAY_RETURN_IF_ERROR(algo->Init(x0));
  return std::unique_ptr<CudaAlgorithm>(std::move(algo));
}

}  // namespace hearsay::cuda
