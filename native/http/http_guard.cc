#include "http_guard.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "file_io.h"

namespace isoscope::native {
namespace {

using Clock = std::chrono::steady_clock;

thread_local bool t_close_after = false;

constexpr char k431[] =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n"
    "X-Content-Type-Options: nosniff\r\nContent-Length: 0\r\n\r\n";
constexpr char k503Busy[] =
    "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n"
    "X-Content-Type-Options: nosniff\r\nContent-Length: 0\r\n\r\n";
constexpr char kPlainOnTls[] =
    "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\n"
    "X-Content-Type-Options: nosniff\r\nContent-Length: 38\r\n\r\n"
    "This port expects TLS (use https://).\n";
// Idle waits are cut in slices so that Stop() is noticed quickly.
constexpr int kStopCheckMs = 100;

int MsLeft(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 1 << 30));
}

// > 0 when `fd` is ready for `events` within `ms`.
int PollFd(int fd, short events, int ms) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int r = ::poll(&p, 1, ms);
    if (r >= 0 || errno != EINTR) return r;
  }
}

void PeerOrSelf(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  const int r = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                     : ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  char host[NI_MAXHOST] = "";
  char serv[NI_MAXSERV] = "";
  if (r != 0 || ::getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, serv,
                              sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    ip.clear();
    port = 0;
    return;
  }
  ip = host;
  port = std::atoi(serv);
}

// A client socket, non-blocking, plain or TLS. Reads come from one read-ahead buffer kept for
// the connection's life (pipelined requests stay intact) and stop at the request's deadline
// or byte budget; writes stop at the response deadline.
class SocketConn final : public ConnStream {
 public:
  SocketConn(int fd, int write_wait_ms, int response_ms)
      : fd_(fd), write_wait_ms_(write_wait_ms), response_ms_(response_ms) {}
  ~SocketConn() override {
    if (ssl_ != nullptr) {
      SSL_shutdown(ssl_);  // one non-blocking attempt at close_notify
      SSL_free(ssl_);
    }
  }
  SSL* ssl() const { return ssl_; }

