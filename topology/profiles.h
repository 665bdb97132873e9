// Network profiles: named link presets that topology files use instead of numbers
// (`links: {profile: wan-3-continents}`, or `profile: datacenter` in a `default:`, an override or
// an event). The presets are the files in profiles/ (docs/profiles.md), compiled into the
// library at build time, so any hearsay binary knows them wherever it runs from.
//
// A profile has `link:` (bandwidth / latency / jitter / loss of each link), and may have
// `nodes:` (egress / ingress capacity of every node: asymmetric home lines) and `regions:` with
// `between:` (a latency matrix between groups of nodes); those two apply only where the profile
// is the whole file's (`links: {profile: ...}`).
// Thread-safety: pure functions over compiled-in text.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "topology/topology_spec.h"

namespace hearsay {

struct LinkProfile {
  std::string name;
  std::string description;
  LinkEvent link;  // the fields the profile sets for each link (the rest keep their values)
  std::optional<double> egress_bps, ingress_bps;  // `nodes:`
  std::vector<std::string> regions;               // `regions:`, in order
  struct Between {
    int a = 0, b = 0;  // indices into regions (both directions)
    LinkEvent link;
  };
  std::vector<Between> between;
};

// The names of the compiled-in profiles, sorted.
std::vector<std::string> BuiltinProfileNames();

// The compiled-in profile `name`; NotFound for an unknown name. A profile file that does not
// parse is InvalidArgument naming "profiles/NAME.yaml:line:col" (a build-time mistake; the
// topology tests parse every profile).
Result<LinkProfile> LoadBuiltinProfile(const std::string& name);

// The region of each of n nodes under `profile` (which has regions): the topology's groups named
// after the regions when it has them (all of them, disjoint, covering every node), else
// contiguous blocks of ids in region order (node i -> region i * R / n).
Result<std::vector<int>> ProfileRegions(const LinkProfile& profile, int n,
                                        const std::map<std::string, std::vector<int>>& groups);

}  // namespace hearsay
