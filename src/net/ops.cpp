#include "ops.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <cstdio>
#include <cstdlib>

#include "hiserve/alloc.hpp"
#include "hiserve/form.hpp"
#include "hiserve/net/server.hpp"
#include "metrics_text.hpp"
#include "process_stats.hpp"

#ifdef HISERVE_PROFILER
#include <gperftools/profiler.h>
#endif

namespace hiserve {
namespace {

enum Handler : std::uint8_t { kMetrics, kProfile, kHealth, kReady, kNotFound };

constexpr std::string_view kNotFoundText = "404 page not found\n";
constexpr std::string_view kProfileType = "application/octet-stream";
// Go's net/http/pprof: 30 s unless told; docs/operations.md bounds it.
constexpr int kDefaultSeconds = 30, kMaxSeconds = 120;

Plan plan_ops(const RequestHead& head, Arena&) {
  Plan plan;
  // Any method, as promhttp and net/http/pprof allow; neither reads a body (so, as in
  // Go, Expect: 100-continue gets the answer at once and the connection closes).
  const std::string_view path = head.target.path;
  plan.handler = path == "/metrics"               ? kMetrics
                 : path == "/debug/pprof/profile" ? kProfile
                 : path == "/healthz"             ? kHealth
                 : path == "/readyz"              ? kReady
                                                  : kNotFound;
  return plan;
}

int write_text(OutBuf& out, int status, std::string_view text, ConnHeader conn, bool head_only,
               const DateCache& date) {
  write_response(out, {status, kTextPlain, true, text.size(), conn}, text, head_only, date);
  return status;
}

#ifdef HISERVE_PROFILER
// `seconds` from the query: kDefaultSeconds when absent, 0 when not an integer in
// 1..kMaxSeconds.
int profile_seconds(const Request& req, Arena& arena) {
  const FormValue v = form_value(req.parts.query, "seconds", arena);
  if (!v.found) return kDefaultSeconds;
  if (v.value.empty() || v.value.size() > 3) return 0;
  int n = 0;
  for (char c : v.value) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n >= 1 && n <= kMaxSeconds ? n : 0;
}
#endif

}  // namespace

Ops::Ops(const Server& server)
    : server_(server), router_{plan_ops, serve, defer, cancel, drain, this}, text_(std::make_unique<char[]>(kTextCap)) {}

Ops::~Ops() {
  if (!profile_path_.empty()) ::unlink(profile_path_.c_str());
}

int Ops::attach(uv_loop_t* loop) noexcept {
  if (int r = uv_timer_init(loop, &timer_)) return r;
  timer_.data = this;
  timer_ready_ = true;
  return 0;
}

Served Ops::serve(const Request& req, const Plan& plan, ConnHeader conn, const ServeContext& ctx, OutBuf& out) {
  Ops& ops = *static_cast<Ops*>(ctx.state);
  const bool head_only = req.method == Method::Head;
  switch (plan.handler) {
    case kMetrics: return Served::now(ops.serve_metrics(head_only, conn, *ctx.date, out));
    case kProfile: return ops.serve_profile(req, conn, ctx, out);
    case kHealth: return Served::now(write_text(out, 200, "ok\n", conn, head_only, *ctx.date));  // this loop runs
    case kReady: return Served::now(ops.serve_ready(head_only, conn, *ctx.date, out));
    default: return Served::now(write_text(out, 404, kNotFoundText, conn, head_only, *ctx.date));
  }
}

int Ops::serve_metrics(bool head_only, ConnHeader conn, const DateCache& date, OutBuf& out) {
  ProcessStats process;
  read_process_stats(&process);
  const std::size_t n =
      write_metrics(text_.get(), kTextCap, server_.stats(), server_.store_status(), process, server_.store_master());
  if (n == 0) return write_text(out, 500, "metrics text over its buffer\n", conn, head_only, date);
  write_response(out, {200, kMetricsContentType, false, n, conn}, {text_.get(), n}, head_only, date);
  return 200;
}

int Ops::serve_ready(bool head_only, ConnHeader conn, const DateCache& date, OutBuf& out) {
  const Readiness r = server_.readiness();
  if (r == Readiness::Ready) return write_text(out, 200, "ready\n", conn, head_only, date);
  char text[64];
  const int n = std::snprintf(text, sizeof text, "not ready: %s\n", readiness_text(r));
  return write_text(out, 503, {text, static_cast<std::size_t>(n)}, conn, head_only, date);
}

Served Ops::serve_profile(const Request& req, ConnHeader conn, const ServeContext& ctx, OutBuf& out) {
  const bool head_only = req.method == Method::Head;
  const DateCache& date = *ctx.date;
#ifndef HISERVE_PROFILER
  (void)req;
  return Served::now(write_text(out, 501, "this hiserve was built without gperftools' libprofiler: no CPU profiles\n", conn,
                    head_only, date));
#else
  const int seconds = profile_seconds(req, *ctx.arena);
  if (seconds == 0) return Served::now(write_text(out, 400, "seconds must be an integer from 1 to 120\n", conn, head_only, date));
  ProfilerState state;
  ProfilerGetCurrentState(&state);
  if (profiling_ || state.enabled) return Served::now(write_text(out, 409, "a CPU profile is already running\n", conn, head_only, date));
  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/hiserve-cpu-XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd >= 0) ::close(fd);
  // ProfilerStart samples every thread (ITIMER_PROF counts the whole process's CPU).
  if (fd < 0 || !ProfilerStart(path.c_str())) {
    if (fd >= 0) ::unlink(path.c_str());
    return Served::now(write_text(out, 500, "could not start the CPU profiler\n", conn, head_only, date));
  }
  profile_path_ = std::move(path);
  profiling_ = true;
  uv_timer_start(&timer_, on_timer, static_cast<std::uint64_t>(seconds) * 1000, 0);
  return Served::deferred();
#endif
}

