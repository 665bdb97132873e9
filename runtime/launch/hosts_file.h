// Hosts files for `hearsay launch --hosts FILE` (docs/deploy.md): one host per line, with the
// number of peers it runs, as MPI hostfiles write it:
//
//   # comments and blank lines are ignored
//   gpu-node-1 slots=4        # peers 0..3
//   gpu-node-2 slots=4        # peers 4..7
//   alice@10.0.0.7            # slots=1; ssh logs in as alice, peers connect to 10.0.0.7
//
// The first field is the ssh destination ([user@]host); its host part is the address the other
// peers connect to. Peers are placed in id order: the first host's slots take ids 0.., and so
// on. Errors name file:line (an unknown field, a bad slot count, a host listed twice) or the file
// (fewer slots than peers). Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hearsay {

struct HostEntry {
  std::string destination;  // as given: "alice@10.0.0.7"
  std::string host;         // address part: "10.0.0.7"
  int slots = 1;
  int line = 0;
};

struct HostsFile {
  std::string path;
  std::vector<HostEntry> hosts;
  // Index into `hosts` of the host that runs each peer, for `num_peers` peers.
  Result<std::vector<int>> Place(int num_peers) const;
};

Result<HostsFile> ParseHostsFile(std::string_view text, const std::string& path);
Result<HostsFile> LoadHostsFile(const std::string& path);

}  // namespace hearsay
