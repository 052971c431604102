// What a server is told at start: where to listen, how many loops, and the limits
// docs/behaviour.md sets. Plain data; the CLI fills it, the layers read it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace hiserve {

// Per-request limits the http layer enforces.
struct Limits {
  std::size_t max_head_bytes = 8192;     // request line + headers (and trailers), else 431
  std::size_t max_body_bytes = 1 << 20;  // decoded body, Content-Length or chunked, else 413
};

// The access log's line format: nginx's combined, or one JSON object a line.
enum class AccessLogFormat : std::uint8_t { Combined, Json };

struct Config {
  std::string host = "127.0.0.1";
  int port = 8080;            // 0: any free port (Server::port() tells which)
  unsigned threads = 0;       // loops; 0: one per core
  std::size_t max_connections = 10000;
  Limits limits;
  double header_timeout_s = 10;  // a request head must arrive within this
  double idle_timeout_s = 60;    // a keep-alive connection may sit idle this long
  double shutdown_grace_s = 5;   // on stop, in-flight requests get this long
  double trim_interval_s = 10;   // pooled blocks unused this long go back to the allocator
  double stats_interval_s = 0;   // log Stats to stderr this often while running; 0: never
  std::string counter = "file:hiserve.counter";  // where the visitor count lives (docs/counter.md)
  std::uint64_t counter_block = 1000;             // numbers per lease
  // The metrics listener (/metrics, /debug/pprof/profile): off when metrics_port < 0.
  std::string metrics_host;
  int metrics_port = -1;  // 0: any free port (Server::metrics_port() tells which)
  std::string pid_file;    // written once ready, removed at a normal stop; empty: none
  std::string access_log;  // a file, appended to; empty: off
  AccessLogFormat access_log_format = AccessLogFormat::Combined;
};

}  // namespace hiserve
