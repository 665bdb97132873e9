// TCP transport throughput and small-message latency against raw loopback TCP, measured in the
// same run (issue 13 item 2; results in docs/wire_format.md "Performance").
//
// Throughput rows (one direction, `total` bytes in `message`-byte messages):
//   raw TCP              a plain POSIX socket pair, send/recv of the same buffer
//   raw TCP, reads of K  the same, the receiver reading each message in recv calls of at most the
//                        transport's receive chunk (FrameReader::kChunkBytes)
//   raw TCP + MAC        the same, plus the Poly1305 frame MAC on both sides (what the MAC costs)
//   raw TCP, the transport's work
//                        what the pooled row does, on a raw socket: the sender copies each message
//                        into the next of as many buffers as the transport's window holds, MACs
//                        and sends it; the receiver reads into rotating buffers in the transport's
//                        chunks, MACing each piece (the ceiling for that row on this machine)
//   transport, pooled    two TcpTransports; the sender copies each payload into a buffer from
//                        AcquireBuffer (as a peer copies its encoded message), the receiver hands
//                        payloads back with Recycle
//   transport, shared payload
//                        two TcpTransports; the sender sends one read-only buffer from
//                        SharePayload in every message, as a peer sends its round's payload (no
//                        copy: what the transport itself costs; its ceiling is "raw TCP + MAC");
//                        the receiver hands payloads back with Recycle
//   transport, fresh     as "pooled" with a new vector per message and no Recycle (no reuse)
//   pooled, k streams    as "pooled" with `streams: k` TCP connections per link (messages of at
//                        least 128 KiB striped over them; docs/wire_format.md "Streams")
// Latency rows: round trips of a 64-byte message between two threads, raw vs transport, in
// alternating batches of 100 (medians over the batches).
// A line with the frame MAC alone (libsodium's Poly1305 and the transport's choice) against
// memcpy, on one core with the buffer in cache (printed with the `mac` row).
//   usage: hearsay_bench_tcp_throughput [total_MiB=512] [message_KiB=1024] [round_trips=2000]
//                                       [only=ROW] [streams=1] (ROW: all, raw, mac, work, pooled,
//                                       shared, fresh, streams or rtt; one row for profiling,
//                                       ratios then read 0; streams > 1 adds the striped row)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/logging.h"
#include "runtime/transport/auth.h"
#include "runtime/transport/frame.h"
#include "runtime/transport/frame_reader.h"
#include "runtime/transport/tcp/tcp_transport.h"

namespace hearsay {
namespace {

void Die(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::exit(1);
}

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A connected loopback socket pair {client, server} with TCP_NODELAY.
std::pair<int, int> SocketPair() {
  int listen_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::listen(listen_fd, 1);
  int client = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) Die("connect");
  int server = ::accept(listen_fd, nullptr, nullptr);
  ::close(listen_fd);
  int one = 1;
  ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return {client, server};
}

void SendAll(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t k = ::send(fd, p, n, 0);
    if (k <= 0) Die("send");
    p += k;
    n -= static_cast<size_t>(k);
  }
}
void RecvAll(int fd, uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t k = ::recv(fd, p, n, 0);
    if (k <= 0) Die("recv");
    p += k;
    n -= static_cast<size_t>(k);
  }
}

// Bytes per second streaming `total` bytes in `message`-byte messages; with_mac adds the frame
// MAC (one Poly1305 per message) on both sides.
// How a raw pair moves its messages. read_chunk > 0: the receiver reads each message in recv
// calls of at most that many bytes (the transport's receive chunk) instead of one recv per
// message. copies > 0: the work the transport's row does, on a raw socket -- the sender copies
// each message into the next of `copies` buffers (as that row's sender copies into a pooled
// buffer), MACs it and sends it in one call; the receiver reads into the next of `copies` buffers
// and MACs each piece as it arrives.
struct RawWork {
  bool mac = false;
  size_t read_chunk = 0;
  size_t copies = 0;
};

