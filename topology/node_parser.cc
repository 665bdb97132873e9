// The topology file's `nodes:` and `groups:` (docs/topology_format.md "Nodes", "Groups"); the
// graph is read by topology_parser.cc, links by link_parser.cc.
#include "topology/node_parser.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <vector>

namespace hearsay::topology_internal {
namespace {

constexpr int kDefaultBasePort = 17100;

// `slowdown: F`: a straggler factor, finite and >= 1 (1 = full speed).
Status GetSlowdown(const YamlContext& ctx, const YAML::Node& node, const std::string& what,
                   double* out) {
  HEARSAY_RETURN_IF_ERROR(ctx.GetDouble(node, what + ".slowdown", out));
  if (*out < 1) {
    return ctx.Error(node, what + ".slowdown = " + node.Scalar() +
                               "; a slowdown factor must be >= 1 (1 = full speed, 4 = four "
                               "times slower)");
  }
  return Status::Ok();
}

// `bind: HOST`, `HOST:PORT`, `[IPV6]:PORT` or a bare IPv6 address (more than one colon): where a
// node listens when that is not its advertised host:port.
Status GetBind(const YamlContext& ctx, const YAML::Node& node, const std::string& what,
               std::string* host, uint16_t* port) {
  std::string text;
  HEARSAY_RETURN_IF_ERROR(ctx.GetString(node, what, &text));
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || (close + 1 < text.size() && text[close + 1] != ':')) {
      return ctx.Error(node, what + " '" + text + "': expected [IPV6] or [IPV6]:PORT");
    }
    *host = text.substr(1, close - 1);
    if (close + 1 < text.size()) port_text = text.substr(close + 2);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    *host = text.substr(0, text.find(':'));
    port_text = text.substr(text.find(':') + 1);
  } else {
    *host = text;
  }
  if (host->empty()) {
    return ctx.Error(node, what + " '" + text + "': no host (0.0.0.0 listens on every interface)");
  }
  *port = 0;
  if (!port_text.empty() || (text.size() > 0 && text.back() == ':')) {
    int p = 0;
    const auto [ptr, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
    if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
        p < 1 || p > 65535) {
      return ctx.Error(node, what + " '" + text + "': the port is not a TCP port (1..65535)");
    }
    *port = static_cast<uint16_t>(p);
  }
  return Status::Ok();
}

}  // namespace

