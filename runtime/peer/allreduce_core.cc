#include "runtime/peer/allreduce_core.h"

#include <algorithm>
#include <cstring>

#include "common/logging.h"

namespace hearsay {
namespace {

int Mod(int64_t a, int n) { return static_cast<int>(((a % n) + n) % n); }

}  // namespace

std::vector<int> AllreduceCore::RingNeighbors(int n, int self) {
  if (n < 2) return {};
  std::vector<int> ids = {Mod(self - 1, n), Mod(self + 1, n)};
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

Status AllreduceCore::SetupProtocol(std::span<const float> x0) {
  const RunConfig& run = options_.run;
  n_ = options_.topology->size();
  if (n_ < 2) return InvalidArgument("allreduce needs at least 2 peers");
  if (options_.run.mode == RunMode::kAsync) {
    return InvalidArgument(
        "allreduce is synchronous by nature (every round is one collective); "
        "use mode: sync");
  }
  const int id = options_.id;
  next_ = Mod(id + 1, n_);
  prev_ = Mod(id - 1, n_);
  x_.assign(x0.begin(), x0.end());
  acc_.resize(x_.size());
  const size_t d = x_.size();
  lo_.resize(n_ + 1);
  for (int c = 0; c <= n_; ++c) lo_[c] = d * static_cast<size_t>(c) / static_cast<size_t>(n_);
  HEARSAY_ASSIGN_OR_RETURN(decoder_, MakeCompressor(run.compressor));
  compressed_ = decoder_->Spec() != "identity";
  // Error feedback keeps a residual per slot: one codec object per reduce-scatter step and one
  // for the own sum (the forwarded all-gather bytes are never re-encoded).
  const std::string spec = !compressed_ || run.compressor.rfind("ef(", 0) == 0
                               ? run.compressor
                               : "ef(" + run.compressor + ")";
  for (int k = 0; k < n_; ++k) {
    HEARSAY_ASSIGN_OR_RETURN(std::unique_ptr<Compressor> c, MakeCompressor(spec));
    codecs_.push_back(std::move(c));
  }
  scratch_.resize(d / n_ + 2);
  return Status::Ok();
}

RngKey AllreduceCore::Key(int sender, uint32_t step) const {
  RngKey key;
  key.seed = options_.run.seed;
  key.peer = static_cast<uint32_t>(sender);
  key.round = static_cast<uint32_t>(round_);
  key.tensor = step;
  return key;
}

void AllreduceCore::OnMessage(double now, Message msg) {
  if (msg.kind != MessageKind::kChunk || msg.from != prev_) {
    HEARSAY_LOG_WARN("peer {}: allreduce drops a message of kind {} from peer {}", options_.id,
                     static_cast<int>(msg.kind), msg.from);
    return;
  }
  const uint32_t steps = 2 * static_cast<uint32_t>(n_ - 1);
  // The predecessor cannot finish a round without this peer's chunks: at most one round ahead.
  if (msg.tag >= steps || msg.round <= last_round_ || msg.round > round_ + 1) {
    failed_[msg.from] = "protocol violation: chunk of round " + std::to_string(msg.round) +
                        " step " + std::to_string(msg.tag) + " while this peer is in round " +
                        std::to_string(round_);
    return;
  }
  pending_.try_emplace({msg.round, msg.tag}, std::move(msg.payload));
  (void)now;
}

Status AllreduceCore::SendStep(uint32_t step, CoreSink& sink) {
  const uint32_t rs_steps = static_cast<uint32_t>(n_ - 1);
  Message m;
  m.kind = MessageKind::kChunk;
  m.from = options_.id;
  m.to = next_;
  m.round = round_;
  m.tag = step;
  if (step < rs_steps) {
    const int c = Mod(options_.id - static_cast<int64_t>(step), n_);
    HEARSAY_RETURN_IF_ERROR(codecs_[step]->Encode(Chunk(c), Key(options_.id, step), &m.payload));
  } else if (step == rs_steps) {
    // The own sum: encoded once; everyone, this peer included, uses the decoded bytes.
    const int c = Mod(options_.id + 1, n_);
    HEARSAY_RETURN_IF_ERROR(
        codecs_[rs_steps]->Encode(Chunk(c), Key(options_.id, step), &m.payload));
    if (compressed_) {
      std::span<float> out = Chunk(c);
      HEARSAY_RETURN_IF_ERROR(decoder_->Decode(m.payload, Key(options_.id, step), out));
    }
  } else {
    m.payload = forward_;
  }
  payload_sent_ += m.payload.size();
  return SendTo(sink, std::move(m));
}

Status AllreduceCore::ReceiveStep(uint32_t step, ByteBuffer bytes) {
  const uint32_t rs_steps = static_cast<uint32_t>(n_ - 1);
  const int id = options_.id;
  if (step < rs_steps) {
    const int c = Mod(id - static_cast<int64_t>(step) - 1, n_);
    std::span<float> chunk = Chunk(c);
    std::span<float> dec(scratch_.data(), chunk.size());
    HEARSAY_RETURN_IF_ERROR(decoder_->Decode(bytes, Key(prev_, step), dec)
                                .WithPrefix("round " + std::to_string(round_) +
                                            " chunk from peer " + std::to_string(prev_)));
    for (size_t k = 0; k < chunk.size(); ++k) chunk[k] += dec[k];
    return Status::Ok();
  }
  // All-gather: the sum of chunk c was encoded by its owner at step rs_steps with its own key.
  const uint32_t k = step - rs_steps;
  const int c = Mod(id - static_cast<int64_t>(k), n_);
  const int owner = Mod(c - 1, n_);
  std::span<float> chunk = Chunk(c);
  HEARSAY_RETURN_IF_ERROR(decoder_->Decode(bytes, Key(owner, rs_steps), chunk)
                              .WithPrefix("round " + std::to_string(round_) + " chunk from peer " +
                                          std::to_string(prev_)));
  forward_ = std::move(bytes);
  return Status::Ok();
}

CoreStep AllreduceCore::Step(double now, CoreSink& sink) {
  const RunConfig& run = options_.run;
  const int id = options_.id;
  const uint32_t steps = 2 * static_cast<uint32_t>(n_ - 1);
  while (true) {
    switch (phase_) {
      case Phase::kStart:
        phase_ = Phase::kComputing;
        return StartJob(now, round_, false);
      case Phase::kComputing: {
        if (Status s = CheckLoss(round_); !s.ok()) return Fail(now, sink, std::move(s));
        std::copy(grad_.begin(), grad_.end(), acc_.begin());
        step_ = 0;
        round_started_ = now;
        phase_ = Phase::kSteps;
        if (Status s = SendStep(0, sink); !s.ok()) return Fail(now, sink, std::move(s));
        continue;
      }
      case Phase::kSteps: {
        while (step_ < steps) {
          auto it = pending_.find({round_, step_});
          if (it == pending_.end()) break;
          ByteBuffer bytes = std::move(it->second);
          pending_.erase(it);
          Status s = ReceiveStep(step_, std::move(bytes));
          ++step_;
          if (s.ok() && step_ < steps) s = SendStep(step_, sink);
          if (!s.ok()) return Fail(now, sink, s.WithPrefix("peer " + std::to_string(id)));
        }
        if (step_ < steps) {
          if (!failed(prev_).empty()) {
            return Fail(
                now, sink,
                Unavailable("peer " + std::to_string(id) + " round " + std::to_string(round_) +
                            ": peer " + std::to_string(prev_) + " failed: " + failed(prev_)));
          }
          if (done_round(prev_) >= 0 && done_round(prev_) < round_) {
            if (run.duration_s > 0) return Finish(now, sink);
            return Fail(now, sink,
                        FailedPrecondition("peer " + std::to_string(id) + ": round " +
                                           std::to_string(round_) + " needs peer " +
                                           std::to_string(prev_) + ", which has finished"));
          }
          if (bounded_by_duration(now)) return Finish(now, sink);
          const double deadline = round_started_ + run.round_timeout_s;
          if (now >= deadline) {
            return Fail(
                now, sink,
                DeadlineExceeded("peer " + std::to_string(id) + ": waited " +
                                 std::to_string(run.round_timeout_s) + " s in round " +
                                 std::to_string(round_) + " for peer " + std::to_string(prev_) +
                                 "'s chunk " + std::to_string(step_)));
          }
          return Wait(now, deadline);
        }
        // The mean gradient over all peers' minibatches.
        const float scale = work_lr(round_) / static_cast<float>(n_);
        for (size_t k = 0; k < x_.size(); ++k) x_[k] -= scale * acc_[k];
        last_round_ = round_;
        const bool last = round_ >= run.rounds || bounded_by_duration(now);
        Status s = sink.OnRound(MakeRecord(now, round_, grad_loss_));
        if (s.ok()) s = MaybeSnapshotRound(now, sink, round_, last);
        if (!s.ok()) return Fail(now, sink, std::move(s));
        if (last) return Finish(now, sink);
        ++round_;
        phase_ = Phase::kComputing;
        return StartJob(now, round_, false);
      }
    }
  }
}

}  // namespace hearsay