double RawTcp(size_t total, size_t message, RawWork work = {}) {
  auto [client, server] = SocketPair();
  const size_t messages = total / message;
  const size_t buffers = std::max<size_t>(1, work.copies);
  const size_t chunk = work.read_chunk > 0 ? work.read_chunk : message;
  SessionKey key{};
  std::thread receiver([&, server = server] {
    std::vector<std::vector<uint8_t>> bufs(buffers, std::vector<uint8_t>(message));
    for (size_t i = 0; i < messages; ++i) {
      std::vector<uint8_t>& buf = bufs[i % buffers];
      if (work.copies > 0) {
        FrameMac mac(key, i + 1, message);
        for (size_t off = 0; off < message;) {
          const ssize_t k = ::recv(server, buf.data() + off, std::min(chunk, message - off), 0);
          if (k <= 0) Die("recv");
          mac.Update({buf.data() + off, static_cast<size_t>(k)});
          off += static_cast<size_t>(k);
        }
        (void)mac.Final();
        continue;
      }
      for (size_t off = 0; off < message; off += chunk) {
        RecvAll(server, buf.data() + off, std::min(chunk, message - off));
      }
      if (work.mac) (void)ComputeFrameMac(key, i + 1, {}, buf);
    }
  });
  const std::vector<uint8_t> data(message, 7);
  std::vector<std::vector<uint8_t>> out(work.copies);
  for (auto& b : out) b = data;  // written once before timing, as the transport's warm pool
  const TimePoint t0 = Now();
  for (size_t i = 0; i < messages; ++i) {
    const std::vector<uint8_t>* send = &data;
    if (work.copies > 0) {
      std::vector<uint8_t>& b = out[i % work.copies];
      std::memcpy(b.data(), data.data(), message);
      send = &b;
    }
    if (work.mac || work.copies > 0) (void)ComputeFrameMac(key, i + 1, {}, *send);
    SendAll(client, send->data(), send->size());
  }
  receiver.join();
  const double seconds = SecondsSince(t0);
  ::close(client);
  ::close(server);
  return static_cast<double>(messages * message) / seconds;
}

// The sender may run 32 MiB (at least 8 messages) ahead of the receiver (the transport rows'
// window; also the raw "same work" row's number of buffers).
uint64_t Window(size_t message) {
  return std::max<uint64_t>(32u << 20, 8 * static_cast<uint64_t>(message));
}

// max_queued_bytes: how far the sender may run ahead of the receiver (0: the default); streams:
// TCP connections per link (TcpTransportOptions::streams).
std::vector<std::unique_ptr<Transport>> TransportPair(uint64_t max_queued_bytes = 0,
                                                      int streams = 1) {
  const uint16_t p0 = FreePort(), p1 = FreePort();
  std::vector<std::unique_ptr<Transport>> ts;
  for (int i = 0; i < 2; ++i) {
    TcpTransportOptions o;
    o.self = i;
    o.addresses = {{"127.0.0.1", p0}, {"127.0.0.1", p1}};
    o.neighbors = {1 - i};
    o.handshake.cluster_id = "bench";
    o.secret = "bench-secret-0123456789";
    if (max_queued_bytes > 0) o.max_queued_bytes = max_queued_bytes;
    o.streams = streams;
    auto t = MakeTcpTransport(o);
    if (!t.ok()) Die(t.status().ToString());
    ts.push_back(std::move(t).value());
  }
  auto started = std::async(std::launch::async, [&] { return ts[1]->Start(DeadlineIn(20)); });
  if (!ts[0]->Start(DeadlineIn(20)).ok() || !started.get().ok()) Die("transports did not start");
  return ts;
}

void Finish(std::vector<std::unique_ptr<Transport>>& ts) {
  for (int i = 0; i < 2; ++i) {
    Message done;
    done.kind = MessageKind::kDone;
    done.to = 1 - i;
    (void)ts[i]->Send(std::move(done));
  }
  for (int i = 0; i < 2; ++i) (void)ts[i]->Receive(DeadlineIn(5));  // the other's DONE
  for (auto& t : ts) (void)t->Shutdown(DeadlineIn(5));
}

// How the sending side of a transport row gets each message's payload.
enum class Payload {
  kPooled,  // copied into a buffer from AcquireBuffer; the receiver Recycles what it got
  kFresh,   // copied into a new vector; nothing recycled
  kShared,  // one read-only buffer (SharePayload) sent again and again, as a peer sends its
            // round's payload to every out-neighbour: no copy; the receiver Recycles
};

