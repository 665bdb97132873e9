// In-process transport: n peers living in one process (threads) exchange Messages through a
// shared hub, with the same interface and ordering guarantees as the TCP transport. Used by
// tests, by `hearsay launch --transport inproc` and by simulations; the link emulator wraps it
// exactly as it wraps TCP.
//
// Ownership: the hub and its endpoints share the underlying state, so an endpoint stays valid
// even if the hub object is destroyed first. Messages are moved, never copied.
// Semantics: links are up as soon as an endpoint exists (Start returns at once). When an
// endpoint shuts down (or is destroyed) without having sent kDone to a peer it has sent messages
// to, that peer's Receive returns Unavailable naming it -- as a broken TCP link would.
// Stats count the bytes the same messages would occupy as TCP frames.
// Thread-safety: InProcHub and every endpoint are thread-safe; each endpoint is meant to be
// driven by one peer's compute thread.
#pragma once

#include <memory>

#include "runtime/transport/transport.h"

namespace hearsay {

class InProcHub {
 public:
  explicit InProcHub(int num_peers);
  ~InProcHub();
  InProcHub(const InProcHub&) = delete;
  InProcHub& operator=(const InProcHub&) = delete;

  int size() const;
  // The endpoint of `peer` (0 <= peer < size()); at most one per peer. Returns nullptr (and logs
  // an error) for an id out of range or an endpoint already handed out.
  std::unique_ptr<Transport> Endpoint(int peer);
  // A new endpoint for `peer` after its previous one shut down (a killed peer restarted): its
  // inbox is emptied and opened again; what was sent to it meanwhile is lost, as for a process
  // that was not running. Returns nullptr (and logs) when the previous endpoint is still open.
  std::unique_ptr<Transport> Reopen(int peer);

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace hearsay
