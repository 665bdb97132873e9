#include "topology/profiles.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstddef>
#include <utility>

#include "topology/link_parser.h"
#include "topology/yaml_context.h"

namespace hearsay {
namespace topology_internal {
// Generated at configure time from profiles/*.yaml (topology/CMakeLists.txt): {name, text}.
extern const std::pair<const char*, const char*> kBuiltinProfiles[];
extern const std::size_t kNumBuiltinProfiles;
}  // namespace topology_internal

namespace {

using topology_internal::kBuiltinProfiles;
using topology_internal::kNumBuiltinProfiles;

Status ParseProfile(const YamlContext& ctx, const YAML::Node& root, LinkProfile* p) {
  if (!root.IsMap()) return ctx.Error(root, "a profile is a map with `link:`");
  HEARSAY_RETURN_IF_ERROR(
      ctx.CheckKeys(root, "profile", {"description", "link", "nodes", "regions", "between"}));
  if (root["description"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.GetString(root["description"], "description", &p->description));
  }
  const YAML::Node link = root["link"];
  if (!link || !link.IsMap()) return ctx.Error(root, "a profile needs `link: {bandwidth, ...}`");
  HEARSAY_RETURN_IF_ERROR(
      ctx.CheckKeys(link, "link", {"bandwidth", "rate", "latency", "delay", "jitter", "loss"}));
  HEARSAY_RETURN_IF_ERROR(topology_internal::ParseChange(ctx, link, "link", &p->link));
  if (const YAML::Node nodes = root["nodes"]) {
    HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(nodes, "nodes", {"egress", "ingress"}));
    double v = 0;
    if (nodes["egress"]) {
      HEARSAY_RETURN_IF_ERROR(ctx.GetBandwidth(nodes["egress"], "nodes.egress", &v));
      p->egress_bps = v;
    }
    if (nodes["ingress"]) {
      HEARSAY_RETURN_IF_ERROR(ctx.GetBandwidth(nodes["ingress"], "nodes.ingress", &v));
      p->ingress_bps = v;
    }
  }
  if (const YAML::Node regions = root["regions"]) {
    if (!regions.IsSequence() || regions.size() < 2) {
      return ctx.Error(regions, "regions: a list of at least two names");
    }
    for (const auto& r : regions) {
      std::string name;
      HEARSAY_RETURN_IF_ERROR(ctx.GetString(r, "regions[]", &name));
      p->regions.push_back(name);
    }
  }
  if (const YAML::Node between = root["between"]) {
    if (p->regions.empty()) return ctx.Error(between, "between: needs `regions:`");
    if (!between.IsSequence()) return ctx.Error(between, "between: a list of entries");
    for (size_t k = 0; k < between.size(); ++k) {
      const std::string what = "between[" + std::to_string(k) + "]";
      const YAML::Node e = between[k];
      HEARSAY_RETURN_IF_ERROR(ctx.CheckKeys(
          e, what, {"regions", "bandwidth", "rate", "latency", "delay", "jitter", "loss"}));
      const YAML::Node pair = e["regions"];
      if (!pair || !pair.IsSequence() || pair.size() != 2) {
        return ctx.Error(e, what + ": needs `regions: [A, B]`");
      }
      LinkProfile::Between b;
      HEARSAY_RETURN_IF_ERROR(ctx.GetEnum(pair[0], what + ".regions", p->regions, &b.a));
      HEARSAY_RETURN_IF_ERROR(ctx.GetEnum(pair[1], what + ".regions", p->regions, &b.b));
      HEARSAY_RETURN_IF_ERROR(topology_internal::ParseChange(ctx, e, what, &b.link));
      p->between.push_back(b);
    }
  }
  return Status::Ok();
}

}  // namespace

std::vector<std::string> BuiltinProfileNames() {
  std::vector<std::string> names;
  for (std::size_t k = 0; k < kNumBuiltinProfiles; ++k) names.push_back(kBuiltinProfiles[k].first);
  std::sort(names.begin(), names.end());
  return names;
}

Result<LinkProfile> LoadBuiltinProfile(const std::string& name) {
  for (std::size_t k = 0; k < kNumBuiltinProfiles; ++k) {
    if (name != kBuiltinProfiles[k].first) continue;
    YamlContext ctx;
    ctx.source = "profiles/" + name + ".yaml";
    YAML::Node root;
    try {
      root = YAML::Load(kBuiltinProfiles[k].second);
    } catch (const YAML::Exception& e) {
      return InvalidArgument(ctx.source + ":" + std::to_string(e.mark.line + 1) +
                             ": malformed YAML: " + e.msg);
    }
    LinkProfile p;
    p.name = name;
    HEARSAY_RETURN_IF_ERROR(ParseProfile(ctx, root, &p));
    return p;
  }
  return NotFound("no network profile named '" + name + "'");
}

Result<std::vector<int>> ProfileRegions(const LinkProfile& profile, int n,
                                        const std::map<std::string, std::vector<int>>& groups) {
  const int r = static_cast<int>(profile.regions.size());
  std::vector<int> region(static_cast<size_t>(n), -1);
  std::vector<std::string> missing;
  int named = 0;
  for (int k = 0; k < r; ++k) {
    auto it = groups.find(profile.regions[static_cast<size_t>(k)]);
    if (it == groups.end()) {
      missing.push_back(profile.regions[static_cast<size_t>(k)]);
      continue;
    }
    ++named;
    for (int id : it->second) {
      if (region[static_cast<size_t>(id)] >= 0) {
        return InvalidArgument("node " + std::to_string(id) + " is in groups " +
                               profile.regions[static_cast<size_t>(region[id])] + " and " +
                               it->first + "; profile " + profile.name +
                               " needs each node in one region");
      }
      region[static_cast<size_t>(id)] = k;
    }
  }
  if (named == 0) {
    for (int i = 0; i < n; ++i) {
      region[static_cast<size_t>(i)] = static_cast<int>(static_cast<int64_t>(i) * r / n);
    }
    return region;
  }
  std::string all;
  for (const auto& name : profile.regions) all += (all.empty() ? "" : ", ") + name;
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return InvalidArgument("profile " + profile.name + " places nodes by the groups " + all +
                           "; this file lacks " + list +
                           " (define them all, or none for contiguous blocks of ids)");
  }
  for (int i = 0; i < n; ++i) {
    if (region[static_cast<size_t>(i)] < 0) {
      return InvalidArgument("node " + std::to_string(i) + " is in none of the groups " + all +
                             " that profile " + profile.name + " places nodes by");
    }
  }
  return region;
}

}  // namespace hearsay
