// The only translation unit that includes Boost.Beast (it is heavy to compile); the async
// pattern is Beast's http_server_async example: one session object per connection, kept alive
// by the handlers' shared_ptr, a tcp_stream deadline on every read and write.
#include "runtime/metrics/metrics_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <thread>

#include "common/logging.h"

namespace hearsay {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxRequestBytes = 8 * 1024;
constexpr auto kIdleTimeout = std::chrono::seconds(10);
constexpr int kMaxConnections = 32;

}  // namespace

struct MetricsServer::Impl {
  // Declared before `io`: sessions that destroying `io` frees still count themselves out.
  std::atomic<int> connections{0};
  std::atomic<uint64_t> served{0};
  uint16_t port = 0;
  MetricsServer::Render render;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;

  void Accept();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, MetricsServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {
    ++server_->connections;
  }
  ~Session() { --server_->connections; }

  void Read() {
    parser_.emplace();
    parser_->header_limit(kMaxRequestBytes);
    parser_->body_limit(kMaxRequestBytes);
    stream_.expires_after(kIdleTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec) {
      // A closed keep-alive connection or a timeout is normal; a bad request gets its answer.
      if (ec == http::error::end_of_stream || ec == beast::error::timeout) return Close();
      if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
        return Respond(http::status::bad_request, false, "bad request\n");
      }
      return Close();
    }
    const auto& req = parser_->get();
    const bool keep_alive = req.keep_alive();
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      return Respond(http::status::method_not_allowed, keep_alive, "only GET\n");
    }
    const std::string_view target(req.target().data(), req.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    if (path == "/metrics") {
      std::string text;
      try {
        text = server_->render();
      } catch (const std::exception& e) {
        return Respond(http::status::internal_server_error, false,
                       std::string("metrics failed: ") + e.what() + "\n");
      }
      return Respond(http::status::ok, keep_alive, std::move(text),
                     "text/plain; version=0.0.4; charset=utf-8", req.method() == http::verb::head);
    }
    if (path == "/") {
      return Respond(http::status::ok, keep_alive, "hearsay peer: metrics at /metrics\n");
    }
    return Respond(http::status::not_found, keep_alive, "not found; metrics at /metrics\n");
  }

  void Respond(http::status status, bool keep_alive, std::string body,
               const char* type = "text/plain; charset=utf-8", bool head = false) {
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::server, "hearsay");
    res->set(http::field::content_type, type);
    res->keep_alive(keep_alive);
    res->body() = std::move(body);
    res->prepare_payload();
    if (head) res->body().clear();  // Content-Length stays that of the GET answer
    ++server_->served;
    stream_.expires_after(kIdleTimeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                        if (ec || !keep_alive) return self->Close();
                        self->Read();
                      });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  MetricsServer::Impl* server_;
};

}  // namespace

void MetricsServer::Impl::Accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;  // stopping
    if (!ec) {
      if (connections.load() >= kMaxConnections) {
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<Session>(std::move(socket), this)->Read();
      }
    } else {
      HEARSAY_LOG_DEBUG("metrics endpoint: accept: {}", ec.message());
    }
    Accept();
  });
}

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  asio::post(impl_->io, [impl = impl_.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t MetricsServer::port() const { return impl_->port; }
uint64_t MetricsServer::requests_served() const { return impl_->served.load(); }

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& host, uint16_t port,
                                                            Render render) {
  auto impl = std::make_unique<Impl>();
  impl->render = std::move(render);
  const std::string where = host + ":" + std::to_string(port);
  beast::error_code ec;
  tcp::resolver resolver(impl->io);
  const auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty()) {
    return Unavailable("metrics endpoint " + where +
                       ": cannot resolve: " + (ec ? ec.message() : std::string("no address")));
  }
  const tcp::endpoint ep = results.begin()->endpoint();
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("metrics endpoint " + where + ": cannot listen: " + ec.message());
  impl->port = impl->acceptor.local_endpoint().port();
  impl->Accept();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    // Handlers report errors as codes; anything thrown (bad_alloc) ends the endpoint only.
    try {
      raw->io.run();
    } catch (const std::exception& e) {
      HEARSAY_LOG_ERROR("metrics endpoint stopped: {}", e.what());
    } catch (...) {
      HEARSAY_LOG_ERROR("metrics endpoint stopped: unknown exception");
    }
  });
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

}  // namespace hearsay