Status ParseNodes(YamlContext& ctx, const YAML::Node& root, TopologySpec* spec) {
  std::string host = "127.0.0.1";
  int64_t base_port = kDefaultBasePort;
  // `base_port: auto`: ports are chosen when the run is launched (port 0 until then).
  bool auto_ports = false;
  if (root["host"]) HEARSAY_RETURN_IF_ERROR(ctx.GetString(root["host"], "host", &host));
  if (root["base_port"]) {
    if (root["base_port"].IsScalar() && root["base_port"].Scalar() == "auto") {
      auto_ports = true;
    } else {
      HEARSAY_RETURN_IF_ERROR(ctx.GetInt(root["base_port"], "base_port", &base_port));
      if (base_port < 1 || base_port > 65535) {
        return ctx.Error(root["base_port"], "base_port " + std::to_string(base_port) +
                                                " is not a TCP port (1..65535) or auto");
      }
    }
  }
  std::string bind_host;
  if (root["bind"]) {
    uint16_t bind_port = 0;
    HEARSAY_RETURN_IF_ERROR(GetBind(ctx, root["bind"], "bind", &bind_host, &bind_port));
    if (bind_port != 0) {
      return ctx.Error(root["bind"],
                       "bind: give a host here (0.0.0.0); a port can only be bound per node "
                       "(nodes[i].bind: HOST:PORT)");
    }
  }
  const YAML::Node nodes = root["nodes"];
  int64_t count = ctx.n;  // inferred (matrix / edge list) when `nodes` is absent
  if (nodes && nodes.IsScalar()) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetInt(nodes, "nodes", &count));
    if (count < 1 || count > kMaxNodes) {
      return ctx.Error(nodes, "nodes: " + std::to_string(count) +
                                  " nodes; give a count from 1 to " + std::to_string(kMaxNodes) +
                                  " or a list of nodes");
    }
  } else if (nodes && nodes.IsSequence()) {
    count = static_cast<int64_t>(nodes.size());
    if (count < 1) return ctx.Error(nodes, "nodes: the list is empty");
  } else if (nodes) {
    return ctx.Error(nodes,
                     "nodes: expected a count (8) or a list of {name, host, port, egress, "
                     "ingress, slowdown}");
  }
  spec->nodes.assign(count, NodeSpec{});
  for (int64_t i = 0; i < count; ++i) {
    NodeSpec& node = spec->nodes[i];
    node.name = "n" + std::to_string(i);
    node.host = host;
    node.bind_host = bind_host;
    const int64_t port = auto_ports ? 0 : base_port + i;
    node.port = static_cast<uint16_t>(port);
    if (nodes && nodes.IsSequence()) {
      const YAML::Node e = nodes[i];
      const std::string what = "nodes[" + std::to_string(i) + "]";
      if (e.IsScalar()) {
        node.name = e.Scalar();
      } else {
        HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(
            e, what, {"name", "host", "port", "bind", "egress", "ingress", "slowdown"}));
        if (e["name"])
          HEARSAY_RETURN_IF_ERROR(ctx.GetString(e["name"], what + ".name", &node.name));
        if (e["host"])
          HEARSAY_RETURN_IF_ERROR(ctx.GetString(e["host"], what + ".host", &node.host));
        if (e["port"]) {
          int64_t p = 0;
          HEARSAY_RETURN_IF_ERROR(ctx.GetInt(e["port"], what + ".port", &p));
          if (p < 1 || p > 65535)
            return ctx.Error(e["port"],
                             what + ".port " + std::to_string(p) + " is not a TCP port (1..65535)");
          node.port = static_cast<uint16_t>(p);
        } else if (port > 65535) {
          return ctx.Error(e, what + ": base_port + " + std::to_string(i) +
                                  " runs past port 65535; give a port");
        }
        if (e["bind"]) {
          HEARSAY_RETURN_IF_ERROR(
              GetBind(ctx, e["bind"], what + ".bind", &node.bind_host, &node.bind_port));
        }
        if (e["egress"]) {
          HEARSAY_RETURN_IF_ERROR(
              ctx.GetBandwidth(e["egress"], what + ".egress", &node.egress_bps));
        }
        if (e["ingress"]) {
          HEARSAY_RETURN_IF_ERROR(
              ctx.GetBandwidth(e["ingress"], what + ".ingress", &node.ingress_bps));
        }
        if (e["slowdown"]) {
          HEARSAY_RETURN_IF_ERROR(GetSlowdown(ctx, e["slowdown"], what, &node.slowdown));
        }
        continue;
      }
    }
    if (port > 65535) {
      return ctx.Error(root["base_port"] ? root["base_port"] : root,
                       "base_port + " + std::to_string(i) + " runs past port 65535");
    }
  }
  ctx.n = static_cast<int>(count);
  std::vector<std::string> names;
  names.reserve(spec->nodes.size());
  for (const NodeSpec& node : spec->nodes) names.push_back(node.name);
  if (int i = 0; !ctx.SetNodeNames(std::move(names), &i)) {
    return ctx.Error(nodes[i], "nodes[" + std::to_string(i) + "]: name '" + spec->nodes[i].name +
                                   "' is used twice; node names must be unique");
  }
  // Two nodes may not listen on the same host:port.
  std::map<std::pair<std::string, int>, int> seen;
  for (int i = 0; i < ctx.n; ++i) {
    if (spec->nodes[i].port == 0) continue;  // chosen at launch, distinct then
    auto [it, fresh] = seen.insert({{spec->nodes[i].host, spec->nodes[i].port}, i});
    if (!fresh) {
      return ctx.Error(nodes ? nodes : root,
                       "nodes " + std::to_string(it->second) + " and " + std::to_string(i) +
                           " both use " + spec->nodes[i].host + ":" +
                           std::to_string(spec->nodes[i].port) + "; every node needs its own port");
    }
  }
  return Status::Ok();
}

Status ParseGroups(YamlContext& ctx, const YAML::Node& root, TopologySpec* spec) {
  const YAML::Node groups = root["groups"];
  if (!groups) return Status::Ok();
  if (!groups.IsMap()) return ctx.Error(groups, "groups: expected `name: [nodes...]` entries");
  for (const auto& kv : groups) {
    std::string name;
    HEARSAY_RETURN_IF_ERROR(ctx.GetString(kv.first, "group name", &name));
    if (ctx.node_ids.count(name) > 0) {
      return ctx.Error(kv.first, "group '" + name + "' has the name of a node; pick another name");
    }
    const std::string what = "groups." + name;
    std::vector<int> ids;
    double egress = -1, ingress = -1, slowdown = -1;
    if (kv.second.IsMap()) {
      HEARSAY_RETURN_IF_ERROR(
          ctx.CheckKeys(kv.second, what, {"nodes", "egress", "ingress", "slowdown"}));
      if (!kv.second["nodes"]) return ctx.Error(kv.second, what + ": missing `nodes:`");
      HEARSAY_RETURN_IF_ERROR(ctx.GetNodeSet(kv.second["nodes"], what, &ids));
      if (kv.second["egress"]) {
        HEARSAY_RETURN_IF_ERROR(ctx.GetBandwidth(kv.second["egress"], what + ".egress", &egress));
      }
      if (kv.second["ingress"]) {
        HEARSAY_RETURN_IF_ERROR(
            ctx.GetBandwidth(kv.second["ingress"], what + ".ingress", &ingress));
      }
      if (kv.second["slowdown"]) {
        HEARSAY_RETURN_IF_ERROR(GetSlowdown(ctx, kv.second["slowdown"], what, &slowdown));
      }
    } else {
      HEARSAY_RETURN_IF_ERROR(ctx.GetNodeSet(kv.second, what, &ids));
    }
    for (int i : ids) {
      if (egress >= 0) spec->nodes[i].egress_bps = egress;
      if (ingress >= 0) spec->nodes[i].ingress_bps = ingress;
      if (slowdown >= 1) spec->nodes[i].slowdown = slowdown;
    }
    ctx.groups[name] = ids;
    spec->groups[name] = ids;
  }
  return Status::Ok();
}

}  // namespace hearsay::topology_internal
