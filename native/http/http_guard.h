#pragma once

// The connection loop under the daemon's HTTP port. Debian's cpp-httplib 0.11.4 (the only
// version in bookworm) gives each connection one worker for its whole life, with per-wait
// read timeouts and no limit on a request head's total time or size; its CPPHTTPLIB_* limits
// are compiled into the shared library. It cannot close a connection from a handler, drops
// pipelined requests and does not read a GET's body (the body then runs as the next request).
// GuardedServer replaces the per-connection loop (the virtual process_and_close_socket) and
// feeds httplib's own parser and router (process_request) through its own stream:
// - one deadline for the TLS handshake and each request's line and headers, and a byte budget
//   for them (a slow or endless head is cut, never waited for);
// - one read-ahead buffer per connection, so pipelined requests are all answered;
// - TCP_NODELAY on every connection (httplib writes head and body separately: with Nagle the
//   body waited ~40 ms for the client's delayed ACK);
// - TLS done here with a context that can be swapped while serving (certificate rotation);
// - a cap on connections per client address, and the last workers kept for new clients;
// - a guard refusing what no endpoint takes: bodies, methods other than GET/HEAD/OPTIONS,
//   HTTP/1.1 without exactly one Host, paths with NUL or invalid UTF-8; Range is ignored.
// It depends on process_request, protected fields and a private virtual of 0.11.4: re-check on
// any upgrade (tests/native/http_guard_test.cc pins each behaviour).

#include <httplib.h>
#include <openssl/ssl.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace isoscope::native {

struct GuardLimits {
  int head_deadline_ms = 2000;         ///< TLS handshake, then each request line + headers
  size_t head_budget = 16 * 1024;      ///< bytes of one request line + headers
  int response_deadline_ms = 60000;    ///< writing one response, whatever the client reads
  int max_connections_per_client = 8;  ///< open connections per client IP address
  int workers = 64;                    ///< threads; most sleep in poll
  int reserved_workers = 8;            ///< kept for clients without a connection yet
};

/// The stream the connection loop reads and writes through: a socket (plain or TLS) or
/// memory (tests, the fuzz target). Reads come from one buffer kept for the connection's life
/// (pipelined requests stay intact), filled by the subclass.
class ConnStream : public httplib::Stream {
 public:
  /// Starts a request: reads fail after `deadline_ms` from now or after `budget` bytes.
  virtual void BeginRequest(int deadline_ms, size_t budget);
  /// True when request bytes are buffered or arrive within `idle_ms`; false early if `stop`.
  virtual bool WaitNext(int idle_ms, const std::function<bool()>& stop) = 0;
  /// Buffers the whole request head (line and headers, up to the empty line) within the
  /// deadline and budget; false if it did not come.
  bool BufferHead();
  /// Removes the header lines called `name` (case-insensitive) from the buffered head.
  void DropHeader(const std::string& name);
  /// The request's byte budget ran out (not its deadline).
  bool exhausted() const { return exhausted_; }
  /// Bytes written since BeginRequest.
  size_t written() const { return written_; }

  ssize_t read(char* ptr, size_t size) override;

 protected:
  /// Appends at least one byte to buf_; false on end of stream, error or deadline.
  virtual bool Fill() = 0;
  bool Buffered() const { return pos_ < buf_.size(); }

  std::string buf_;
  size_t pos_ = 0;
  size_t budget_ = 0;
  size_t used_ = 0;
  bool exhausted_ = false;
  size_t written_ = 0;

 private:
  size_t HeadEnd() const;  // offset past the head's empty line in buf_, or npos
};

/// Called from a handler or the pre-routing guard: close the connection after this response
/// (a refused request must not leave bytes behind that would be read as the next request).
void CloseAfterResponse();

/// The pre-routing checks that apply to every request, before authentication and routing.
/// Returns Handled with the refusal in `res`.
httplib::Server::HandlerResponse GuardRequest(const httplib::Request& req, httplib::Response& res);

class GuardedServer : public httplib::Server {
 public:
  explicit GuardedServer(GuardLimits limits = GuardLimits());
  ~GuardedServer() override;

  /// The TLS context of new connections; null serves plain HTTP. May change while serving.
  void SetTls(std::shared_ptr<SSL_CTX> ctx);
  /// Called (at most once a second) when a connection arrives: the place to notice changed
  /// certificate or user files.
  void SetOnConnection(std::function<void()> fn) { on_connection_ = std::move(fn); }
  /// Call after binding: 0.11.4 listens with a backlog of 5 (compiled in), so a burst of
  /// reconnecting clients overflows it and a scrape's SYN waits for its 1 s retransmission.
  void RaiseBacklog();
  /// Runs the connection loop over `input`, the bytes of one client, and returns what the
  /// server wrote back. No socket and no deadline: for tests and the fuzz target.
  std::string ServeBytes(const std::string& input, const std::string& client_ip = "127.0.0.1");

 private:
  bool process_and_close_socket(socket_t sock) override;
  void Loop(ConnStream& strm, SSL* ssl, const std::function<bool()>& stop);
  bool TakeSlot(const std::string& ip);
  void ReleaseSlot(const std::string& ip);
  std::shared_ptr<SSL_CTX> Tls();

  GuardLimits limits_;
  std::mutex mu_;
  std::shared_ptr<SSL_CTX> tls_;
  std::map<std::string, int> per_client_;
  int connections_ = 0;
  std::function<void()> on_connection_;
  std::chrono::steady_clock::time_point last_check_;
};

}  // namespace isoscope::native