// Streams `messages` messages from ts[0] to ts[1]; returns the seconds until the last arrived.
double Stream(std::vector<std::unique_ptr<Transport>>& ts, size_t messages, size_t message,
              Payload how) {
  const ByteBuffer payload(message, 7);
  const std::shared_ptr<const ByteBuffer> shared =
      how == Payload::kShared ? ts[0]->SharePayload(payload) : nullptr;
  const TimePoint t0 = Now();
  std::thread sender([&] {
    for (size_t i = 0; i < messages; ++i) {
      Message m;
      m.to = 1;
      m.round = static_cast<int64_t>(i + 1);
      if (how == Payload::kPooled) {
        m.payload = ts[0]->AcquireBuffer(message);
        m.payload.assign(payload.begin(), payload.end());
      } else if (how == Payload::kShared) {
        m.shared_payload = shared;
      } else {
        m.payload = payload;
      }
      if (!ts[0]->Send(std::move(m)).ok()) Die("send failed");
    }
  });
  for (size_t i = 0; i < messages; ++i) {
    Result<Message> m = ts[1]->Receive(DeadlineIn(60));
    if (!m.ok()) Die(m.status().ToString());
    if (how != Payload::kFresh) ts[1]->Recycle(std::move(m->payload));
  }
  const double seconds = SecondsSince(t0);
  sender.join();
  return seconds;
}

// The sender may run 32 MiB (at least 8 messages) ahead -- a window far above loopback's
// bandwidth-delay product -- and an untimed warm-up of twice that fills both sides' buffer pools
// first (the steady state of a peer that sends every round), so the timed part measures the
// transport, not the first touch of new memory (the "fresh" row shows that cost).
double HearsayTcp(size_t total, size_t message, Payload how, int streams = 1) {
  const uint64_t window = Window(message);
  auto ts = TransportPair(window, streams);
  if (how != Payload::kFresh) (void)Stream(ts, 2 * window / message + 1, message, how);
  const size_t messages = total / message;
  const double seconds = Stream(ts, messages, message, how);
  Finish(ts);
  return static_cast<double>(messages * message) / seconds;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Pins the calling thread to `cpu` (-1: every CPU of the process's original mask).
void PinTo(int cpu) {
  static const cpu_set_t all = [] {
    cpu_set_t set;
    CPU_ZERO(&set);
    ::sched_getaffinity(0, sizeof(set), &set);
    return set;
  }();
  cpu_set_t set = all;
  if (cpu >= 0) {
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
  }
  ::pthread_setaffinity_np(::pthread_self(), sizeof(set), &set);
}

// Round trips of a 64-byte message, raw TCP and the transport measured in alternating batches of
// kTripBatch. The sending thread runs on CPU 0, the echoing threads on `echo_cpu`: where the two
// sides run decides the latency more than anything else (on one CPU a wake-up is a context
// switch; on two, the sleeping CPU is woken, tens of microseconds in a VM), so both are pinned
// rather than left to the scheduler, which moves them between the two modes from run to run.
// Returns the medians over the batches of microseconds per round trip.
constexpr int kTripBatch = 100;
struct RoundTrips {
  double raw_us = 0;
  double transport_us = 0;
};
RoundTrips MeasureRoundTrips(int trips, int echo_cpu) {
  const int batches = std::max(1, trips / kTripBatch);
  trips = batches * kTripBatch;
  PinTo(0);  // the transports' own threads, started below, inherit it
  auto [client, server] = SocketPair();
  std::thread raw_echo([&, server = server] {
    PinTo(echo_cpu);
    uint8_t buf[64];
    for (int i = 0; i < trips; ++i) {
      RecvAll(server, buf, sizeof(buf));
      SendAll(server, buf, sizeof(buf));
    }
  });
  auto ts = TransportPair();
  std::thread transport_echo([&] {
    PinTo(echo_cpu);
    for (int i = 0; i < trips; ++i) {
      Result<Message> m = ts[1]->Receive(DeadlineIn(30));
      if (!m.ok()) Die(m.status().ToString());
      m->to = 0;
      if (!ts[1]->Send(std::move(*m)).ok()) Die("echo send");
    }
  });
  std::vector<double> raw_us, transport_us;
  uint8_t buf[64] = {};
  for (int b = 0; b < batches; ++b) {
    TimePoint t0 = Now();
    for (int i = 0; i < kTripBatch; ++i) {
      SendAll(client, buf, sizeof(buf));
      RecvAll(client, buf, sizeof(buf));
    }
    raw_us.push_back(SecondsSince(t0) * 1e6 / kTripBatch);
    t0 = Now();
    for (int i = 0; i < kTripBatch; ++i) {
      Message m;
      m.to = 1;
      m.round = int64_t{b} * kTripBatch + i + 1;
      m.payload.assign(64, 1);
      if (!ts[0]->Send(std::move(m)).ok()) Die("send");
      if (!ts[0]->Receive(DeadlineIn(30)).ok()) Die("receive");
    }
    transport_us.push_back(SecondsSince(t0) * 1e6 / kTripBatch);
  }
  raw_echo.join();
  transport_echo.join();
  ::close(client);
  ::close(server);
  Finish(ts);
  PinTo(-1);
  return {Median(raw_us), Median(transport_us)};
}

// Bytes per second of the frame MAC alone on one core, over a frame of a message's size with a
// typical 40-byte prefix + header (what the transport MACs), in a buffer that stays in cache;
// frame_bytes = 0 forces libsodium's Poly1305, else the transport's choice (libcrypto for long
// frames). Against memcpy of the same buffer.
double MacRate(size_t message, bool transport_choice) {
  std::vector<uint8_t> frame(40 + message, 7);
  const SessionKey key{};
  const size_t reps = std::max<size_t>(4, (size_t{1} << 30) / frame.size());
  const TimePoint t0 = Now();
  for (size_t i = 0; i < reps; ++i) {
    FrameMac mac(key, i + 1, transport_choice ? frame.size() : 0);
    mac.Update({frame.data(), 40});
    mac.Update({frame.data() + 40, message});
    frame[i % frame.size()] ^= mac.Final()[0];
  }
  return static_cast<double>(reps * frame.size()) / SecondsSince(t0);
}
double MemcpyRate(size_t message) {
  std::vector<uint8_t> a(message + 40, 7), b(message + 40);
  const size_t reps = std::max<size_t>(4, (size_t{1} << 30) / a.size());
  const TimePoint t0 = Now();
  for (size_t i = 0; i < reps; ++i) {
    std::memcpy(b.data(), a.data(), a.size());
    a[i % a.size()] ^= b[(i * 7) % b.size()];
  }
  return static_cast<double>(reps * a.size()) / SecondsSince(t0);
}

}  // namespace
}  // namespace hearsay

