// AdpsgdCore: AD-PSGD (Lian et al. 2018), asynchronous decentralized SGD with pairwise averaging
// (ALGORITHMS.md "Asynchronous and other modes"; docs/algorithms.md).
//
// Each local step t: g = gradient at the model as it was when the step's computation started
// (possibly stale: averages applied while it ran are not in it; requests are served during the
// computation, see PeerCore::Service); the step applies x <- x - lr_t g and, unless an average
// is still in flight, picks one neighbour j (a counter-based draw keyed by (seed, peer, t)) and
// sends it REQUEST(t, C(x)) (the draw is among the live neighbours that have not finished; none:
// no average this step). A step never waits for its reply (wait-free: the reply is applied
// whenever it comes, so a peer has at most one average in flight and steps at the pace of its
// computation); with `adpsgd_wait: reply` each step's gradient waits for the reply to the
// previous step's request (one average per step, overlapped with the gradient).
// Requests are served whenever they arrive, never blocking on anything:
//   responder j:  a = decode(request); q = C((x_j - a) / 2);  x_j <- x_j - decode(q); REPLY(q)
//   requester i:  x_i <- x_i + decode(q)
// Both apply the same decoded bytes with opposite signs (invariant 2), so the sum of the models is
// conserved in every interleaving, and when nothing else touched x_i meanwhile both end at exactly
// (x_i + x_j) / 2 -- the atomic pairwise average. This replaces the paper's active/passive
// bipartition: no peer ever waits for another (only for its own reply, at the very end), so there
// is no deadlock on any graph, odd cycles included. Codec keys: a request of peer i's step t is
// (seed, i, t, tensor 1); the reply to it from j is (seed, j, t, tensor 2 + i).
//
// A peer that finishes with an average in flight waits for the reply (serving requests meanwhile)
// or for the partner's DONE (then the partner never saw the request: FIFO links), bounded by
// round_timeout. The replay log records, for each step, the requests served, replies applied and
// averages given up (kDone) before the step's gradient was applied; the finishing phase is the
// record of round last+1.
// Rejoin (a restarted peer or a late joiner, docs/faults.md): the joiner sends JOIN to every
// neighbour; a neighbour answers at once with JOIN_STATE (its completed steps, its model), gives
// up an average it had in flight with the joiner's dead predecessor, and takes the joiner back as
// a partner. The joiner adopts the model of the neighbour furthest along (most steps; ties: the
// lowest id) and goes on from the step after it; requests that arrive meanwhile wait until then.
// Requires an undirected static graph. Thread-safety: none; one driver thread owns it.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "compressors/compressor.h"
#include "runtime/peer/peer_core.h"

namespace hearsay {

class AdpsgdCore final : public PeerCore {
 public:
  explicit AdpsgdCore(PeerCoreOptions options) : PeerCore(std::move(options)) {}

  void Compute() override;
  std::span<const float> params() const override { return x_; }
  bool ServesDuringCompute() const override { return true; }
  // Serves requests and applies replies that arrived (not in replay: there the record decides).
  Status Service(double now, CoreSink& sink) override;

 private:
  enum class Phase : uint8_t { kJoining, kStart, kComputing, kFinishing };

  Status SetupProtocol(std::span<const float> x0) override;
  void OnMessage(double now, Message msg) override;
  CoreStep Step(double now, CoreSink& sink) override;

  // Serves / applies buffered messages (replay: exactly the record of `record_round`), and gives
  // up an average whose partner is gone. Appends what it did to applied_.
  Status ProcessInbox(double now, CoreSink& sink, int64_t record_round, bool* waiting);
  Status Serve(const Message& m, CoreSink& sink);
  Status ApplyReply(const Message& m);
  Status SendRequest(int64_t t, CoreSink& sink);
  Status ServeJoin(const Message& m, CoreSink& sink);
  CoreStep JoinStep(double now, CoreSink& sink);
  RngKey Key(int peer, int64_t round, uint32_t tensor) const;
  int64_t last_step() const;  // rounds, or the replay log's last step
  // Decodes bytes (a vector of the model's size) and hands fn(lo, values) the values a chunk at a
  // time, only once the whole payload passed its checks (Compressor::DecodeChunks).
  template <typename Fn>
  Status DecodeApply(const ByteBuffer& bytes, const RngKey& key, Fn&& fn);

  std::unique_ptr<Compressor> codec_;
  std::vector<int> neighbors_;             // ascending, self excluded
  std::vector<int> live_;                  // SendRequest's scratch: the live neighbours
  std::map<int64_t, int> replay_partner_;  // replay: step -> the recorded run's partner
  std::vector<float> x_, scratch_, delta_;
  std::vector<float> x_read_;  // the model the running step's gradient is taken at
  std::deque<Message> inbox_;  // requests and replies in arrival order
  Phase phase_ = Phase::kStart;
  // The average in flight: partner and the step it was requested at (-1: none).
  int partner_ = -1;
  int64_t partner_round_ = -1;
  // Averages given up while their partner was silent, (partner, step): a late reply still applies.
  std::set<std::pair<int, int64_t>> given_up_;
  std::map<int, uint64_t> gave_up_;  // per partner: averages given up (rate-limits the log)
  double finishing_since_ = 0;
  double reply_wait_began_ = -1;  // now when the step began waiting for its reply
  // Rejoin, joiner side: JOINs sent at join_began_; the answers, by neighbour: (steps, model).
  bool joins_sent_ = false;
  int64_t joined_at_ = 0;  // the first step after a rejoin (replies to earlier steps: dropped)
  double join_began_ = 0;
  std::map<int, std::pair<int64_t, std::vector<float>>> join_states_;
  std::vector<MessageId> applied_;
  std::vector<std::pair<int, int64_t>> staleness_;  // this step's averages: (peer, steps apart)
  int64_t max_staleness_ = 0;
  double staleness_sum_ = 0;
  int64_t staleness_count_ = 0;
};

}  // namespace hearsay
