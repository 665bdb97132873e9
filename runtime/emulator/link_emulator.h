// Link emulator: a Transport wrapper that delays every message as the topology's emulated
// network would (DESIGN.md "Network emulator"; the model is link_model.h). Works over any
// transport (TCP, in-process) and needs no privileges.
//
// Send hands the message to a LinkModel in virtual time (seconds since this wrapper was created,
// or since Start if nothing was sent before) and returns at once; a scheduler thread passes it to
// the inner transport when the model says its last bit arrives, so on a fast inner transport
// the receiver sees it at about that time. Bandwidth is charged for wire bytes (frame prefix +
// header + payload, FrameWireBytes). When the receiving node has an ingress capacity, a pump
// thread timestamps arrivals from the inner transport and holds each message until the
// IngressModel releases it. Order per link is kept.
//
// Ownership: owns the inner transport. Thread-safety: as Transport (Send/Receive from the
// compute thread; the wrapper's own threads never run compute). Shutdown waits (bounded by its
// deadline) for emulated deliveries still pending, then shuts the inner transport down.
#pragma once

#include <cstdint>
#include <memory>

#include "runtime/transport/transport.h"
#include "topology/topology_spec.h"

namespace hearsay {

// `self` indexes spec->nodes; `seed` keys jitter and loss draws (common/random.h,
// kStreamEmulator).
std::unique_ptr<Transport> MakeEmulatedTransport(std::unique_ptr<Transport> inner,
                                                 std::shared_ptr<const TopologySpec> spec, int self,
                                                 uint64_t seed);

}  // namespace hearsay
