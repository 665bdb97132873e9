// Starting peers on other machines over SSH (`hearsay launch --hosts FILE`, docs/deploy.md).
//
// The OpenSSH client runs each peer as `ssh -o BatchMode=yes DEST 'cd DIR && exec hearsay peer
// ...'`: its output comes back through the connection into the local OUT/<run>/peer_<i>.log (the
// launcher's progress reads the peers' files as usual). The remote command line is built from
// single-quoted words, so paths with spaces or quotes reach the remote shell intact.
// Assumed: the hearsay binary, the experiment and its topology are at the same paths on every
// host (a shared filesystem or an identical checkout); OUT need not be shared -- the address book
// is copied to each host before its peers start, and a host's run folder is copied back after
// the run when its peers' files are not visible locally.
// Thread-safety: free functions; each blocks its caller.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace hearsay {

// `word` as one single-quoted POSIX shell word: it's -> 'it'\''s'.
std::string ShellQuote(const std::string& word);

// The absolute path of `program` found on PATH (or `program` itself when it holds a '/').
Result<std::string> FindOnPath(const std::string& program);

// argv that runs `command` (words, quoted here) on `destination` over ssh, in folder `cwd`.
std::vector<std::string> SshArgv(const std::string& ssh, const std::string& destination,
                                 const std::string& cwd, const std::vector<std::string>& command);

// Copies the local file `path` to the same path on `destination` (creating its folder) and
// blocks until done; `log_path` gets ssh's messages. The copy is written beside and renamed, so
// a shared filesystem (the same file at both ends) is left intact.
Status PushFile(const std::string& ssh, const std::string& destination, const std::string& path,
                const std::string& log_path);

// Copies the folder `dir` on `destination` into the local `dir`, keeping local files.
Status PullFolder(const std::string& ssh, const std::string& destination, const std::string& dir,
                  const std::string& log_path);

}  // namespace hearsay
