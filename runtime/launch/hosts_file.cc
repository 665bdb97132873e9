#include "runtime/launch/hosts_file.h"

#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

#include "common/suggest.h"

namespace hearsay {
namespace {

constexpr int kMaxSlots = 1 << 16;

bool ValidHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
         c == ':' || c == '@' || c == '[' || c == ']' || c == '%';
}

}  // namespace

Result<HostsFile> ParseHostsFile(std::string_view text, const std::string& path) {
  HostsFile file;
  file.path = path;
  std::istringstream in{std::string(text)};
  std::string raw;
  for (int line = 1; std::getline(in, raw); ++line) {
    const std::string where = path + ":" + std::to_string(line) + ": ";
    std::string content = raw.substr(0, raw.find('#'));
    std::istringstream fields(content);
    std::string field;
    if (!(fields >> field)) continue;  // blank or comment
    HostEntry e;
    e.destination = field;
    e.line = line;
    for (char c : field) {
      if (!ValidHostChar(c)) {
        return InvalidArgument(where + "'" + field +
                               "' is not a host name or address ([user@]host)");
      }
    }
    e.host = field.substr(field.find('@') == std::string::npos ? 0 : field.find('@') + 1);
    if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']') {
      e.host = e.host.substr(1, e.host.size() - 2);
    }
    if (e.host.empty() || e.destination.front() == '-') {
      return InvalidArgument(where + "'" + field + "' names no host");
    }
    while (fields >> field) {
      const size_t eq = field.find('=');
      const std::string key = field.substr(0, eq);
      if (key != "slots" || eq == std::string::npos) {
        return InvalidArgument(where + "unknown field '" + field + "'" +
                               DidYouMean(key, {"slots"}) + " (a line is: host [slots=N])");
      }
      const std::string value = field.substr(eq + 1);
      int slots = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), slots);
      if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || slots < 1 ||
          slots > kMaxSlots) {
        return InvalidArgument(where + "slots=" + value + " is not a peer count (1.." +
                               std::to_string(kMaxSlots) + ")");
      }
      e.slots = slots;
    }
    for (const HostEntry& other : file.hosts) {
      if (other.destination == e.destination) {
        return InvalidArgument(where + e.destination + " is listed twice (first on line " +
                               std::to_string(other.line) + "); give it slots=N once");
      }
    }
    file.hosts.push_back(std::move(e));
  }
  if (file.hosts.empty()) return InvalidArgument(path + ": no hosts (one `host slots=N` a line)");
  return file;
}

Result<HostsFile> LoadHostsFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) return NotFound(path + ": cannot read the hosts file");
  std::stringstream text;
  text << f.rdbuf();
  return ParseHostsFile(text.str(), path);
}

Result<std::vector<int>> HostsFile::Place(int num_peers) const {
  std::vector<int> placement;
  for (size_t h = 0; h < hosts.size() && static_cast<int>(placement.size()) < num_peers; ++h) {
    for (int s = 0; s < hosts[h].slots && static_cast<int>(placement.size()) < num_peers; ++s) {
      placement.push_back(static_cast<int>(h));
    }
  }
  if (static_cast<int>(placement.size()) < num_peers) {
    return InvalidArgument(path + ": " + std::to_string(placement.size()) + " slots for " +
                           std::to_string(num_peers) +
                           " peers; give the hosts more slots (host slots=N)");
  }
  return placement;
}

}  // namespace hearsay
