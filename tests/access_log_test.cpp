// The access log from outside: real hiserve processes writing real files, read back
// after a graceful stop (which writes every buffered line).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "http_client.hpp"
#include "process.hpp"

using namespace test;

namespace {

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// nginx's combined format; inside the quotes, nginx's escaping leaves no '"', and a '\\'
// only to start an \xHH.
#define Q R"re("((?:[^"\\]|\\x[0-9A-F]{2})*)")re"
const std::regex kCombined(R"re(^(\S+) - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] )re" Q
                           R"re( (\d{3}) (\d+) )re" Q " " Q "$");
#undef Q

struct Combined {
  std::string addr, request, referer, user_agent;
  int status = 0;
  long bytes = -1;
};

Combined parse_combined(const std::string& line) {
  std::smatch m;
  Combined c;
  if (!std::regex_match(line, m, kCombined)) return c;
  return {m[1], m[2], m[5], m[6], std::stoi(m[3]), std::stol(m[4])};
}

// Sends raw on a fresh connection and reads until the server closes.
void send_raw(int port, const std::string& raw) {
  Client c(port);
  REQUIRE(c.send(raw));
  c.shutdown_write();
  CHECK(c.wait_closed());
}

// Stops hiserve gracefully: every line it buffered is in the file afterwards.
void stop(Hiserve& h) {
  h.proc.signal(SIGTERM);
  CHECK(WEXITSTATUS(h.proc.wait()) == 0);
}

// One of each response docs/behaviour.md lists, and the request line its log line
// shows. The first eight share one keep-alive connection, pipelined; each protocol
// error closes its own.
const std::vector<std::pair<std::string, std::string>> kPipelined = {
    {"GET /hi HTTP/1.1\r\nHost: x\r\n\r\n", "GET /hi HTTP/1.1"},
    {"HEAD /hi HTTP/1.1\r\nHost: x\r\n\r\n", "HEAD /hi HTTP/1.1"},
    {"GET /hi?color=a%20b HTTP/1.1\r\nHost: x\r\n\r\n", "GET /hi?color=a%20b HTTP/1.1"},
    {"GET /x/../hi HTTP/1.1\r\nHost: x\r\n\r\n", "GET /x/../hi HTTP/1.1"},
    {"HEAD /x/../hi HTTP/1.1\r\nHost: x\r\n\r\n", "HEAD /x/../hi HTTP/1.1"},
    {"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", "GET /nope HTTP/1.1"},
    {"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", "OPTIONS * HTTP/1.1"},
    {"POST /hi HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\n"
     "color=red",
     "POST /hi HTTP/1.1"},
};
const std::vector<std::pair<std::string, std::string>> kErrors = {
    {"GET /hi HTTP/1.1\r\n\r\n", "GET /hi HTTP/1.1"},  // no Host
    {"GET /hi HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999999\r\n\r\n", "GET /hi HTTP/1.1"},
    {"GET /hi HTTP/1.1\r\nHost: x\r\nX: " + std::string(9000, 'a') + "\r\n\r\n", "GET /hi HTTP/1.1"},
    {"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", "BREW /pot HTTP/1.1"},
    {"GET /hi HTTP/2.0\r\nHost: x\r\n\r\n", "GET /hi HTTP/2.0"},
    {"POST /hi HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nContent-Length: 1\r\n\r\nx", "POST /hi HTTP/1.1"},
    {"\x01\r\n\r\n", "-"},
};
const std::vector<int> kStatuses = {200, 200, 400, 301, 301, 404, 200, 200, 400, 413, 431, 501, 505, 417, 400};

// What the client got for each request, in order: its status and body bytes.
struct Got {
  std::string request;
  int status;
  long bytes;
};

std::vector<Got> send_every_kind(int port) {
  std::vector<Got> got;
  Client c(port);
  std::string all;
  for (const auto& [raw, line] : kPipelined) all += raw;
  REQUIRE(c.send(all));
  for (const auto& [raw, line] : kPipelined) {
    const auto r = c.read_response(line.rfind("HEAD", 0) == 0);
    REQUIRE(r);
    got.push_back({line, r->status, static_cast<long>(r->body.size())});
  }
  for (const auto& [raw, line] : kErrors) {
    Client e(port);
    REQUIRE(e.send(raw));
    const auto r = e.read_response();
    REQUIRE(r);
    got.push_back({line, r->status, static_cast<long>(r->body.size())});
    CHECK(e.wait_closed());
  }
  std::vector<int> statuses;
  for (const Got& g : got) statuses.push_back(g.status);
  REQUIRE(statuses == kStatuses);
  return got;
}

// A value with every byte the formats escape, in the target, Referer and User-Agent
// (all of which llhttp and Go let through): '"', '\\', UTF-8 and invalid UTF-8. (0x7F
// and other control bytes are refused with a 400: the refused line below.)
const std::string kOddTarget = "/a\"b\\c";
const std::string kOddValue = "q\"x\\y\xc3\xa9\xff";

}  // namespace

