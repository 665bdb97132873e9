// The simulator's event queue (runtime/sim/simulator.h, "Determinism"): events ordered by the key
// (time, class, peer, sequence), the sequence being creation order. Internal to the simulator.
//
// An event's place in the order is one 128-bit number: the bits of its (non-negative) time, whose
// order as an unsigned integer is that of the doubles, then (class, peer, sequence) packed into 64
// bits. One comparison without branches instead of four: the heap's sift-downs were a tenth of a
// 4096-peer run.
// Thread-safety: none (the simulating thread owns it).
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <queue>
#include <vector>

namespace hearsay::sim_internal {

// Event classes, in their order at equal virtual times.
enum class EventClass : uint8_t { kDelivery = 0, kLinkStep = 1, kWake = 2, kFault = 3 };

inline constexpr int kPeerBits = 22;  // peers < 2^22 (topologies have at most 2^20 nodes)
inline constexpr int kMaxPeers = 1 << kPeerBits;

struct Event {
  static constexpr int kSeqBits = 62 - kPeerBits;
  uint64_t time_bits = 0;
  uint64_t key = 0;  // class (2 bits), peer (kPeerBits), sequence (kSeqBits)
  uint64_t ref = 0;  // the simulator's: a message slot, a timer generation, a fault index
  double time() const { return std::bit_cast<double>(time_bits); }
  EventClass cls() const { return static_cast<EventClass>(key >> 62); }
  // kDelivery: the receiver; kLinkStep: the sending node; kWake, kFault: the peer.
  int peer() const {
    return static_cast<int>((key >> kSeqBits) & ((uint64_t{1} << kPeerBits) - 1));
  }
};

class EventQueue {
 public:
  // `time` >= 0 and 0 <= peer < kMaxPeers.
  void Push(double time, EventClass cls, int peer, uint64_t ref) {
    // Past 2^40 events (12 days at a million a second) ties of equal (time, class, peer) fall to
    // the heap's own order, which is still deterministic.
    const uint64_t seq = std::min(seq_++, kMaxSeq);
    // + 0.0 turns -0.0 into +0.0, whose bits order as the doubles' values.
    heap_.push(Event{
        std::bit_cast<uint64_t>(time + 0.0),
        (static_cast<uint64_t>(cls) << 62) | (static_cast<uint64_t>(peer) << Event::kSeqBits) | seq,
        ref});
    peak_ = std::max<uint64_t>(peak_, heap_.size());
  }
  bool empty() const { return heap_.empty(); }
  // The first event in the order; requires !empty().
  Event Pop() {
    const Event e = heap_.top();
    heap_.pop();
    return e;
  }
  uint64_t peak() const { return peak_; }  // the largest size so far

 private:
  static constexpr uint64_t kMaxSeq = (uint64_t{1} << Event::kSeqBits) - 1;
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      using U128 = unsigned __int128;
      return ((U128{a.time_bits} << 64) | a.key) > ((U128{b.time_bits} << 64) | b.key);
    }
  };
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  uint64_t seq_ = 0;
  uint64_t peak_ = 0;
};

}  // namespace hearsay::sim_internal