  // The first byte must start a TLS record (0x16, handshake); anything else is most likely
  // plain HTTP, which gets a readable 400 instead of a silent close.
  bool AcceptTls(SSL_CTX* ctx) {
    unsigned char first = 0;
    for (;;) {
      const ssize_t n = ::recv(fd_, &first, 1, MSG_PEEK);
      if (n == 1) break;
      if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) return false;
      if (errno != EINTR && PollFd(fd_, POLLIN, MsLeft(read_deadline_)) <= 0) return false;
    }
    if (first != 0x16) {
      write(kPlainOnTls, sizeof kPlainOnTls - 1);
      return false;
    }
    SSL* ssl = SSL_new(ctx);
    if (ssl == nullptr || SSL_set_fd(ssl, fd_) != 1) {
      SSL_free(ssl);
      return false;
    }
    for (;;) {
      ERR_clear_error();
      const int r = SSL_accept(ssl);
      if (r == 1) break;
      const int e = SSL_get_error(ssl, r);
      const short wait = e == SSL_ERROR_WANT_READ    ? POLLIN
                         : e == SSL_ERROR_WANT_WRITE ? POLLOUT
                                                     : 0;
      if (wait == 0 || PollFd(fd_, wait, MsLeft(read_deadline_)) <= 0) {
        ERR_clear_error();  // never leave a stale error on this worker thread
        SSL_free(ssl);
        return false;
      }
    }
    ssl_ = ssl;
    return true;
  }

  void BeginRequest(int deadline_ms, size_t budget) override {
    ConnStream::BeginRequest(deadline_ms, budget);
    read_deadline_ = Clock::now() + std::chrono::milliseconds(deadline_ms);
    write_deadline_ = Clock::now() + std::chrono::milliseconds(response_ms_);
  }

  bool WaitNext(int idle_ms, const std::function<bool()>& stop) override {
    const auto until = Clock::now() + std::chrono::milliseconds(idle_ms);
    for (;;) {
      if (Buffered() || (ssl_ != nullptr && SSL_pending(ssl_) > 0)) return true;
      const int left = MsLeft(until);
      if (left <= 0 || stop()) return false;
      const int r = PollFd(fd_, POLLIN, std::min(left, kStopCheckMs));
      if (r < 0) return false;
      if (r > 0) return true;
    }
  }

  bool is_readable() const override {
    return Buffered() || (ssl_ != nullptr && SSL_pending(ssl_) > 0) || PollFd(fd_, POLLIN, 0) > 0;
  }
  bool is_writable() const override { return PollFd(fd_, POLLOUT, 0) > 0; }

  ssize_t write(const char* ptr, size_t size) override {
    size_t done = 0;
    while (done < size) {
      const int left = std::min(write_wait_ms_, MsLeft(write_deadline_));
      const ssize_t n = ssl_ != nullptr ? WriteTls(ptr + done, size - done, left)
                                        : WritePlain(ptr + done, size - done, left);
      if (n < 0) return -1;
      done += static_cast<size_t>(n);
    }
    written_ += size;
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    PeerOrSelf(fd_, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    PeerOrSelf(fd_, false, ip, port);
  }
  socket_t socket() const override { return fd_; }

 private:
  // Appends what arrives before the deadline; false on end of stream, error or deadline.
  bool Fill() override {
    char tmp[16 * 1024];
    for (;;) {
      const int left = MsLeft(read_deadline_);
      if (left <= 0) return false;
      short wait = POLLIN;
      if (ssl_ != nullptr) {
        ERR_clear_error();
        const int n = SSL_read(ssl_, tmp, sizeof tmp);
        if (n > 0) return buf_.append(tmp, static_cast<size_t>(n)), true;
        const int e = SSL_get_error(ssl_, n);
        if (e == SSL_ERROR_WANT_WRITE) {
          wait = POLLOUT;
        } else if (e != SSL_ERROR_WANT_READ) {
          ERR_clear_error();
          return false;
        }
      } else {
        const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
        if (n > 0) return buf_.append(tmp, static_cast<size_t>(n)), true;
        if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) return false;
        if (errno == EINTR) continue;
      }
      if (PollFd(fd_, wait, left) <= 0) return false;
    }
  }

  ssize_t WritePlain(const char* p, size_t size, int wait_ms) {
    for (;;) {
      const ssize_t n = ::send(fd_, p, size, MSG_NOSIGNAL);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if ((errno != EAGAIN && errno != EWOULDBLOCK) || wait_ms <= 0 ||
          PollFd(fd_, POLLOUT, wait_ms) <= 0) {
        return -1;
      }
    }
  }

  // SSL_write must be retried with the same arguments after WANT_*: `p` and `size` stay put.
  ssize_t WriteTls(const char* p, size_t size, int wait_ms) {
    const int chunk = static_cast<int>(std::min<size_t>(size, 1 << 20));
    for (;;) {
      ERR_clear_error();
      const int n = SSL_write(ssl_, p, chunk);
      if (n > 0) return n;
      const int e = SSL_get_error(ssl_, n);
      const short wait = e == SSL_ERROR_WANT_WRITE  ? POLLOUT
                         : e == SSL_ERROR_WANT_READ ? POLLIN
                                                    : 0;
      if (wait == 0 || wait_ms <= 0 || PollFd(fd_, wait, wait_ms) <= 0) {
        ERR_clear_error();
        return -1;
      }
    }
  }

  int fd_;
  int write_wait_ms_;
  int response_ms_;
  SSL* ssl_ = nullptr;
  Clock::time_point read_deadline_ = Clock::now();
  Clock::time_point write_deadline_ = Clock::now();
};

// One client's bytes in memory: the same loop, parser and router without a socket. Fill hands
// them over in 4 KiB pieces, as a socket might.
class MemoryConn final : public ConnStream {
 public:
  MemoryConn(const std::string& in, std::string ip) : in_(in), ip_(std::move(ip)) {}
  std::string& out() { return out_; }
  bool WaitNext(int, const std::function<bool()>&) override {
    return Buffered() || next_ < in_.size();
  }
  bool is_readable() const override { return Buffered() || next_ < in_.size(); }
  bool is_writable() const override { return true; }
  ssize_t write(const char* ptr, size_t size) override {
    out_.append(ptr, size);
    written_ += size;
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = ip_;
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 9;
  }
  socket_t socket() const override { return INVALID_SOCKET; }

 private:
  bool Fill() override {
    if (next_ >= in_.size()) return false;
    const size_t n = std::min<size_t>(4096, in_.size() - next_);
    buf_.append(in_, next_, n);
    next_ += n;
    return true;
  }

