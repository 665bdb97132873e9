// Where a run's peers listen when that is decided at launch rather than in the topology file:
// ports chosen on this host for `base_port: auto`, hosts from `launch --hosts FILE`.
//
// The launcher writes the result as an address book, OUT/<run>/addresses.yaml, and gives it to
// every peer (`hearsay peer --addresses FILE`), so all peers agree on every address (the
// handshake compares a hash that includes them):
//
//   # hearsay: where the peers of run 'R' listen (written by hearsay launch)
//   nodes:
//     - {name: n0, host: 127.0.0.1, port: 40211}
//     - {name: n1, host: 127.0.0.1, port: 40212}
//
// PortReservation makes `base_port: auto` safe for concurrent experiments on one host: each port
// is taken by binding port 0 (the kernel hands out a port nobody holds) with SO_REUSEADDR and is
// kept bound, without listening, until the reservation is released -- the peer that listens
// there binds it too (also with SO_REUSEADDR), while every other bind(0) on the machine skips it
// and a second listener is refused. So two launches never pick the same port.
// Thread-safety: free functions; a reservation has one owner.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "topology/topology_spec.h"

namespace hearsay {

Status WriteAddressBook(const std::string& path, const TopologySpec& spec,
                        const std::string& run_name);

// `spec` with every node's host and port taken from the book at `path` (the same number of
// nodes, in order, with the same names). Errors name path:line.
Result<std::shared_ptr<const TopologySpec>> ApplyAddressBook(const std::string& path,
                                                             const TopologySpec& spec);

class PortReservation {
 public:
  PortReservation() = default;
  PortReservation(PortReservation&& other) noexcept;
  PortReservation& operator=(PortReservation&& other) noexcept;
  PortReservation(const PortReservation&) = delete;
  PortReservation& operator=(const PortReservation&) = delete;
  ~PortReservation();  // releases the ports

  // Gives every node of *spec whose port is 0 a free port on its listening address (its bind
  // host, else its host), which must be an address of this machine. Other nodes keep theirs.
  static Result<PortReservation> Reserve(TopologySpec* spec);

  size_t size() const { return fds_.size(); }

 private:
  std::vector<int> fds_;
};

}  // namespace hearsay