int main(int argc, char** argv) {
  using namespace hearsay;
  const size_t total = static_cast<size_t>(argc > 1 ? std::atol(argv[1]) : 512) << 20;
  const size_t message = static_cast<size_t>(argc > 2 ? std::atol(argv[2]) : 1024) << 10;
  const int trips = argc > 3 ? std::atoi(argv[3]) : 2000;
  const std::string only = argc > 4 && std::string(argv[4]) != "all" ? argv[4] : "";
  // > 1: also a row for the pooled transport with that many TCP connections per link.
  const int streams = argc > 5 ? std::atoi(argv[5]) : 1;
  const auto want = [&](const char* row) { return only.empty() || only == row; };
  InitLogging("bench", "error");
  // The implementations libsodium picks for this CPU (as a transport's first key does), so that
  // the MAC row and the transports use the same Poly1305 code.
  if (!InitCrypto().ok()) Die("libsodium failed to initialise");
  // Medians of 3 interleaved repetitions (the machine may be shared).
  std::vector<double> raw, raw_chunked, raw_mac, raw_work, pooled, shared, fresh, striped;
  // Round trips, [0]: both sides on one CPU, [1]: on two (when the machine has two).
  const int cpus = static_cast<int>(std::thread::hardware_concurrency());
  std::vector<double> raw_rt[2], hs_rt[2];
  for (int rep = 0; rep < 3; ++rep) {
    raw.push_back(want("raw") ? RawTcp(total, message) : 0);
    raw_chunked.push_back(
        want("raw") ? RawTcp(total, message, {.read_chunk = FrameReader::kChunkBytes}) : 0);
    raw_mac.push_back(want("mac") ? RawTcp(total, message, {.mac = true}) : 0);
    raw_work.push_back(want("work") ? RawTcp(total, message,
                                             {.mac = true,
                                              .read_chunk = FrameReader::kChunkBytes,
                                              .copies = Window(message) / message})
                                    : 0);
    pooled.push_back(want("pooled") ? HearsayTcp(total, message, Payload::kPooled) : 0);
    shared.push_back(want("shared") ? HearsayTcp(total, message, Payload::kShared) : 0);
    fresh.push_back(want("fresh") ? HearsayTcp(total, message, Payload::kFresh) : 0);
    striped.push_back(
        streams > 1 && want("streams") ? HearsayTcp(total, message, Payload::kPooled, streams) : 0);
    for (int two = 0; two < (cpus > 1 ? 2 : 1); ++two) {
      const RoundTrips rt = want("rtt") ? MeasureRoundTrips(trips, two) : RoundTrips{};
      raw_rt[two].push_back(rt.raw_us);
      hs_rt[two].push_back(rt.transport_us);
    }
  }
  const double r = Median(raw);
  const auto vs_raw = [&](double v) { return r > 0 ? v / r : 0.0; };
  std::printf("%zu MiB in %zu KiB messages over loopback (median of 3)\n", total >> 20,
              message >> 10);
  std::printf("%-34s %10s %8s\n", "", "MB/s", "vs raw");
  std::printf("%-34s %10.1f %8.2f\n", "raw TCP", r / 1e6, 1.0);
  const std::string chunked =
      "raw TCP, reads of " + std::to_string(FrameReader::kChunkBytes >> 10) + " KiB";
  std::printf("%-34s %10.1f %8.2f\n", chunked.c_str(), Median(raw_chunked) / 1e6,
              vs_raw(Median(raw_chunked)));
  std::printf("%-34s %10.1f %8.2f\n", "raw TCP + frame MAC", Median(raw_mac) / 1e6,
              vs_raw(Median(raw_mac)));
  std::printf("%-34s %10.1f %8.2f\n", "raw TCP, the transport's work", Median(raw_work) / 1e6,
              vs_raw(Median(raw_work)));
  std::printf("%-34s %10.1f %8.2f\n", "TcpTransport, pooled buffers", Median(pooled) / 1e6,
              vs_raw(Median(pooled)));
  if (Median(raw_work) > 0 && Median(pooled) > 0) {
    std::printf("pooled transport / raw TCP doing the transport's work: %.2f\n",
                Median(pooled) / Median(raw_work));
  }
  std::printf("%-34s %10.1f %8.2f\n", "TcpTransport, shared payload", Median(shared) / 1e6,
              vs_raw(Median(shared)));
  if (Median(raw_mac) > 0 && Median(shared) > 0) {
    std::printf("shared-payload transport / raw TCP + frame MAC: %.2f\n",
                Median(shared) / Median(raw_mac));
  }
  std::printf("%-34s %10.1f %8.2f\n", "TcpTransport, fresh buffers", Median(fresh) / 1e6,
              vs_raw(Median(fresh)));
  if (streams > 1) {
    const std::string row = "TcpTransport, pooled, " + std::to_string(streams) + " streams";
    std::printf("%-34s %10.1f %8.2f\n", row.c_str(), Median(striped) / 1e6,
                vs_raw(Median(striped)));
  }
  if (only.empty() || only == "mac") {
    const double copy = MemcpyRate(message), sodium = MacRate(message, false),
                 chosen = MacRate(message, true);
    std::printf(
        "frame MAC alone, one core, cached: memcpy %.0f MB/s, libsodium Poly1305 %.0f MB/s "
        "(%.2fx memcpy), the transport's choice %.0f MB/s (%.2fx)\n",
        copy / 1e6, sodium / 1e6, sodium / copy, chosen / 1e6, chosen / copy);
  }
  for (int two = 0; two < (cpus > 1 ? 2 : 1); ++two) {
    const double r_us = Median(raw_rt[two]), t_us = Median(hs_rt[two]);
    std::printf("64-byte round trip, %s: raw TCP %.1f us, TcpTransport %.1f us, ratio %.2f\n",
                two ? "two CPUs" : "one CPU ", r_us, t_us, r_us > 0 ? t_us / r_us : 0.0);
  }
  return 0;
}
