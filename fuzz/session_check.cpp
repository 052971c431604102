#include "session_check.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "hiserve/http/session.hpp"

namespace fuzz {
namespace {

using hiserve::Session;

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// The statuses hiserve sends.
bool known_status(int s) {
  for (int k : {100, 200, 301, 400, 404, 413, 417, 431, 501, 505})
    if (s == k) return true;
  return false;
}

struct Parsed {
  int responses = 0;    // final (non-100) responses
  bool last_closes = false;  // the last one had Connection: close
  std::string error;
};

// out must be whole responses, back to back. A HEAD answer has a Content-Length and
// no body; no body hiserve writes starts with "HTTP/", which tells the two apart.
Parsed parse_responses(std::string_view out) {
  Parsed r;
  const std::string_view all = out;
  auto fail = [&](std::string why) {
    r.error = why + " in output: " + std::string(all.substr(0, 300));
    return r;
  };
  while (!out.empty()) {
    if (r.last_closes) return fail("a response after Connection: close");
    if (!starts_with(out, "HTTP/1.1 ") || out.size() < 13 || out[12] != ' ') return fail("bad status line");
    const int status = std::atoi(std::string(out.substr(9, 3)).c_str());
    if (!known_status(status)) return fail("unexpected status " + std::to_string(status));
    const std::size_t end = out.find("\r\n\r\n");
    if (end == std::string_view::npos) return fail("head not terminated");
    std::string_view head = out.substr(0, end + 2);
    out.remove_prefix(end + 4);
    if (status == 100) {
      if (head != "HTTP/1.1 100 Continue\r\n") return fail("bad 100 Continue");
      continue;
    }
    const std::size_t cl = head.find("\r\nContent-Length: ");
    if (cl == std::string_view::npos || head.find("\r\nContent-Length: ", cl + 1) != std::string_view::npos)
      return fail("not exactly one Content-Length");
    if (head.find("\r\nDate: ") == std::string_view::npos) return fail("no Date");
    const std::size_t length = std::strtoul(std::string(head.substr(cl + 18)).c_str(), nullptr, 10);
    r.last_closes = head.find("\r\nConnection: close\r\n") != std::string_view::npos;
    if (status >= 400 && status != 400 && status != 404 && !r.last_closes)
      return fail("protocol error without Connection: close");
    ++r.responses;
    const bool head_reply = length > 0 && (out.empty() || starts_with(out, "HTTP/1.1 ")) && status < 413;
    if (head_reply) continue;
    if (out.size() < length) return fail("body shorter than Content-Length");
    out.remove_prefix(length);
  }
  return r;
}

// xorshift: read sizes from the input's seed, so a finding replays exactly.
struct Rng {
  std::uint32_t s;
  std::uint32_t next() {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return s;
  }
};

// Runs the input through a Session, quick heads on or off; "" or what broke, and
// everything the session wrote (with where it closed) in *transcript. With quick heads
// the session also gives way to its memo after every read that leaves it idle, as an
// idle connection's does, and a new one carries on from it.
std::string run_session(const std::uint8_t* data, std::size_t size, bool quick_heads, std::string* transcript,
                        std::string* log_text) {
  const std::uint8_t opts = data[0];
  static constexpr std::size_t kHead[] = {64, 300, 8192, 8192};
  static constexpr std::size_t kBody[] = {0, 10, 1000, 1 << 20};
  static constexpr std::size_t kRead[] = {1, 2, 7, 16, 64, 512, 4096, 65536};
  const hiserve::Limits limits{kHead[opts & 3], kBody[(opts >> 2) & 3]};
  const bool stop_midway = opts & 0x10;
  const std::size_t max_read = kRead[opts >> 5];
  Rng rng{0x9e3779b9u ^ (data[1] * 0x01000193u)};
  const char* in = reinterpret_cast<const char*>(data + 2);
  std::size_t left = size - 2;

  hiserve::BlockPool pool(hiserve::kChunkSize);
  std::string error;
  {
    hiserve::DateCache date;
    date.refresh(784111777);
    hiserve::LeasedCounter visitors;
    visitors.install(1, hiserve::kEveryNumber);
    hiserve::LoopStats stats;
    hiserve::SessionEnv env{limits, &pool, &visitors, &date, &stats};
    env.quick_heads = quick_heads;
    // The access log on, into memory: a line per answer, the same lines either way.
    const int log_fd = memfd_create("access.log", MFD_CLOEXEC);
    hiserve::AccessLog log(log_fd, data[1] & 1 ? hiserve::AccessLogFormat::Json : hiserve::AccessLogFormat::Combined,
                           date, stats);
    env.access_log = &log;
    // Two sessions take turns with quick heads, as sessions do between a loop's
    // connections: each idle read hands the stream to the other through its memo.
    Session sessions[2] = {Session(env), Session(env)};
    Session* live = &sessions[0];
    hiserve::OutBuf out(pool);
    int responses = 0;
    bool closed = false;
    while (left > 0 && !closed && error.empty()) {
      const bool stopping = stop_midway && left <= (size - 2) / 2;
      Session& session = *live;
      if (stopping) session.close_after_response();
      // Each read in its own exact-size heap block, freed after the feed: ASan flags
      // any byte read past it, and any view kept into it once it is gone.
      const std::size_t n = 1 + rng.next() % std::min(left, max_read);
      char* buf = static_cast<char*>(std::malloc(n));
      std::memcpy(buf, in, n);
      in += n;
      left -= n;
      std::size_t off = 0;
      std::string written;
      while (off < n) {
        Session::Result r = session.feed(buf + off, n - off, out);
        if (r.consumed > n - off) error = "consumed more than it was given";
        // Pipelined requests cannot queue answers without bound: the session stops
        // at kFlushBytes (plus the one answer that crossed it).
        if (out.size() > hiserve::OutBuf::kFlushBytes + 4096) error = "answers queued past the flush bound";
        hiserve::OutBuf::Span spans[64];
        while (!out.empty()) {
          int k = out.spans(spans, 64);
          std::size_t bytes = 0;
          for (int i = 0; i < k; ++i) written.append(spans[i].base, spans[i].len), bytes += spans[i].len;
          out.consume(bytes);
        }
        off += r.consumed;
        if (r.next == Session::Next::Close) {
          closed = true;
          break;
        }
        if (r.next == Session::Next::Read && off != n) error = "Read before all input was consumed";
        if (r.next == Session::Next::Flush && r.consumed == 0 && written.empty()) error = "Flush with nothing to write";
        if (!error.empty()) break;
      }
      std::free(buf);
      *transcript += written;
      if (closed) *transcript += "\n[closed]";
      Parsed p = parse_responses(written);
      if (!p.error.empty() && error.empty()) error = p.error;
      responses += p.responses;
      if (error.empty() && stopping && p.responses > 0 && !closed) error = "answered after a graceful stop and kept reading";
      if (error.empty() && closed != p.last_closes)
        error = closed ? "closed without Connection: close" : "Connection: close but kept reading";
      if (error.empty() && !closed && !session.in_request() && !session.holds_nothing())
        error = "an idle session holds arena memory";
      if (quick_heads && session.idle()) {
        live = live == &sessions[0] ? &sessions[1] : &sessions[0];
        live->restart(session.memo());
      }
    }
    const int expected = static_cast<int>(live->responses());
    if (error.empty() && responses != expected)
      error = "wrote " + std::to_string(responses) + " responses for " + std::to_string(expected) + " answers";
    log.flush();
    const off_t log_size = lseek(log_fd, 0, SEEK_END);
    log_text->resize(static_cast<std::size_t>(log_size > 0 ? log_size : 0));
    if (log_size > 0 && pread(log_fd, log_text->data(), log_text->size(), 0) != log_size) error = "log read back short";
    close(log_fd);
    if (error.empty() && std::count(log_text->begin(), log_text->end(), '\n') != responses)
      error = "logged " + std::to_string(std::count(log_text->begin(), log_text->end(), '\n')) + " lines for " +
              std::to_string(responses) + " responses";
  }
  if (error.empty() && pool.in_use() != 0) error = "pool blocks still in use after the session ended";
  return error;
}

}  // namespace

std::string check_session_input(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return "";
  std::string quick, slow, quick_log, slow_log;
  std::string error = run_session(data, size, true, &quick, &quick_log);
  if (error.empty()) error = run_session(data, size, false, &slow, &slow_log);
  // The quick head reader must answer exactly as llhttp does, read for read, and log
  // the same lines.
  if (error.empty() && quick != slow) error = "quick heads answered otherwise than llhttp";
  if (error.empty() && quick_log != slow_log) error = "quick heads logged otherwise than llhttp";
  return error;
}

}  // namespace fuzz
