#include "runtime/emulator/link_model.h"

#include <algorithm>
#include <cmath>

#include "common/random.h"

namespace hearsay {
namespace {

constexpr double kSegmentBytes = 1448;  // TCP payload per segment on a 1500-byte MTU
constexpr double kMinRtoSeconds = 0.2;  // Linux TCP_RTO_MIN
constexpr double kMinRttSeconds = 0.001;
constexpr int kFastRetransmitSegments = 4;
constexpr double kDoneBits = 1e-6;  // a transmission with fewer bits left is complete

double Cap(double bps) { return bps > 0 ? bps : kNever; }

}  // namespace

LinkModelConfig LinkModelConfig::FromSpec(std::shared_ptr<const TopologySpec> spec, int self,
                                          uint64_t seed) {
  LinkModelConfig c;
  c.self = self;
  c.seed = seed;
  c.egress_bps = spec->nodes.at(self).egress_bps;
  c.change_times = spec->ChangeTimes();
  c.constant_links = spec->events.empty() && spec->traces.empty();
  c.link = [spec, self](int to, double seconds, int64_t round) {
    return spec->LinkAt(self, to, seconds, round);
  };
  return c;
}

LinkModel::LinkModel(LinkModelConfig config) : config_(std::move(config)) {}

uint64_t LinkModel::Submit(double now_s, int to, uint64_t wire_bytes, int64_t round, uint64_t tag) {
  AdvanceTransmissions(std::max(now_s, now_));
  const uint64_t id = next_id_++;
  latest_round_ = std::max(latest_round_, round);
  Link& link = LinkTo(to);
  link.queue.push_back(Pending{id, wire_bytes, 8.0 * static_cast<double>(wire_bytes), round, tag});
  // An instantaneous link finishes at once; others progress from now on. Only the new message can
  // finish at this instant (the advance above finished the rest), and only when it is the link's
  // transmitting one on a link without a bandwidth cap: otherwise the call is a no-op that walks
  // every link (a tenth of a simulation on a 12-neighbour graph).
  if (link.queue.size() == 1 && Params(to, link, now_, round).bandwidth_bps <= 0) {
    AdvanceTransmissions(now_);
  }
  return id;
}

LinkModel::Link& LinkModel::LinkTo(int to) {
  auto it = std::lower_bound(links_.begin(), links_.end(), to,
                             [](const Link& l, int v) { return l.to < v; });
  if (it != links_.end() && it->to == to) return *it;
  it = links_.insert(it, Link{});
  it->to = to;
  return *it;
}

LinkParams LinkModel::Params(int to, Link& link, double t, int64_t round) const {
  if (!config_.constant_links) return config_.link(to, t, round);
  if (!link.cached) {
    link.params = config_.link(to, t, round);
    link.cached = true;
  }
  return link.params;
}

const std::vector<LinkModel::Rate>& LinkModel::Rates(double t) {
  std::vector<Rate>& rates = rates_;
  rates.clear();
  for (Link& link : links_) {
    if (link.queue.empty()) continue;
    const int to = link.to;
    const int64_t round = link.queue.front().round;
    const LinkParams p = Params(to, link, t, round);
    bool up = p.up;
    if (!config_.constant_links && latest_round_ > round)
      up = config_.link(to, t, latest_round_).up;
    rates.push_back(Rate{to, &link, up ? Cap(p.bandwidth_bps) : 0.0});
  }
  if (config_.egress_bps <= 0) return rates;  // no shared uplink: each link at its own cap
  // Max-min fair share of the egress among transmitting links, each capped by its bandwidth:
  // serve links in ascending cap (ties by id), each taking min(cap, what is left / links left).
  std::vector<std::pair<double, size_t>>& order = order_;
  order.clear();
  for (size_t k = 0; k < rates.size(); ++k) order.emplace_back(rates[k].bps, k);
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : rates[a.second].to < rates[b.second].to;
  });
  double remaining = Cap(config_.egress_bps);
  for (size_t i = 0; i < order.size(); ++i) {
    const double share = remaining / static_cast<double>(order.size() - i);
    const double rate = std::min(order[i].first, share);
    rates[order[i].second].bps = rate;
    if (!std::isinf(remaining)) remaining -= rate;
  }
  return rates;
}

double LinkModel::NextChange(double after) const {
  auto it = std::upper_bound(config_.change_times.begin(), config_.change_times.end(), after);
  return it == config_.change_times.end() ? kNever : *it;
}

double LinkModel::LossDelay(int to, uint64_t seq, uint64_t wire_bytes, double latency_s,
                            double loss) const {
  if (loss <= 0) return 0;
  const double segments = std::max(1.0, std::ceil(static_cast<double>(wire_bytes) / kSegmentBytes));
  const double penalty = segments < kFastRetransmitSegments
                             ? std::max(kMinRtoSeconds, 2 * latency_s)
                             : std::max(kMinRttSeconds, 2 * latency_s);
  if (loss >= 1) return penalty * segments;  // every segment needs one retransmission
  // Geometric skips between lost segments: one draw per loss instead of one per segment.
  const RngKey key{config_.seed, static_cast<uint32_t>(config_.self), static_cast<uint32_t>(to),
                   kStreamEmulator, 1};
  const double log_keep = std::log1p(-loss);
  double delay = 0;
  double position = 0;
  for (uint64_t draw = 0;; ++draw) {
    const double u = 1.0 - UniformAt(key, (seq << 24) | (draw & 0xFFFFFF));  // (0, 1]
    position += std::floor(std::log(u) / log_keep);
    if (position >= segments) break;
    delay += penalty;
    position += 1;
  }
  return delay;
}

