// The metrics listener's application (docs/operations.md): GET /metrics renders the
// server's figures in Prometheus text format; /healthz and /readyz answer probes; GET /debug/pprof/profile?seconds=N runs
// gperftools' CPU profiler over the whole process (every loop thread) for N seconds
// and answers from a timer on the metrics loop, so no loop blocks meanwhile. One
// profile at a time. Everything here runs on the metrics loop's thread.
#pragma once
#include <uv.h>

#include <cstddef>
#include <memory>
#include <string>

#include "hiserve/handler.hpp"

namespace hiserve {

class Server;

class Ops {
 public:
  explicit Ops(const Server& server);
  ~Ops();
  Ops(const Ops&) = delete;
  Ops& operator=(const Ops&) = delete;

  const Router& router() const noexcept { return router_; }
  // Sets up the profile's timer on the metrics loop; 0 or a libuv error.
  int attach(uv_loop_t* loop) noexcept;

 private:
  // The Router's calls (handler.hpp): a profile's response is deferred to its end.
  static Served serve(const Request& req, const Plan& plan, ConnHeader conn, const ServeContext& ctx, OutBuf& out);
  // The running profile's response goes to `to` when it ends.
  static void defer(void* ops, DeferredResponse to) noexcept;
  // That connection closes before its response: the profile ends now, unread.
  static void cancel(void* ops, void* connection) noexcept;
  // Graceful stop: a running profile ends now and answers with what it has.
  static void drain(void* ops) noexcept;
  int serve_metrics(bool head_only, ConnHeader conn, const DateCache& date, OutBuf& out);
  // /readyz: 200 "ready", or 503 "not ready: REASON" (Server::readiness).
  int serve_ready(bool head_only, ConnHeader conn, const DateCache& date, OutBuf& out);
  Served serve_profile(const Request& req, ConnHeader conn, const ServeContext& ctx, OutBuf& out);
  static void on_timer(uv_timer_t* t) noexcept;
  // Stops the profiler and answers the waiting connection, if any.
  void finish_profile() noexcept;

  static constexpr std::size_t kTextCap = 32 * 1024;  // /metrics fits with room to spare
  const Server& server_;
  Router router_;
  std::unique_ptr<char[]> text_;
  uv_timer_t timer_;
  bool timer_ready_ = false;
  bool profiling_ = false;
  DeferredResponse waiter_{};  // connection null: none
  std::string profile_path_;
};

}  // namespace hiserve