  const std::string& in_;
  std::string ip_;
  std::string out_;
  size_t next_ = 0;
};

}  // namespace

void CloseAfterResponse() { t_close_after = true; }

void ConnStream::BeginRequest(int, size_t budget) {
  budget_ = budget;
  used_ = 0;
  written_ = 0;
  exhausted_ = false;
  // What earlier requests consumed goes; what is buffered beyond stays (pipelining).
  buf_.erase(0, pos_);
  pos_ = 0;
}

ssize_t ConnStream::read(char* ptr, size_t size) {
  if (used_ >= budget_) {
    exhausted_ = true;
    return -1;
  }
  if (!Buffered()) {
    buf_.clear();
    pos_ = 0;
    if (!Fill()) return -1;
  }
  const size_t n = std::min({size, buf_.size() - pos_, budget_ - used_});
  std::memcpy(ptr, buf_.data() + pos_, n);
  pos_ += n;
  used_ += n;
  return static_cast<ssize_t>(n);
}

size_t ConnStream::HeadEnd() const {
  // The empty line after the headers; httplib accepts LF alone as a line end too.
  for (size_t i = buf_.find('\n', pos_); i != std::string::npos; i = buf_.find('\n', i + 1)) {
    if (i + 1 < buf_.size() && buf_[i + 1] == '\n') return i + 2;
    if (i + 2 < buf_.size() && buf_[i + 1] == '\r' && buf_[i + 2] == '\n') return i + 3;
  }
  return std::string::npos;
}

bool ConnStream::BufferHead() {
  for (;;) {
    const size_t end = HeadEnd();
    if (end != std::string::npos && end - pos_ <= budget_) return true;
    if (buf_.size() - pos_ >= budget_) {
      exhausted_ = true;  // a head larger than the budget is never buffered whole
      return false;
    }
    if (!Fill()) return false;
  }
}

void ConnStream::DropHeader(const std::string& name) {
  const size_t end = HeadEnd();
  if (end == std::string::npos) return;
  size_t line = buf_.find('\n', pos_);  // the request line stays
  if (line == std::string::npos) return;
  size_t head_end = end;
  for (++line; line < head_end;) {
    const size_t next = buf_.find('\n', line) + 1;
    bool match = next - line > name.size() && buf_[line + name.size()] == ':';
    for (size_t k = 0; match && k < name.size(); ++k) {
      match = std::tolower(static_cast<unsigned char>(buf_[line + k])) == name[k];
    }
    if (match) {
      buf_.erase(line, next - line);
      head_end -= next - line;
    } else {
      line = next;
    }
  }
}

