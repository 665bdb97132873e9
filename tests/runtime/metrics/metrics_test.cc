// Live metrics: the registry's Prometheus text (types, escaping, NaN), PeerMetrics' per-edge
// counters, the progress line, and the HTTP endpoint (200/404/405, HEAD, keep-alive, a port in
// use is an error naming it).
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <cmath>
#include <string>

#include "runtime/metrics/metrics_server.h"
#include "runtime/metrics/peer_metrics.h"
#include "runtime/metrics/registry.h"
#include "runtime/metrics/round_reporter.h"
#include "runtime/peer/run_config.h"

namespace hearsay {
namespace {

using tcp = boost::asio::ip::tcp;

TEST(MetricsRegistry, RendersPrometheusText) {
  MetricsRegistry r;
  r.Declare("x_total", MetricsRegistry::Type::kCounter, "Things.\nMore.");
  r.Declare("g", MetricsRegistry::Type::kGauge, "A gauge.");
  r.Add("x_total", {{"peer", "1"}, {"neighbor", "2"}}, 3);
  r.Add("x_total", {{"peer", "1"}, {"neighbor", "2"}}, 0.5);
  r.Add("x_total", {{"peer", "1"}, {"neighbor", "0"}}, 1);
  r.Set("g", {{"name", "a\"b\\c\nd"}}, std::nan(""));
  r.Set("undeclared", {}, 1);  // dropped
  EXPECT_EQ(r.Get("x_total", {{"peer", "1"}, {"neighbor", "2"}}), 3.5);
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP x_total Things.\\nMore.\n"
            "# TYPE x_total counter\n"
            "x_total{peer=\"1\",neighbor=\"0\"} 1\n"
            "x_total{peer=\"1\",neighbor=\"2\"} 3.5\n"
            "# HELP g A gauge.\n"
            "# TYPE g gauge\n"
            "g{name=\"a\\\"b\\\\c\\nd\"} NaN\n");
}

TEST(PeerMetrics, CountsPerEdgeAndRound) {
  PeerMetrics m(2, "run1", "dpsgd");
  Message out;
  out.from = 2;
  out.to = 3;
  out.kind = MessageKind::kGossip;
  out.payload.resize(100);
  m.OnSent(out);
  m.OnSent(out);
  Message in = out;
  in.from = 1;
  in.to = 2;
  in.payload.resize(40);
  m.OnReceived(in);
  Message down = in;
  down.kind = MessageKind::kLinkDown;
  m.OnReceived(down);  // the transport's notice: not traffic
  RoundRecord rec;
  rec.round = 7;
  rec.loss = 0.25;
  rec.compute_s = 0.5;
  rec.wait_s = 0.25;
  rec.staleness = {{1, 2}, {3, 0}};
  rec.max_staleness = 2;
  TransportStats wire;
  wire.bytes_sent = 300;
  wire.rtt_s = {{1, 0.025}, {3, 0.5}};
  m.OnRound(rec, wire);
  m.OnRound(rec, wire);
  m.SetState(PeerState::kRunning);
  const MetricsRegistry& r = m.registry();
  EXPECT_EQ(r.Get("hearsay_edge_bytes_sent_total", {{"peer", "2"}, {"neighbor", "3"}}), 200);
  EXPECT_EQ(r.Get("hearsay_edge_messages_sent_total",
                  {{"peer", "2"}, {"neighbor", "3"}, {"kind", "gossip"}}),
            2);
  EXPECT_EQ(r.Get("hearsay_edge_bytes_received_total", {{"peer", "2"}, {"neighbor", "1"}}), 40);
  EXPECT_EQ(r.Get("hearsay_edge_messages_received_total",
                  {{"peer", "2"}, {"neighbor", "1"}, {"kind", "link_down"}}),
            0);
  EXPECT_EQ(r.Get("hearsay_round", {{"peer", "2"}}), 7);
  EXPECT_EQ(r.Get("hearsay_compute_seconds_total", {{"peer", "2"}}), 1.0);  // summed
  EXPECT_EQ(r.Get("hearsay_wire_bytes_sent_total", {{"peer", "2"}}), 300);  // set, not summed
  EXPECT_EQ(r.Get("hearsay_edge_staleness_rounds", {{"peer", "2"}, {"neighbor", "1"}}), 2);
  EXPECT_EQ(r.Get("hearsay_edge_rtt_seconds", {{"peer", "2"}, {"neighbor", "1"}}), 0.025);
  EXPECT_EQ(r.Get("hearsay_edge_rtt_seconds", {{"peer", "2"}, {"neighbor", "3"}}), 0.5);
  EXPECT_EQ(r.Get("hearsay_peer_status", {{"peer", "2"}, {"state", "running"}}), 1);
  EXPECT_EQ(r.Get("hearsay_peer_status", {{"peer", "2"}, {"state", "starting"}}), 0);
}

TEST(RoundReporter, ProgressLine) {
  RoundReporter rep(1000, 0, nullptr, 5);
  RoundRecord rec;
  rec.round = 120;
  rec.wall_s = 3;
  rec.loss = 0.4321;
  rec.compute_s = 0.6;
  rec.wait_s = 0.4;
  TransportStats wire;
  wire.bytes_sent = 1'200'000;
  wire.bytes_received = 1'180'000;
  rep.OnRound(rec, wire);  // 3 s < 5 s: no line yet, but the shares count
  EXPECT_EQ(rep.ProgressLine(rec, wire),
            "round 120/1000 (40.0 rounds/s)  local loss 0.4321  sent 1.20 MB  received 1.18 MB  "
            "compute 60% wait 40%");
  RoundReporter timed(kUnlimitedRounds, 60, nullptr, 0);
  EXPECT_EQ(timed.ProgressLine(rec, wire).substr(0, 29), "round 120 (3/60 s) (40.0 roun");
}

// One HTTP/1.1 exchange on a fresh connection: the whole answer (the server closes).
std::string Http(uint16_t port, const std::string& request) {
  boost::asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  boost::asio::write(s, boost::asio::buffer(request));
  std::string answer;
  boost::system::error_code ec;
  char buf[4096];
  while (true) {
    const size_t n = s.read_some(boost::asio::buffer(buf), ec);
    answer.append(buf, n);
    if (ec) break;
  }
  return answer;
}

TEST(MetricsServer, ServesMetricsAndRefusesTheRest) {
  auto server = MetricsServer::Start("127.0.0.1", 0, [] { return std::string("m 1\n"); });
  ASSERT_TRUE(server.ok()) << server.status().message();
  const uint16_t port = (*server)->port();
  ASSERT_NE(port, 0);
  const std::string ok =
      Http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
  EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << ok;
  EXPECT_EQ(ok.substr(ok.size() - 4), "m 1\n");
  const std::string head =
      Http(port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(head.find("Content-Length: 4\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");  // no body
  EXPECT_EQ(Http(port, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .rfind("HTTP/1.1 404", 0),
            0u);
  EXPECT_EQ(Http(port,
                 "POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                 "Content-Length: 0\r\n\r\n")
                .rfind("HTTP/1.1 405", 0),
            0u);
  // Two requests on one keep-alive connection: two answers.
  const std::string two = Http(port,
                               "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                               "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(two.find("HTTP/1.1 200", two.find("m 1\n")), std::string::npos) << two;
  EXPECT_EQ((*server)->requests_served(), 6u);
}

TEST(MetricsServer, ARenderThatThrowsIsA500) {
  auto server = MetricsServer::Start("127.0.0.1", 0,
                                     []() -> std::string { throw std::runtime_error("boom"); });
  ASSERT_TRUE(server.ok());
  const std::string a =
      Http((*server)->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(a.rfind("HTTP/1.1 500", 0), 0u) << a;
  EXPECT_NE(a.find("metrics failed: boom"), std::string::npos);
}

TEST(MetricsServer, PortInUseNamesIt) {
  auto first = MetricsServer::Start("127.0.0.1", 0, [] { return std::string(); });
  ASSERT_TRUE(first.ok());
  const uint16_t port = (*first)->port();
  auto second = MetricsServer::Start("127.0.0.1", port, [] { return std::string(); });
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(second.status().message(), "metrics endpoint 127.0.0.1:" + std::to_string(port) +
                                           ": cannot listen: Address already in use");
}

}  // namespace
}  // namespace hearsay
