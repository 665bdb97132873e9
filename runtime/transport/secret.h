// Where a peer's cluster secret comes from (docs/security.md), first match wins:
//   1. `secret_file:` of the run (RunConfig::secret_file): a regular file of at most
//      kMaxSecretFileBytes; one trailing newline ("\n" or "\r\n") is not part of the secret;
//   2. the HEARSAY_SECRET environment variable;
//   3. `secret:` in the experiment file (still read, but discouraged: anyone who can read the
//      experiment file -- often checked into a repository -- knows the secret);
//   4. nothing: the public development secret (kDevelopmentSecret), which MakeTcpTransport then
//      accepts only when every peer address is loopback.
// An empty secret from any source is an error. Warnings (an inline secret, a file others may read,
// a secret shorter than kMinSecretBytes) are returned for the caller to log.
// Thread-safety: pure function (reads the file).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace hearsay {

inline constexpr size_t kMaxSecretFileBytes = 4096;
inline constexpr size_t kMinSecretBytes = 16;
// The development secret every run had before secrets were required; equal to RunConfig's default
// `secret`. Accepted only on loopback-only clusters.
inline constexpr const char* kDevelopmentSecret = "hearsay-dev-secret";

struct SecretSources {
  std::string secret_file;         // "" = none
  std::optional<std::string> env;  // HEARSAY_SECRET when set
  std::string inline_secret;       // `secret:`; the development secret when the key is absent
};

struct ResolvedSecret {
  std::string secret;
  std::string origin;  // "secret_file /etc/hearsay/secret", "HEARSAY_SECRET", ...
  std::vector<std::string> warnings;
};

Result<ResolvedSecret> ResolveClusterSecret(const SecretSources& sources);

// The sources of this process: HEARSAY_SECRET from the environment.
SecretSources SecretSourcesFromEnvironment(std::string secret_file, std::string inline_secret);

}  // namespace hearsay