void LinkModel::Finish(int to, Link& link, double t) {
  const Pending& p = link.queue.front();
  const LinkParams params = Params(to, link, t, p.round);
  const uint64_t seq = link.sent++;
  const RngKey key{config_.seed, static_cast<uint32_t>(config_.self), static_cast<uint32_t>(to),
                   kStreamEmulator, 0};
  const double jitter = params.jitter_s > 0 ? params.jitter_s * UniformAt(key, seq) : 0.0;
  double arrival = t + params.latency_s + jitter +
                   LossDelay(to, seq, p.wire_bytes, params.latency_s, params.loss);
  arrival = std::max(arrival, link.last_arrival);
  link.last_arrival = arrival;
  link.in_flight.push_back(Delivery{p.id, to, arrival, p.tag});
  link.queue.pop_front();
}

void LinkModel::AdvanceTransmissions(double t) {
  while (true) {
    // Finish (below) does not call Rates, so the reference stays valid through the step.
    const std::vector<Rate>& rates = Rates(now_);
    if (rates.empty()) {
      now_ = std::max(now_, t);
      return;
    }
    double step = kNever;
    for (const Rate& r : rates) {
      const double bits = r.link->queue.front().remaining_bits;
      const double dt = std::isinf(r.bps) ? 0.0 : (r.bps > 0 ? bits / r.bps : kNever);
      step = std::min(step, dt);
    }
    const double change = NextChange(now_);
    const double next = std::min(now_ + step, change);
    if (next > t) {
      for (const Rate& r : rates) {
        if (r.bps > 0 && !std::isinf(r.bps)) {
          r.link->queue.front().remaining_bits -= r.bps * (t - now_);
        }
      }
      now_ = std::max(now_, t);
      return;
    }
    const double dt = next - now_;
    const bool transmission_ends = now_ + step <= change;
    for (const Rate& r : rates) {
      Pending& head = r.link->queue.front();
      if (std::isinf(r.bps)) {
        head.remaining_bits = 0;
      } else if (r.bps > 0) {
        // The link(s) that define this step end exactly here (no rounding leftovers).
        const bool ends = transmission_ends && head.remaining_bits / r.bps <= step;
        head.remaining_bits = ends ? 0 : head.remaining_bits - r.bps * dt;
      }
    }
    now_ = next;
    for (const Rate& r : rates) {
      if (!r.link->queue.empty() && r.link->queue.front().remaining_bits <= kDoneBits) {
        Finish(r.to, *r.link, now_);
      }
    }
  }
}

const std::vector<Delivery>& LinkModel::AdvanceTo(double now_s) {
  AdvanceTransmissions(std::max(now_s, now_));
  std::vector<Delivery>& due = due_;
  due.clear();
  for (Link& link : links_) {
    while (!link.in_flight.empty() && link.in_flight.front().arrival_s <= now_) {
      due.push_back(link.in_flight.front());
      link.in_flight.pop_front();
    }
  }
  std::sort(due.begin(), due.end(), [](const Delivery& a, const Delivery& b) {
    return a.arrival_s != b.arrival_s ? a.arrival_s < b.arrival_s : a.id < b.id;
  });
  return due;
}

double LinkModel::NextEventTime() {
  double next = kNever;
  bool transmitting = false;
  for (const Link& link : links_) {
    if (!link.in_flight.empty()) next = std::min(next, link.in_flight.front().arrival_s);
    if (!link.queue.empty()) transmitting = true;
  }
  if (!transmitting) return next;
  for (const Rate& r : Rates(now_)) {
    const double bits = r.link->queue.front().remaining_bits;
    if (std::isinf(r.bps)) return now_;
    if (r.bps > 0) next = std::min(next, now_ + bits / r.bps);
  }
  return std::min(next, NextChange(now_));
}

bool LinkModel::idle() const {
  for (const Link& link : links_) {
    if (!link.queue.empty() || !link.in_flight.empty()) return false;
  }
  return true;
}

double IngressModel::Deliver(double arrival_s, uint64_t wire_bytes, double path_bps) {
  if (ingress_bps_ <= 0) return arrival_s;
  const double bits = 8.0 * static_cast<double>(wire_bytes);
  const double first_bit = path_bps > 0 ? arrival_s - bits / path_bps : arrival_s;
  const double start = std::max(first_bit, free_at_);
  const double done = std::max(start + bits / ingress_bps_, arrival_s);
  free_at_ = done;
  return done;
}

}  // namespace hearsay