httplib::Server::HandlerResponse GuardRequest(const httplib::Request& req, httplib::Response& res) {
  // Range is dropped from the head before parsing (GuardedServer::Loop); a request that
  // reaches this hook another way must not get ranges either. httplib owns the request as
  // non-const and shows it const to this hook only.
  const_cast<httplib::Request&>(req).ranges.clear();
  auto refuse = [&](int status, const char* why) {
    res.status = status;
    res.set_content(why, "text/plain; charset=utf-8");
    res.set_header("Connection", "close");
    CloseAfterResponse();
    return httplib::Server::HandlerResponse::Handled;
  };
  if (req.method != "GET" && req.method != "HEAD" && req.method != "OPTIONS") {
    res.set_header("Allow", "GET, HEAD, OPTIONS");
    return refuse(405, "method not allowed: the API is read-only (GET, HEAD, OPTIONS)\n");
  }
  // No endpoint takes a body, and 0.11.4 would not read one for GET: its bytes would be
  // parsed as the next request on the connection (request smuggling behind a proxy).
  if (req.has_header("Transfer-Encoding") || req.get_header_value_count("Content-Length") > 1 ||
      (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0")) {
    return refuse(400, "a request body is not accepted\n");
  }
  if (req.version == "HTTP/1.1" && req.get_header_value_count("Host") != 1) {
    return refuse(400, "an HTTP/1.1 request needs exactly one Host header\n");
  }
  if (req.path.find('\0') != std::string::npos || !IsValidUtf8(req.path)) {
    return refuse(400, "the path is not valid UTF-8\n");
  }
  return httplib::Server::HandlerResponse::Unhandled;
}

GuardedServer::GuardedServer(GuardLimits limits) : limits_(limits) {
  const int workers = limits_.workers;
  new_task_queue = [workers] { return new httplib::ThreadPool(static_cast<size_t>(workers)); };
  set_tcp_nodelay(true);
  // SO_REUSEADDR only: httplib's default SO_REUSEPORT would let a second daemon bind the
  // same port and take part of the scrapes.
  set_socket_options([](socket_t s) {
    int yes = 1;
    ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
}

GuardedServer::~GuardedServer() = default;

void GuardedServer::SetTls(std::shared_ptr<SSL_CTX> ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  tls_ = std::move(ctx);
}

std::shared_ptr<SSL_CTX> GuardedServer::Tls() {
  std::lock_guard<std::mutex> lock(mu_);
  return tls_;
}

bool GuardedServer::TakeSlot(const std::string& ip) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_client_.find(ip);
  const int mine = it == per_client_.end() ? 0 : it->second;
  // The last workers are kept for clients that hold none yet (a scraper), so that many
  // clients at their cap together cannot take every worker.
  const bool reserve = connections_ >= limits_.workers - limits_.reserved_workers;
  if (mine >= limits_.max_connections_per_client || (reserve && mine > 0)) return false;
  ++per_client_[ip];
  ++connections_;
  return true;
}

void GuardedServer::ReleaseSlot(const std::string& ip) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_client_.find(ip);
  if (it != per_client_.end() && --it->second <= 0) per_client_.erase(it);
  --connections_;
}

void GuardedServer::Loop(ConnStream& strm, SSL* ssl, const std::function<bool()>& stop) {
  bool first = true;
  for (size_t n = keep_alive_max_count_; n > 0; --n) {
    const int idle =
        first ? limits_.head_deadline_ms : static_cast<int>(keep_alive_timeout_sec_ * 1000);
    first = false;
    if (stop() || !strm.WaitNext(idle, stop)) return;
    strm.BeginRequest(limits_.head_deadline_ms, limits_.head_budget);
    // The whole head within the deadline and budget before httplib parses any of it.
    if (!strm.BufferHead()) {
      if (strm.exhausted()) strm.write(k431, sizeof k431 - 1);
      return;
    }
    // Range is ignored: no endpoint needs it, and 0.11.4 parses it with std::regex (deep
    // recursion: megabytes of stack per worker for an 8 KB header) and answers every listed
    // range (2,700 copies of the bundle).
    strm.DropHeader("range");
    t_close_after = false;
    bool closed = false;
    const bool ok =
        process_request(strm, n == 1, closed, [ssl](httplib::Request& r) { r.ssl = ssl; });
    if (!ok || closed || t_close_after || strm.exhausted()) return;
  }
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  int one = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(sock, F_SETFL, ::fcntl(sock, F_GETFL) | O_NONBLOCK);
  if (on_connection_) {
    bool check = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const auto now = Clock::now();
      check = now - last_check_ >= std::chrono::seconds(1);
      if (check) last_check_ = now;
    }
    if (check) on_connection_();
  }
  {
    const int write_wait_ms =
        static_cast<int>(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000);
    SocketConn conn(sock, write_wait_ms, limits_.response_deadline_ms);
    // The TLS handshake and the first request head share one deadline.
    conn.BeginRequest(limits_.head_deadline_ms, limits_.head_budget);
    std::string ip;
    int port = 0;
    conn.get_remote_ip_and_port(ip, port);
    if (!TakeSlot(ip)) {
      conn.write(k503Busy, sizeof k503Busy - 1);
    } else {
      const std::shared_ptr<SSL_CTX> ctx = Tls();
      if (!ctx || conn.AcceptTls(ctx.get())) {
        Loop(conn, conn.ssl(), [this] { return svr_sock_ == INVALID_SOCKET; });
      }
      ReleaseSlot(ip);
    }
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return true;
}

void GuardedServer::RaiseBacklog() {
  const socket_t sock = svr_sock_;
  if (sock != INVALID_SOCKET) ::listen(sock, SOMAXCONN);  // Linux: updates a listening socket
}

std::string GuardedServer::ServeBytes(const std::string& input, const std::string& client_ip) {
  MemoryConn conn(input, client_ip);
  Loop(conn, nullptr, [] { return false; });
  return std::move(conn.out());
}

}  // namespace isoscope::native
