#include "runtime/transport/secret.h"

#include <sys/stat.h>

#include <cstdlib>

#include "common/regular_file.h"

namespace hearsay {
namespace {

void WarnIfShort(ResolvedSecret* r) {
  if (r->secret.size() < kMinSecretBytes) {
    r->warnings.push_back("the cluster secret from " + r->origin + " has only " +
                          std::to_string(r->secret.size()) + " bytes; use at least " +
                          std::to_string(kMinSecretBytes) +
                          " random bytes (e.g. `head -c 32 /dev/urandom | base64`)");
  }
}

}  // namespace

SecretSources SecretSourcesFromEnvironment(std::string secret_file, std::string inline_secret) {
  SecretSources s;
  s.secret_file = std::move(secret_file);
  s.inline_secret = std::move(inline_secret);
  if (const char* env = std::getenv("HEARSAY_SECRET")) s.env = env;
  return s;
}

Result<ResolvedSecret> ResolveClusterSecret(const SecretSources& sources) {
  ResolvedSecret r;
  if (!sources.secret_file.empty()) {
    const std::string& path = sources.secret_file;
    HEARSAY_ASSIGN_OR_RETURN(std::string text,
                             ReadRegularFile(path, kMaxSecretFileBytes, "secret file"));
    if (text.size() >= 2 && text.compare(text.size() - 2, 2, "\r\n") == 0) {
      text.resize(text.size() - 2);
    } else if (!text.empty() && text.back() == '\n') {
      text.pop_back();
    }
    if (text.empty()) return InvalidArgument(path + ": secret file is empty");
    r.secret = std::move(text);
    r.origin = "secret_file " + path;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
      r.warnings.push_back(path + ": secret file is readable by other users (chmod 600 it)");
    }
    WarnIfShort(&r);
    return r;
  }
  if (sources.env) {
    if (sources.env->empty()) {
      return InvalidArgument("HEARSAY_SECRET is set but empty; unset it or give a real secret");
    }
    r.secret = *sources.env;
    r.origin = "HEARSAY_SECRET";
    WarnIfShort(&r);
    return r;
  }
  if (sources.inline_secret.empty()) {
    return InvalidArgument(
        "`secret:` is empty; give a real secret with `secret_file:` or "
        "HEARSAY_SECRET");
  }
  r.secret = sources.inline_secret;
  if (r.secret == kDevelopmentSecret) {
    r.origin = "the built-in development secret";
    return r;
  }
  r.origin = "`secret:` in the experiment file";
  r.warnings.push_back(
      "`secret:` in the experiment file is discouraged (anyone who can read the file knows the "
      "secret); use `secret_file:` or HEARSAY_SECRET");
  WarnIfShort(&r);
  return r;
}

}  // namespace hearsay
