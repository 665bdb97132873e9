// Address books (base_port: auto) and port reservations: a book round-trips, a bad book names
// path:line, reserved ports are distinct, a second reservation never picks a held port, and the
// peer that owns a reserved port can still listen on it while nobody else can.
#include "runtime/launch/addresses.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "topology/topology_spec.h"

namespace hearsay {
namespace {

namespace fs = std::filesystem;

TopologySpec AutoRing(int n) {
  auto spec = ParseTopology(
      "nodes: " + std::to_string(n) + "\nbase_port: auto\ngenerator: {kind: ring}\n", "ring.yaml");
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  return std::move(spec).value();
}

std::string TempFile(const std::string& name) {
  return (fs::temp_directory_path() / (name + "_" + std::to_string(getpid()))).string();
}

// Binds and listens on 127.0.0.1:port the way the TCP transport does (SO_REUSEADDR).
int Listen(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(fd, 4) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(AddressBook, RoundTrips) {
  TopologySpec spec = AutoRing(3);
  for (int i = 0; i < 3; ++i) spec.nodes[i].port = static_cast<uint16_t>(40000 + i);
  spec.nodes[1].host = "10.0.0.2";
  const std::string path = TempFile("book.yaml");
  ASSERT_TRUE(WriteAddressBook(path, spec, "r").ok());
  auto applied = ApplyAddressBook(path, AutoRing(3));
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*applied)->nodes[i].port, 40000 + i);
    EXPECT_EQ((*applied)->nodes[i].host, spec.nodes[i].host);
  }
  fs::remove(path);
}

TEST(AddressBook, BadBooksNameTheLine) {
  const std::string path = TempFile("bad_book.yaml");
  std::ofstream(path) << "nodes:\n  - {name: n0, host: a, port: 1}\n  - {name: n1, host: a, "
                         "port: 70000}\n  - {name: n2, host: a, port: 3}\n";
  auto r = ApplyAddressBook(path, AutoRing(3));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind(path + ":3:", 0), 0u) << r.status().message();
  std::ofstream(path) << "nodes:\n  - {name: n0, host: a, port: 1}\n";
  r = ApplyAddressBook(path, AutoRing(3));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("has 1 nodes; the topology ring.yaml has 3"),
            std::string::npos);
  std::ofstream(path) << "nodes:\n  - {name: x, host: a, port: 1}\n  - {name: n1, host: a, "
                         "port: 2}\n";
  r = ApplyAddressBook(path, AutoRing(2));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("a book of another topology?"), std::string::npos);
  fs::remove(path);
}

TEST(PortReservation, DistinctPortsNeverHandedOutTwice) {
  TopologySpec a = AutoRing(6), b = AutoRing(6);
  auto ra = PortReservation::Reserve(&a);
  ASSERT_TRUE(ra.ok()) << ra.status().message();
  auto rb = PortReservation::Reserve(&b);
  ASSERT_TRUE(rb.ok()) << rb.status().message();
  EXPECT_EQ(ra->size(), 6u);
  std::set<int> ports;
  for (const TopologySpec* s : {&a, &b}) {
    for (const NodeSpec& n : s->nodes) {
      EXPECT_NE(n.port, 0);
      ports.insert(n.port);
    }
  }
  EXPECT_EQ(ports.size(), 12u);  // two concurrent reservations share no port
}

TEST(PortReservation, TheOwnerCanListenNobodyElse) {
  TopologySpec a = AutoRing(2);
  auto r = PortReservation::Reserve(&a);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const int peer = Listen(a.nodes[0].port);
  ASSERT_GE(peer, 0) << "the peer cannot listen on its reserved port " << a.nodes[0].port;
  EXPECT_LT(Listen(a.nodes[0].port), 0) << "a second listener got the port";
  close(peer);
}

TEST(PortReservation, FixedPortsAreKept) {
  auto spec = ParseTopology(
      "nodes:\n  - {port: 5000}\n  - {}\nbase_port: auto\n"
      "generator: {kind: ring}\n",
      "mixed.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  auto r = PortReservation::Reserve(&*spec);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(spec->nodes[0].port, 5000);
  EXPECT_NE(spec->nodes[1].port, 0);
  EXPECT_EQ(r->size(), 1u);
}

TEST(PortReservation, AHostOfAnotherMachineIsAnError) {
  auto spec = ParseTopology("nodes: 2\nhost: 192.0.2.1\nbase_port: auto\ngenerator: {kind: ring}\n",
                            "far.yaml");
  ASSERT_TRUE(spec.ok());
  auto r = PortReservation::Reserve(&*spec);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("far.yaml: node n0 (base_port: auto): cannot bind 192.0.2.1"),
            std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace hearsay
