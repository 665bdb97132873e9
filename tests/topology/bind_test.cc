// `bind:` (where a node listens, apart from the host:port it advertises) and `base_port: auto`
// (ports chosen at launch): parsing, errors with file:line, and writing them back.
#include <gtest/gtest.h>

#include "test_util.h"
#include "topology/topology_spec.h"
#include "topology/writers.h"

namespace hearsay {
namespace {

using testing::ErrorOf;
using testing::Parse;

TEST(Bind, TopLevelBindAppliesToEveryNode) {
  auto spec = Parse("nodes: 3\nhost: 10.0.0.5\nbind: 0.0.0.0\ngenerator: {kind: ring}\n");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  for (const NodeSpec& n : spec->nodes) {
    EXPECT_EQ(n.host, "10.0.0.5");
    EXPECT_EQ(n.bind_host, "0.0.0.0");
    EXPECT_EQ(n.bind_port, 0);
  }
  EXPECT_EQ(spec->nodes[2].port, 17100 + 2);  // the default base_port
}

TEST(Bind, PerNodeBindWithPortAndIpv6) {
  auto spec = Parse(R"(
nodes:
  - {host: 203.0.113.7, port: 443, bind: "0.0.0.0:17100"}
  - {host: 203.0.113.8, port: 443, bind: "[::]:17101"}
  - {host: 203.0.113.9, port: 443, bind: "::1"}
generator: {kind: ring}
)");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->nodes[0].bind_host, "0.0.0.0");
  EXPECT_EQ(spec->nodes[0].bind_port, 17100);
  EXPECT_EQ(spec->nodes[1].bind_host, "::");
  EXPECT_EQ(spec->nodes[1].bind_port, 17101);
  EXPECT_EQ(spec->nodes[2].bind_host, "::1");
  EXPECT_EQ(spec->nodes[2].bind_port, 0);
  EXPECT_EQ(spec->nodes[2].port, 443);  // advertised, unchanged
}

TEST(Bind, BadBindsNameTheLine) {
  EXPECT_EQ(ErrorOf("nodes:\n  - {bind: \"h:99999\"}\n  - {}\ngenerator: {kind: ring}\n"),
            "t.yaml:2:12: nodes[0].bind 'h:99999': the port is not a TCP port (1..65535)");
  EXPECT_NE(ErrorOf("nodes: 2\nbind: \"0.0.0.0:5\"\ngenerator: {kind: ring}\n")
                .find("t.yaml:2:7: bind: give a host here"),
            std::string::npos);
  EXPECT_NE(ErrorOf("nodes: 2\nbind: \"[::1\"\ngenerator: {kind: ring}\n").find("expected [IPV6]"),
            std::string::npos);
  EXPECT_NE(ErrorOf("nodes: 2\nbind: \":80\"\ngenerator: {kind: ring}\n").find("no host"),
            std::string::npos);
}

TEST(BasePortAuto, PortsAreLeftToTheLauncher) {
  auto spec = Parse("nodes: 4\nbase_port: auto\ngenerator: {kind: ring}\n");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  for (const NodeSpec& n : spec->nodes) EXPECT_EQ(n.port, 0);
  EXPECT_NE(ErrorOf("nodes: 2\nbase_port: automatic\ngenerator: {kind: ring}\n").find("t.yaml:2"),
            std::string::npos);
}

TEST(BasePortAuto, WritesBackAndReadsTheSame) {
  for (const char* text : {"nodes: 4\nbase_port: auto\nbind: 0.0.0.0\ngenerator: {kind: ring}\n",
                           "nodes:\n  - {port: 5000, bind: \"[::]:6000\"}\n  - {bind: \"::1\"}\n"
                           "base_port: auto\ngenerator: {kind: ring}\n"}) {
    auto spec = Parse(text);
    ASSERT_TRUE(spec.ok()) << spec.status().message();
    const std::string yaml = WriteTopologyYaml(*spec);
    auto again = Parse(yaml, "again.yaml");
    ASSERT_TRUE(again.ok()) << again.status().message() << "\n" << yaml;
    ASSERT_EQ(again->size(), spec->size());
    for (int i = 0; i < spec->size(); ++i) {
      EXPECT_EQ(again->nodes[i].port, spec->nodes[i].port) << yaml;
      EXPECT_EQ(again->nodes[i].bind_host, spec->nodes[i].bind_host) << yaml;
      EXPECT_EQ(again->nodes[i].bind_port, spec->nodes[i].bind_port) << yaml;
    }
  }
}

}  // namespace
}  // namespace hearsay
