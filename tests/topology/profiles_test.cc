// Network profiles (profiles/*.yaml, compiled in): every shipped profile parses, each form of use
// in a topology file (whole file, default, override, event) applies it under the explicit keys,
// and a misspelt name is a one-line error with file:line and a suggestion.
#include "topology/profiles.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "test_util.h"

namespace hearsay {
namespace {

using testing::ErrorOf;
using testing::Parse;

TEST(Profiles, EveryShippedProfileIsCompiledInAndParses) {
  const std::vector<std::string> names = BuiltinProfileNames();
  EXPECT_EQ(names, (std::vector<std::string>{"cross-continent", "datacenter", "home-broadband",
                                             "wan-3-continents"}));
  // The compiled-in set is the folder's: a profile added to profiles/ without a re-configure,
  // or a stale build, shows here.
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(testing::SourceDir() + "/profiles")) {
    files += e.path().extension() == ".yaml";
  }
  EXPECT_EQ(files, names.size());
  for (const std::string& name : names) {
    auto p = LoadBuiltinProfile(name);
    ASSERT_TRUE(p.ok()) << p.status().message();
    EXPECT_FALSE(p->description.empty()) << name;
    EXPECT_TRUE(p->link.bandwidth_bps.has_value()) << name;
    EXPECT_TRUE(p->link.latency_s.has_value()) << name;
  }
  auto dc = LoadBuiltinProfile("datacenter");
  EXPECT_EQ(*dc->link.bandwidth_bps, 10e9);
  EXPECT_DOUBLE_EQ(*dc->link.latency_s, 1e-4);
  auto cc = LoadBuiltinProfile("cross-continent");
  EXPECT_EQ(*cc->link.bandwidth_bps, 200e6);
  EXPECT_DOUBLE_EQ(*cc->link.latency_s, 0.08);
  EXPECT_DOUBLE_EQ(*cc->link.latency_s + *cc->link.jitter_s, 0.15);
  EXPECT_DOUBLE_EQ(*cc->link.loss, 0.001);
  EXPECT_EQ(LoadBuiltinProfile("nope").status().code(), StatusCode::kNotFound);
}

TEST(Profiles, WholeFileProfileSetsLinksAndNodeCapacitiesUnderExplicitKeys) {
  auto spec = Parse(R"(
nodes:
  - a
  - {name: b, egress: 2Mbit}
  - c
  - d
generator: {kind: ring}
links:
  profile: home-broadband
  default: {latency: 30ms}
)");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->LinkAt(0, 1, 0).bandwidth_bps, 10e6);     // the profile's
  EXPECT_DOUBLE_EQ(spec->LinkAt(0, 1, 0).latency_s, 0.03);  // the file's default wins
  EXPECT_EQ(spec->nodes[0].egress_bps, 10e6);
  EXPECT_EQ(spec->nodes[0].ingress_bps, 50e6);
  EXPECT_EQ(spec->nodes[1].egress_bps, 2e6);  // the node's own capacity wins
}

TEST(Profiles, ProfileInADefaultAnOverrideAndAnEvent) {
  auto spec = Parse(R"(
nodes: 4
generator: {kind: ring}
links:
  default: {profile: datacenter}
  overrides:
    - {between: [0, 1], profile: cross-continent, loss: 0}
events:
  - {round: 3, between: [2, 3], profile: home-broadband}
)");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->LinkAt(1, 2, 0).bandwidth_bps, 10e9);
  EXPECT_EQ(spec->LinkAt(0, 1, 0).bandwidth_bps, 200e6);
  EXPECT_DOUBLE_EQ(spec->LinkAt(1, 0, 0).jitter_s, 0.07);
  EXPECT_EQ(spec->LinkAt(0, 1, 0).loss, 0);  // explicit over the profile's 0.1%
  EXPECT_EQ(spec->LinkAt(2, 3, 0, 2).bandwidth_bps, 10e9);
  EXPECT_EQ(spec->LinkAt(2, 3, 0, 3).bandwidth_bps, 10e6);
  EXPECT_DOUBLE_EQ(spec->LinkAt(3, 2, 0, 3).latency_s, 0.02);
}

TEST(Profiles, RegionMatrixByGroupsOrByBlocksOfIds) {
  // No region groups: 6 nodes in blocks, 0-1 us, 2-3 eu, 4-5 asia.
  auto spec = Parse("nodes: 6\ngenerator: {kind: complete}\nlinks: {profile: wan-3-continents}\n");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_DOUBLE_EQ(spec->LinkAt(0, 1, 0).latency_s, 0.0005);
  EXPECT_DOUBLE_EQ(spec->LinkAt(1, 2, 0).latency_s, 0.042);
  EXPECT_DOUBLE_EQ(spec->LinkAt(2, 1, 0).latency_s, 0.042);
  EXPECT_DOUBLE_EQ(spec->LinkAt(3, 4, 0).latency_s, 0.085);
  EXPECT_DOUBLE_EQ(spec->LinkAt(5, 0, 0).latency_s, 0.112);
  EXPECT_EQ(spec->LinkAt(5, 0, 0).bandwidth_bps, 1e9);
  EXPECT_EQ(spec->LinkAt(4, 5, 0).bandwidth_bps, 10e9);
  // Groups place the nodes; an explicit override still wins.
  spec = Parse(R"(
nodes: 4
generator: {kind: complete}
groups: {us: [0, 3], eu: [1], asia: [2]}
links:
  profile: wan-3-continents
  overrides:
    - {between: [0, 2], latency: 200ms}
)");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_DOUBLE_EQ(spec->LinkAt(0, 3, 0).latency_s, 0.0005);
  EXPECT_DOUBLE_EQ(spec->LinkAt(3, 1, 0).latency_s, 0.042);
  EXPECT_DOUBLE_EQ(spec->LinkAt(1, 2, 0).latency_s, 0.085);
  EXPECT_DOUBLE_EQ(spec->LinkAt(3, 2, 0).latency_s, 0.112);
  EXPECT_DOUBLE_EQ(spec->LinkAt(2, 0, 0).latency_s, 0.2);
}

TEST(Profiles, BadUsesAreOneLineErrorsWithFileAndLine) {
  struct Case {
    const char* yaml;
    std::vector<const char*> expect;
  };
  const Case cases[] = {
      {"nodes: 4\ngenerator: {kind: ring}\nlinks: {profile: wan-3-continent}\n",
       {"t.yaml:3:18:", "'wan-3-continent' is unknown", "did you mean 'wan-3-continents'"}},
      {"nodes: 4\ngenerator: {kind: ring}\nlinks:\n  default: {profile: datacentre}\n",
       {"t.yaml:4:22:", "'datacentre'", "did you mean 'datacenter'"}},
      {"nodes: 4\ngenerator: {kind: ring}\nlinks:\n  overrides:\n"
       "    - {between: [0, 1], profile: wan-3-continents}\n",
       {"t.yaml:5:34:", "wan-3-continents is a matrix between regions",
        "`links: {profile: wan-3-continents}`"}},
      {"nodes: 4\ngenerator: {kind: ring}\ngroups: {us: [0, 1], eu: [2, 3]}\n"
       "links: {profile: wan-3-continents}\n",
       {"t.yaml:4:18:", "places nodes by the groups us, eu, asia; this file lacks asia"}},
      {"nodes: 4\ngenerator: {kind: ring}\ngroups: {us: [0, 1], eu: [1, 2], asia: [3]}\n"
       "links: {profile: wan-3-continents}\n",
       {"t.yaml:4:18:", "node 1 is in groups us and eu"}},
      {"nodes: 4\ngenerator: {kind: ring}\ngroups: {us: [0], eu: [2], asia: [3]}\n"
       "links: {profile: wan-3-continents}\n",
       {"t.yaml:4:18:", "node 1 is in none of the groups us, eu, asia"}},
      {"nodes: 4\ngenerator: {kind: ring}\nlinks: {profile: [datacenter]}\n", {"t.yaml:3:"}},
  };
  for (const Case& c : cases) {
    const std::string err = ErrorOf(c.yaml);
    ASSERT_FALSE(err.empty()) << c.yaml;
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
    for (const char* want : c.expect) {
      EXPECT_NE(err.find(want), std::string::npos) << "missing '" << want << "' in: " << err;
    }
  }
}

}  // namespace
}  // namespace hearsay