void Ops::defer(void* ops, DeferredResponse to) noexcept {
  Ops& o = *static_cast<Ops*>(ops);
  assert(o.profiling_ && !o.waiter_.connection);
  o.waiter_ = to;
}

void Ops::cancel(void* ops, void* connection) noexcept {
  Ops& o = *static_cast<Ops*>(ops);
  if (o.waiter_.connection != connection) return;
  o.waiter_ = {};
  o.finish_profile();
}

void Ops::drain(void* ops) noexcept {
  Ops& o = *static_cast<Ops*>(ops);
  o.finish_profile();
  if (o.timer_ready_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&o.timer_)))
    uv_close(reinterpret_cast<uv_handle_t*>(&o.timer_), nullptr);
}

void Ops::on_timer(uv_timer_t* t) noexcept { static_cast<Ops*>(t->data)->finish_profile(); }

void Ops::finish_profile() noexcept {
  if (!profiling_) return;
  profiling_ = false;
  uv_timer_stop(&timer_);
#ifdef HISERVE_PROFILER
  ProfilerStop();
#endif
  // The profile is a local file of some kilobytes: read on this loop, which serves
  // nothing but operators.
  char* body = nullptr;
  std::size_t len = 0;
  bool ok = false;
  const int fd = ::open(profile_path_.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0) {
    len = static_cast<std::size_t>(st.st_size);
    body = static_cast<char*>(mem::alloc(len ? len : 1));
    std::size_t got = 0;
    while (got < len) {
      const ssize_t n = ::read(fd, body + got, len - got);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    ok = got == len;
  }
  if (fd >= 0) ::close(fd);
  ::unlink(profile_path_.c_str());
  profile_path_.clear();
  if (const DeferredResponse to = waiter_; to.connection) {
    waiter_ = {};
    if (ok) to.write(to.connection, 200, kProfileType, {body, len});
    else to.write(to.connection, 500, kTextPlain, "could not read the CPU profile\n");
  }
  mem::release(body);
}

}  // namespace hiserve