TEST_CASE("combined: one line per response, in order, with status, bytes and address") {
  TempDir dir;
  const std::string log = dir.path + "/access.log";
  Hiserve h({"--counter", "memory", "--threads", "1", "--access-log", log});
  const std::vector<Got> sent = send_every_kind(h.port);
  stop(h);
  const std::vector<std::string> lines = lines_of(log);
  REQUIRE(lines.size() == sent.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Combined got = parse_combined(lines[i]);
    INFO(lines[i]);
    CHECK(got.addr == "127.0.0.1");
    CHECK(got.request == sent[i].request);
    CHECK(got.status == sent[i].status);
    CHECK(got.bytes == sent[i].bytes);
    CHECK(got.referer == "-");
    CHECK(got.user_agent == "-");
  }
}

TEST_CASE("a 503 gets its line too") {
  TempDir dir;
  const std::string log = dir.path + "/access.log";
  // Nothing listens on the store's port: no lease ever comes.
  Hiserve h({"--counter", "redis://127.0.0.1:" + std::to_string(free_port()), "--access-log", log});
  const auto r = fetch(h.port, "GET /hi HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 503);
  stop(h);
  const std::vector<std::string> lines = lines_of(log);
  REQUIRE(lines.size() == 1);
  const Combined got = parse_combined(lines[0]);
  CHECK(got.status == 503);
  CHECK(got.bytes == static_cast<long>(r->body.size()));
}

TEST_CASE("escaping: quotes, backslashes, control bytes and invalid UTF-8 in both formats") {
  TempDir dir;
  const std::string combined_log = dir.path + "/combined.log", json_log = dir.path + "/json.log";
  const std::string request = "GET " + kOddTarget + " HTTP/1.1\r\nHost: x\r\nReferer: " + kOddValue +
                              "\r\nUser-Agent: " + kOddValue + "\r\n\r\n";
  // A control byte is refused (400): the line keeps the value up to it.
  const std::string refused = "GET /hi HTTP/1.1\r\nHost: x\r\nUser-Agent: ab\x01z\r\n\r\n";
  for (const std::string& log : {combined_log, json_log}) {
    Hiserve h({"--counter", "memory", "--threads", "1", "--access-log", log, "--access-log-format",
               log == json_log ? "json" : "combined"});
    REQUIRE(fetch(h.port, request)->status == 404);
    send_raw(h.port, refused);
    stop(h);
  }
  const std::vector<std::string> c = lines_of(combined_log);
  REQUIRE(c.size() == 2);
  const Combined odd = parse_combined(c[0]);
  CHECK(odd.request == R"(GET /a\x22b\x5Cc HTTP/1.1)");
  const std::string escaped = R"(q\x22x\x5Cy\xC3\xA9\xFF)";
  CHECK(odd.referer == escaped);
  CHECK(odd.user_agent == escaped);
  CHECK(parse_combined(c[1]).user_agent == R"(ab\x01)");
  CHECK(parse_combined(c[1]).status == 400);

  // Python's json reads every line back to the bytes sent (an invalid byte as U+00XX).
  int status = -1;
  const std::string decoded = run_shell(
      "python3 -c 'import json,sys\n"
      "for l in open(sys.argv[1], encoding=\"utf-8\"):\n"
      "  o = json.loads(l)\n"
      "  print(ascii([o[k] for k in (\"remote_addr\",\"method\",\"uri\",\"protocol\",\"status\",\"referer\",\"user_agent\",\"visitor\")]))\n"
      "  assert isinstance(o[\"request_time\"], float) and o[\"time\"].endswith(\"Z\")' " +
          json_log,
      &status);
  CHECK(status == 0);
  const std::string odd_json = R"('q"x\\y\xe9\xff')";
  CHECK(decoded == "['127.0.0.1', 'GET', '/a\"b\\\\c', 'HTTP/1.1', 404, " + odd_json + ", " + odd_json + ", None]\n" +
                       "['127.0.0.1', 'GET', '/hi', 'HTTP/1.1', 400, None, 'ab\\x01', None]\n");
}

TEST_CASE("json: every kind of response, each line valid JSON with the visitor number") {
  TempDir dir;
  const std::string log = dir.path + "/access.log";
  Hiserve h({"--counter", "memory", "--threads", "1", "--access-log", log, "--access-log-format", "json"});
  const std::vector<Got> sent = send_every_kind(h.port);
  stop(h);
  int status = -1;
  const std::string out = run_shell(
      "python3 -c 'import json,sys\n"
      "for l in open(sys.argv[1], encoding=\"utf-8\"):\n"
      "  o = json.loads(l)\n"
      "  print(o[\"method\"], o[\"uri\"], o[\"protocol\"], o[\"status\"], o[\"body_bytes_sent\"], o[\"visitor\"])' " +
          log,
      &status);
  CHECK(status == 0);
  // /hi's 200s (HEAD's too, as in Go) gave visitors 1 to 3; nothing else gives a number.
  const std::vector<std::string> visitors = {"1", "2", "None", "None", "None", "None", "None", "3"};
  std::string want;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    std::string line = sent[i].request == "-" ? "None None None" : sent[i].request;
    want += line + " " + std::to_string(sent[i].status) + " " + std::to_string(sent[i].bytes) + " " +
            (i < visitors.size() ? visitors[i] : "None") + "\n";
  }
  CHECK(out == want);
}

