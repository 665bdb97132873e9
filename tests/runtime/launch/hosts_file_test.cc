// Hosts files for `launch --hosts`: the accepted forms, placement in id order, and errors that
// name file:line.
#include "runtime/launch/hosts_file.h"

#include <gtest/gtest.h>

namespace hearsay {
namespace {

TEST(HostsFile, ParsesHostsSlotsUsersAndComments) {
  auto f = ParseHostsFile(
      "# cluster\n\ngpu-1 slots=2   # first\nalice@10.0.0.7\n  [fe80::1%eth0] slots=3\n", "h.txt");
  ASSERT_TRUE(f.ok()) << f.status().message();
  ASSERT_EQ(f->hosts.size(), 3u);
  EXPECT_EQ(f->hosts[0].destination, "gpu-1");
  EXPECT_EQ(f->hosts[0].host, "gpu-1");
  EXPECT_EQ(f->hosts[0].slots, 2);
  EXPECT_EQ(f->hosts[0].line, 3);
  EXPECT_EQ(f->hosts[1].destination, "alice@10.0.0.7");
  EXPECT_EQ(f->hosts[1].host, "10.0.0.7");
  EXPECT_EQ(f->hosts[1].slots, 1);
  EXPECT_EQ(f->hosts[2].host, "fe80::1%eth0");
  EXPECT_EQ(f->hosts[2].slots, 3);
}

TEST(HostsFile, PlacesPeersInIdOrder) {
  auto f = ParseHostsFile("a slots=2\nb slots=3\n", "h.txt");
  ASSERT_TRUE(f.ok());
  auto p = f->Place(4);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<int>{0, 0, 1, 1}));
  auto few = f->Place(6);
  ASSERT_FALSE(few.ok());
  EXPECT_EQ(few.status().message(),
            "h.txt: 5 slots for 6 peers; give the hosts more slots (host slots=N)");
}

TEST(HostsFile, ErrorsNameTheLine) {
  EXPECT_EQ(ParseHostsFile("a\nb slot=2\n", "h.txt").status().message(),
            "h.txt:2: unknown field 'slot=2'; did you mean 'slots'? (a line is: host [slots=N])");
  EXPECT_EQ(ParseHostsFile("a slots=0\n", "h.txt").status().message(),
            "h.txt:1: slots=0 is not a peer count (1..65536)");
  EXPECT_EQ(ParseHostsFile("a\n#\nb\na slots=2\n", "h.txt").status().message(),
            "h.txt:4: a is listed twice (first on line 1); give it slots=N once");
  EXPECT_EQ(ParseHostsFile("a;rm -rf /\n", "h.txt").status().message(),
            "h.txt:1: 'a;rm' is not a host name or address ([user@]host)");
  EXPECT_EQ(ParseHostsFile("-oProxyCommand=x\n", "h.txt").status().message(),
            "h.txt:1: '-oProxyCommand=x' is not a host name or address ([user@]host)");
  EXPECT_EQ(ParseHostsFile("# nothing\n", "h.txt").status().message(),
            "h.txt: no hosts (one `host slots=N` a line)");
  EXPECT_EQ(LoadHostsFile("/nonexistent/h.txt").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace hearsay
