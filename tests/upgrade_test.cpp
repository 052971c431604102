// Upgrades by handover (SIGUSR2) with real processes under Go's net/http client:
// five in a row with nothing failed and no number twice, the failures that leave the
// old process serving, a second SIGUSR2 meanwhile, and /readyz while handing over.
// The test is its processes' subreaper, so each new hiserve becomes its child once the
// one before it exits, and is waited for by pid.
#include <doctest/doctest.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "http_client.hpp"
#include "process.hpp"

using namespace test;
using Clock = std::chrono::steady_clock;

namespace {

const bool g_subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

pid_t pid_in(const std::string& pid_file) { return static_cast<pid_t>(std::atol(slurp(pid_file).c_str())); }

// This test's hiserve children (the ones it started, and the ones it inherited as
// their parents exited).
std::vector<pid_t> hiserve_children() {
  std::vector<pid_t> pids;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = slurp(e.path() / "stat");
    const std::size_t close = stat.rfind(')');
    if (close == std::string::npos || stat.find("(hiserve)") == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(stat.c_str() + close + 2, "%c %d", &state, &ppid) == 2 && ppid == getpid() && state != 'Z')
      pids.push_back(std::stoi(name));
  }
  return pids;
}

// Waits for pid (a child) to exit; its status, or -1 after timeout_s.
int wait_exit(pid_t pid, double timeout_s = 15) {
  const auto end = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (Clock::now() < end) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

// A process this test inherited: killed and reaped if the test leaves it running.
struct Inherited {
  pid_t pid = 0;
  ~Inherited() {
    if (pid > 0 && kill(pid, SIGKILL) == 0) waitpid(pid, nullptr, 0);
  }
  // SIGTERM; its exit status (-1: not within 15 s).
  int stop() {
    const int status = kill(pid, SIGTERM) == 0 ? wait_exit(pid) : -1;
    if (status != -1) pid = 0;
    return status;
  }
};

// The next stderr line (from any generation: they share the pipe) that contains
// `what`; the lines before it go to *skipped.
std::string line_with(Process& p, const std::string& what, std::vector<std::string>* skipped, double timeout_s = 15) {
  const auto end = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (Clock::now() < end) {
    const std::string l = p.line(std::chrono::duration<double>(end - Clock::now()).count());
    if (l.find(what) != std::string::npos) return l;
    if (!l.empty()) skipped->push_back(l);
  }
  return "";
}

struct Totals {
  long ok = -1, other = -1, failed = -1;
  double fresh_max_ms = -1;
  std::vector<std::uint64_t> numbers;
  std::string errors;
};

Totals parse_client(const std::string& said) {
  Totals t;
  std::istringstream in(said);
  std::string line;
  std::getline(in, line);
  std::sscanf(line.c_str(), "ok=%ld other=%ld failed=%ld fresh_max_ms=%lf", &t.ok, &t.other, &t.failed, &t.fresh_max_ms);
  while (std::getline(in, line)) {
    if (line.rfind("error", 0) == 0) t.errors += line + "\n";
    else t.numbers.push_back(std::stoull(line));
  }
  return t;
}

// Go's client as load: keep-alive, a new connection per request, pipelined batches.
std::string load_command(int port, int keep_alive, int fresh, int pipelined, int seconds) {
  return std::string(HISERVE_GOCLIENT) + " -url http://127.0.0.1:" + std::to_string(port) + "/hi -c " +
         std::to_string(keep_alive) + " -fresh " + std::to_string(fresh) + " -pipeline " + std::to_string(pipelined) +
         " -duration " + std::to_string(seconds) + "s -numbers";
}

void install(const std::string& from, const std::string& to, mode_t mode) {
  // As a package manager does: a whole new file renamed over the running binary.
  std::filesystem::copy_file(from, to + ".tmp", std::filesystem::copy_options::overwrite_existing);
  REQUIRE(chmod((to + ".tmp").c_str(), mode) == 0);
  REQUIRE(std::rename((to + ".tmp").c_str(), to.c_str()) == 0);
}

void install_script(const std::string& text, const std::string& to) {
  std::ofstream(to + ".tmp") << text;
  REQUIRE(chmod((to + ".tmp").c_str(), 0755) == 0);
  REQUIRE(std::rename((to + ".tmp").c_str(), to.c_str()) == 0);
}

std::uint64_t visitor(int port) {
  const auto r = fetch(port, "GET /hi HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  return std::stoull(r->body.substr(r->body.find("number ") + 7));
}

}  // namespace

TEST_CASE("five upgrades under load, 1 s apart: nothing refused or failed, no number twice, one hiserve after each") {
  REQUIRE(g_subreaper);
  TempDir dir;
  const std::string counter = "file:" + dir.path + "/count", pid_file = dir.path + "/hiserve.pid";
  Hiserve h({"--counter", counter, "--pid-file", pid_file, "--metrics-addr", "127.0.0.1:0", "--access-log",
             dir.path + "/access.log"});
  // A second of the same load first, so the leases have grown to it: a store that
  // starts at --counter-block under a sudden flood can answer 503 (docs/counter.md),
  // upgrade or not.
  const Totals warm = parse_client(run_shell(load_command(h.port, 32, 4, 2, 1)));
  std::string client_said;
  std::thread client([&] { client_said = run_shell(load_command(h.port, 32, 4, 2, 9)); });
  Inherited current;
  std::vector<double> ready_ms;
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const pid_t old = pid_in(pid_file);
    const auto t0 = Clock::now();
    REQUIRE(kill(old, SIGUSR2) == 0);
    std::vector<std::string> skipped;
    const std::string took = line_with(h.proc, "took over from pid " + std::to_string(old), &skipped);
    REQUIRE_MESSAGE(!took.empty(), "upgrade " << i + 1);
    ready_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    // The old process drains and exits 0; the new one is the only hiserve, in the pid file.
    const int status = old == h.proc.pid() ? h.proc.wait() : wait_exit(old);
    CHECK_MESSAGE(status == 0, "pid " << old << " ended with status " << status);
    current.pid = pid_in(pid_file);
    CHECK(current.pid != old);
    CHECK(hiserve_children() == std::vector<pid_t>{current.pid});
    const auto ready = fetch(h.metrics_port, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(ready);
    CHECK(ready->status == 200);
    // Besides the new process's own start lines, at most the last old one's "handed over".
    for (const std::string& l : skipped)
      CHECK_MESSAGE((l.rfind("Starting on", 0) == 0 || l.rfind("Metrics on", 0) == 0 || l.find("handed over to") != std::string::npos), l);
  }
  client.join();
  const Totals t = parse_client(client_said);
  CHECK_MESSAGE(t.failed == 0, client_said.substr(0, 2000));
  CHECK_MESSAGE(t.other == 0, client_said.substr(0, 2000));
  CHECK(t.ok > 1000);
  CHECK(static_cast<long>(t.numbers.size()) == t.ok);
  std::set<std::uint64_t> seen(t.numbers.begin(), t.numbers.end());
  seen.insert(warm.numbers.begin(), warm.numbers.end());
  CHECK(seen.size() == t.numbers.size() + warm.numbers.size());

  // SIGTERM: exit 0, the pid file gone; a restart goes on above every number given.
  CHECK(current.stop() == 0);
  CHECK_FALSE(std::filesystem::exists(pid_file));
  // Every response of every process has its access-log line: none lost at a handover.
  std::ifstream log(dir.path + "/access.log");
  long lines = 0, ok_lines = 0;
  for (std::string l; std::getline(log, l); ++lines) ok_lines += l.find("\" 200 ") != std::string::npos;
  CHECK(lines == warm.ok + warm.other + t.ok + t.other);
  CHECK(ok_lines == warm.ok + t.ok);
  Hiserve again({"--counter", counter});
  const std::uint64_t highest = *seen.rbegin();
  CHECK(visitor(again.port) > highest);
  std::sort(ready_ms.begin(), ready_ms.end());
  MESSAGE(t.ok << " requests answered 200 during 5 upgrades, " << t.failed << " failed; slowest new-connection request "
                << t.fresh_max_ms << " ms; SIGUSR2 to ready: median " << ready_ms[2] << " ms, worst " << ready_ms[4]
                << " ms; visitor numbers skipped: " << (highest - seen.size()) / 5 << " per upgrade");
}

TEST_CASE("a failed upgrade (exits 1, not executable, never ready) leaves the old process serving, with one line") {
  REQUIRE(g_subreaper);
  TempDir dir;
  const std::string binary = dir.path + "/hiserve", pid_file = dir.path + "/hiserve.pid";
  install(hiserve_binary(), binary, 0755);
  Hiserve h({"--counter", "file:" + dir.path + "/count", "--pid-file", pid_file}, binary);
  std::string client_said;
  std::thread client([&] { client_said = run_shell(load_command(h.port, 8, 2, 1, 16)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const struct {
    const char* what;
    std::function<void()> put;
    std::string line;
  } failures[] = {
      {"a script that exits 1", [&] { install_script("#!/bin/sh\nexit 1\n", binary); },
       "upgrade failed: the new process exited with status 1; pid "},
      {"a file that is not executable", [&] { install(hiserve_binary(), binary, 0644); },
       "upgrade failed: cannot run " + binary + ": Permission denied; pid "},
      {"a process that never says ready", [&] { install_script("#!/bin/sh\nexec sleep 60\n", binary); },
       "upgrade failed: the new process was not ready within 10 s; pid "},
  };
  for (const auto& f : failures) {
    CAPTURE(f.what);
    f.put();
    REQUIRE(kill(h.proc.pid(), SIGUSR2) == 0);
    std::vector<std::string> skipped;
    CHECK(!line_with(h.proc, f.line, &skipped).empty());
    CHECK(skipped.empty());
    CHECK(h.proc.line(0.3).empty());  // exactly one line
    CHECK(pid_in(pid_file) == h.proc.pid());
    CHECK(hiserve_children() == std::vector<pid_t>{h.proc.pid()});
    // No child left behind: the old process's children file lists none.
    const std::string children = "/proc/" + std::to_string(h.proc.pid()) + "/task/" + std::to_string(h.proc.pid()) + "/children";
    const auto end = Clock::now() + std::chrono::seconds(5);
    while (!slurp(children).empty() && Clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECK(slurp(children).empty());
  }
  // And then a good one.
  install(hiserve_binary(), binary, 0755);
  REQUIRE(kill(h.proc.pid(), SIGUSR2) == 0);
  std::vector<std::string> skipped;
  CHECK(!line_with(h.proc, "took over from pid " + std::to_string(h.proc.pid()), &skipped).empty());
  CHECK(h.proc.wait() == 0);
  Inherited next{pid_in(pid_file)};
  CHECK(next.pid != h.proc.pid());
  client.join();
  const Totals t = parse_client(client_said);
  CHECK_MESSAGE(t.failed == 0, client_said.substr(0, 2000));
  CHECK_MESSAGE(t.other == 0, client_said.substr(0, 2000));
  CHECK(std::set<std::uint64_t>(t.numbers.begin(), t.numbers.end()).size() == t.numbers.size());
  CHECK(next.stop() == 0);
}

TEST_CASE("a second SIGUSR2 while one is under way: one upgrade, one line") {
  REQUIRE(g_subreaper);
  TempDir dir;
  const std::string binary = dir.path + "/hiserve", pid_file = dir.path + "/hiserve.pid";
  install(hiserve_binary(), binary, 0755);
  std::filesystem::create_directory(dir.path + "/real");
  install(hiserve_binary(), dir.path + "/real/hiserve", 0755);
  Hiserve h({"--counter", "memory", "--pid-file", pid_file}, binary);
  // A new binary that takes its time to start, so the second signal finds it under way.
  install_script("#!/bin/sh\nsleep 0.5\nexec " + dir.path + "/real/hiserve \"$@\"\n", binary);
  const std::uint64_t before = visitor(h.port);
  REQUIRE(kill(h.proc.pid(), SIGUSR2) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(kill(h.proc.pid(), SIGUSR2) == 0);
  std::vector<std::string> skipped;
  CHECK(!line_with(h.proc, "took over from pid " + std::to_string(h.proc.pid()), &skipped).empty());
  CHECK(h.proc.wait() == 0);
  Inherited next{pid_in(pid_file)};
  const auto ignored = std::count_if(skipped.begin(), skipped.end(), [](const std::string& l) {
    return l.find("SIGUSR2 ignored: an upgrade is under way") != std::string::npos;
  });
  CHECK_MESSAGE(ignored == 1, skipped.size() << " lines");
  CHECK(hiserve_children() == std::vector<pid_t>{next.pid});
  // --counter memory goes on above the old process's reservations.
  CHECK(visitor(h.port) > before);
  CHECK(next.stop() == 0);
}

TEST_CASE("/readyz: the old process answers draining once handed over, the new one ready") {
  REQUIRE(g_subreaper);
  TempDir dir;
  const std::string pid_file = dir.path + "/hiserve.pid";
  Hiserve h({"--counter", "file:" + dir.path + "/count", "--pid-file", pid_file, "--metrics-addr", "127.0.0.1:0"});
  // Requests under way on the old process: a probe's, and a visitor's.
  Client probe(h.metrics_port), guest(h.port);
  REQUIRE(probe.send("GET /readyz HTTP/1.1\r\nHost: x\r\n"));
  REQUIRE(guest.send("GET /hi HTTP/1.1\r\nHost: x\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // both heads reach the old process
  REQUIRE(kill(h.proc.pid(), SIGUSR2) == 0);
  std::vector<std::string> skipped;
  REQUIRE(!line_with(h.proc, "handed over to pid", &skipped).empty());
  Inherited next{pid_in(pid_file)};
  REQUIRE(probe.send("\r\n"));
  const auto draining = probe.read_response();
  REQUIRE(draining);
  CHECK(draining->status == 503);
  CHECK(draining->body == "not ready: draining\n");
  CHECK(draining->header("connection") == "close");
  REQUIRE(guest.send("\r\n"));
  const auto served = guest.read_response();
  REQUIRE(served);
  CHECK(served->status == 200);
  CHECK(served->header("connection") == "close");
  CHECK(h.proc.wait() == 0);
  const auto ready = fetch(h.metrics_port, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  CHECK(next.stop() == 0);
}

TEST_CASE("a new process that wants other listeners (more CPUs now, so more loops) refuses; the old one goes on") {
  if (std::thread::hardware_concurrency() < 2) {
    MESSAGE("one CPU: no second loop to want; skipped");
    return;
  }
  // --threads defaults to the CPUs this process may run on: one, under taskset.
  Process old({"taskset", "-c", "0", hiserve_binary(), "--port", "0", "--counter", "memory"});
  int port = 0;
  REQUIRE(std::sscanf(old.line().c_str(), "Starting on port %d", &port) == 1);
  // Its main thread, which starts the new process, may use two CPUs from now on.
  REQUIRE(run_shell("taskset -p -c 0,1 " + std::to_string(old.pid()) + " >/dev/null; echo $?") == "0\n");
  REQUIRE(kill(old.pid(), SIGUSR2) == 0);
  std::vector<std::string> skipped;
  const std::string line = line_with(old, "upgrade failed", &skipped);
  CHECK(line == "hiserve: upgrade failed: the new process refused: the old process hands 1 listeners for --host, "
                "this one wants 2 (2 loops x 1 addresses); pid " + std::to_string(old.pid()) + " goes on serving");
  CHECK(skipped.empty());
  CHECK(visitor(port) == 1);  // still the old process: the count it started
  old.signal(SIGTERM);
  CHECK(old.wait() == 0);
}