TEST_CASE("SIGUSR1 reopens the file by its path; no line is lost or cut") {
  TempDir dir;
  const std::string log = dir.path + "/access.log", pid_file = dir.path + "/hiserve.pid";
  Hiserve h({"--counter", "memory", "--access-log", log, "--pid-file", pid_file});
  int status = -1;
  CHECK(run_shell("cat " + pid_file, &status) == std::to_string(h.proc.pid()) + "\n");
  for (int i = 0; i < 3; ++i) REQUIRE(fetch(h.port, "GET /hi HTTP/1.1\r\nHost: x\r\n\r\n")->status == 200);
  REQUIRE(std::rename(log.c_str(), (log + ".1").c_str()) == 0);
  h.proc.signal(SIGUSR1);
  // The loops write their buffers out after the reopen, into the new file.
  for (int i = 0; i < 50 && lines_of(log).size() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (int i = 0; i < 2; ++i) REQUIRE(fetch(h.port, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")->status == 404);
  stop(h);
  CHECK(access(pid_file.c_str(), F_OK) != 0);  // removed at the stop
  const std::vector<std::string> fresh = lines_of(log);
  CHECK(lines_of(log + ".1").empty());  // nothing was written before the reopen
  REQUIRE(fresh.size() == 5);
  for (std::size_t i = 0; i < fresh.size(); ++i) CHECK(parse_combined(fresh[i]).status == (i < 3 ? 200 : 404));
  // The file is the operator's to read, not the world's.
  struct stat st;
  const int got = ::stat(log.c_str(), &st);
  REQUIRE(got == 0);
  CHECK((st.st_mode & 0777) == 0640);
}

TEST_CASE("an access log that cannot be opened: one line, exit 1, nothing listens") {
  TempDir dir;
  const int port = free_port();
  Process p({hiserve_binary(), "--port", std::to_string(port), "--counter", "memory", "--access-log",
             dir.path + "/missing/access.log"});
  const std::string out = p.rest();
  CHECK(WEXITSTATUS(p.wait()) == 1);
  CHECK(out == "hiserve: cannot open the access log " + dir.path + "/missing/access.log: No such file or directory\n");
  Client c(port);
  CHECK_FALSE(c.connected());
}

TEST_CASE("metrics count the lines written") {
  TempDir dir;
  const std::string log = dir.path + "/access.log";
  Hiserve h({"--counter", "memory", "--access-log", log, "--metrics-addr", "127.0.0.1:0"});
  for (int i = 0; i < 7; ++i) REQUIRE(fetch(h.port, "GET /hi HTTP/1.1\r\nHost: x\r\n\r\n"));
  h.proc.signal(SIGUSR1);  // write the buffers out now
  std::string body;
  for (int i = 0; i < 100; ++i) {
    body = fetch(h.metrics_port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")->body;
    if (body.find("hiserve_access_log_lines_total 7\n") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(body.find("hiserve_access_log_lines_total 7\n") != std::string::npos);
  CHECK(body.find("hiserve_access_log_dropped_lines_total 0\n") != std::string::npos);
  stop(h);
  CHECK(lines_of(log).size() == 7);  // the metrics listener's own requests are not logged
}
