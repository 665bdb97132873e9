#include "runtime/launch/addresses.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "topology/yaml_context.h"

namespace hearsay {
namespace {

// A YAML scalar in double quotes (host names and node names are plain text; quote anyway).
std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Binds a socket to host:0 with SO_REUSEADDR (not listening) and returns it and its port.
Result<int> BindFreePort(const std::string& host, uint16_t* port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), "0", &hints, &found);
  if (rc != 0) return Unavailable("cannot resolve " + host + ": " + gai_strerror(rc));
  std::string why = "no address";
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_storage bound{};
    socklen_t len = sizeof(bound);
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
      why = std::strerror(errno);
      close(fd);
      fd = -1;
      continue;
    }
    *port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  freeaddrinfo(found);
  if (fd < 0) return Unavailable("cannot bind " + host + ": " + why);
  return fd;
}

}  // namespace

Status WriteAddressBook(const std::string& path, const TopologySpec& spec,
                        const std::string& run_name) {
  std::ofstream f(path, std::ios::trunc);
  f << "# hearsay: where the peers of run '" << run_name
    << "' listen (written by hearsay launch)\nnodes:\n";
  for (const NodeSpec& n : spec.nodes) {
    f << "  - {name: " << Quoted(n.name) << ", host: " << Quoted(n.host) << ", port: " << n.port
      << "}\n";
  }
  if (!f) return Unavailable(path + ": cannot write");
  return Status::Ok();
}

Result<std::shared_ptr<const TopologySpec>> ApplyAddressBook(const std::string& path,
                                                             const TopologySpec& spec) {
  YamlContext ctx;
  ctx.source = path;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return NotFound(path + ": cannot read the address book");
  } catch (const YAML::Exception& e) {
    return InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap() || !root["nodes"] || !root["nodes"].IsSequence()) {
    return InvalidArgument(path +
                           ":1: an address book is `nodes:` with one {name, host, port} "
                           "per node (hearsay launch writes it)");
  }
  HEARSAY_RETURN_IF_ERROR(ctx.CheckDuplicateKeys(root));
  HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(root, "address book", {"nodes"}));
  const YAML::Node nodes = root["nodes"];
  if (static_cast<int>(nodes.size()) != spec.size()) {
    return ctx.Error(nodes, "the address book has " + std::to_string(nodes.size()) +
                                " nodes; the topology " + spec.source + " has " +
                                std::to_string(spec.size()));
  }
  auto out = std::make_shared<TopologySpec>(spec);
  for (int i = 0; i < spec.size(); ++i) {
    const YAML::Node e = nodes[i];
    const std::string what = "nodes[" + std::to_string(i) + "]";
    if (!e.IsMap()) return ctx.Error(e, what + ": expected {name, host, port}");
    HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(e, what, {"name", "host", "port"}));
    NodeSpec& node = out->nodes[i];
    if (e["name"]) {
      std::string name;
      HEARSAY_RETURN_IF_ERROR(ctx.GetString(e["name"], what + ".name", &name));
      if (name != node.name) {
        return ctx.Error(e["name"], what + ": '" + name + "' but node " + std::to_string(i) +
                                        " of " + spec.source + " is '" + node.name +
                                        "' (a book of another topology?)");
      }
    }
    if (!e["host"] || !e["port"]) return ctx.Error(e, what + ": needs host and port");
    HEARSAY_RETURN_IF_ERROR(ctx.GetString(e["host"], what + ".host", &node.host));
    int64_t port = 0;
    HEARSAY_RETURN_IF_ERROR(ctx.GetIntIn(e["port"], what + ".port", 1, 65535, &port));
    node.port = static_cast<uint16_t>(port);
  }
  return std::shared_ptr<const TopologySpec>(std::move(out));
}

PortReservation::PortReservation(PortReservation&& other) noexcept : fds_(std::move(other.fds_)) {
  other.fds_.clear();
}

PortReservation& PortReservation::operator=(PortReservation&& other) noexcept {
  if (this != &other) {
    for (int fd : fds_) close(fd);
    fds_ = std::move(other.fds_);
    other.fds_.clear();
  }
  return *this;
}

PortReservation::~PortReservation() {
  for (int fd : fds_) close(fd);
}

Result<PortReservation> PortReservation::Reserve(TopologySpec* spec) {
  PortReservation r;
  for (NodeSpec& node : spec->nodes) {
    if (node.port != 0) continue;
    if (node.bind_port != 0) {
      return InvalidArgument(spec->source + ": node " + node.name +
                             " binds a fixed port but advertises base_port: auto; give it a port");
    }
    const std::string& host = node.bind_host.empty() ? node.host : node.bind_host;
    uint16_t port = 0;
    auto fd = BindFreePort(host, &port);
    if (!fd.ok()) {
      return Unavailable(spec->source + ": node " + node.name +
                         " (base_port: auto): " + fd.status().message() +
                         "; auto ports are chosen on the launching machine, so its host must be "
                         "an address of this machine");
    }
    r.fds_.push_back(*fd);
    node.port = port;
  }
  return r;
}

}  // namespace hearsay
