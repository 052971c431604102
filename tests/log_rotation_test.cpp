// The access log under the operator's tools and faults: Debian's logrotate with the
// config hiserve ships, forced while Go's net/http client sends requests; and a disk
// that fills up (a 64 KiB tmpfs) while serving goes on.
#include <doctest/doctest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "http_client.hpp"
#include "process.hpp"

using namespace test;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
  return s;
}

// A combined line, whole (nginx's escaping inside the quotes); its status.
const std::regex kCombined(
    R"re(^\S+ - - \[[^\]]+\] "(?:[^"\\]|\\x[0-9A-F]{2})*" (\d{3}) \d+ "(?:[^"\\]|\\x[0-9A-F]{2})*" "(?:[^"\\]|\\x[0-9A-F]{2})*"$)re");

// The figure a /metrics line gives, or -1.
long metric(int metrics_port, const std::string& name) {
  const auto r = fetch(metrics_port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  if (!r) return -1;
  const std::size_t at = r->body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stol(r->body.substr(at + name.size() + 2));
}

}  // namespace

TEST_CASE("logrotate, forced 5 times under load: every 200 has its line, and no line is cut") {
  TempDir dir;
  const std::string log = dir.path + "/access.log", pid_file = dir.path + "/hiserve.pid";
  // The config the package installs, pointed at this test's files.
  std::string config = read_file(std::string(HISERVE_SOURCE_ROOT) + "/contrib/hiserve.logrotate");
  REQUIRE(config.find("/var/log/hiserve/*.log") != std::string::npos);
  config = replace_all(replace_all(config, "/var/log/hiserve/*.log", log), "/run/hiserve/hiserve.pid", pid_file);
  write_file(dir.path + "/logrotate.conf", config);

  Hiserve h({"--counter", "memory", "--access-log", log, "--pid-file", pid_file});
  std::string client_said;
  std::thread client([&] {
    client_said = run_shell(std::string(HISERVE_GOCLIENT) + " -url http://127.0.0.1:" + std::to_string(h.port) +
                            "/hi -c 4 -fresh 2 -duration 7s");
  });
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    int status = -1;
    const std::string said =
        run_shell("logrotate -f -s " + dir.path + "/logrotate.state " + dir.path + "/logrotate.conf", &status);
    CHECK_MESSAGE(status == 0, said);
  }
  client.join();
  h.proc.signal(SIGTERM);
  CHECK(WEXITSTATUS(h.proc.wait()) == 0);

  long ok = -1, other = -1, failed = -1;
  REQUIRE(std::sscanf(client_said.c_str(), "ok=%ld other=%ld failed=%ld", &ok, &other, &failed) == 3);
  INFO(client_said);
  CHECK(ok > 1000);
  CHECK(other == 0);
  CHECK(failed == 0);
  // The live file, the newest rotated one (delaycompress) and the compressed rest.
  int status = -1;
  const std::string files = run_shell("cd " + dir.path + " && ls access.log*", &status);
  CHECK(files == "access.log\naccess.log.1\naccess.log.2.gz\naccess.log.3.gz\naccess.log.4.gz\naccess.log.5.gz\n");
  const std::string all = run_shell("cd " + dir.path + " && cat access.log access.log.1 && zcat access.log.*.gz", &status);
  REQUIRE(status == 0);
  long lines = 0, twos = 0, bad = 0;
  std::istringstream in(all);
  std::smatch m;
  for (std::string l; std::getline(in, l); ++lines) {
    if (!std::regex_match(l, m, kCombined)) {
      if (++bad < 5) MESSAGE("not a whole line: " << l);
      continue;
    }
    twos += m[1] == "200";
  }
  CHECK(bad == 0);
  CHECK(twos == ok);
  CHECK(lines == ok);
  MESSAGE(ok << " 200s through 5 rotations; " << lines << " lines in 6 files, every one whole");
}

TEST_CASE("a full disk: serving goes on, dropped lines are counted, stderr hears of it once") {
  TempDir dir;
  const std::string disk = dir.path + "/disk";
  REQUIRE(mkdir(disk.c_str(), 0700) == 0);
  // A real filesystem that fills up: 64 KiB of tmpfs (the tests run as root, as CI does).
  const int mounted = mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=64k");
  REQUIRE_MESSAGE(mounted == 0, "mount tmpfs: " << std::strerror(errno) << " (this test needs root)");
  struct Unmount {
    std::string path;
    ~Unmount() { umount(path.c_str()); }
  } unmount{disk};
  {
    Hiserve h({"--counter", "memory", "--access-log", disk + "/access.log", "--metrics-addr", "127.0.0.1:0"});
    // Two rounds, each written out by SIGUSR1: 2 x 2,000 lines of about 90 bytes
    // overflow the disk in the first, and fail again in the second.
    constexpr int kPerRound = 2000;
    for (int round = 1; round <= 2; ++round) {
      Client c(h.port);
      for (int i = 0; i < kPerRound; ++i) {
        REQUIRE(c.send("GET /hi HTTP/1.1\r\nHost: x\r\n\r\n"));
        const auto r = c.read_response();
        REQUIRE(r);
        REQUIRE(r->status == 200);
      }
      h.proc.signal(SIGUSR1);
      long written = 0, dropped = 0;
      for (int i = 0; i < 200; ++i) {
        written = metric(h.metrics_port, "hiserve_access_log_lines_total");
        dropped = metric(h.metrics_port, "hiserve_access_log_dropped_lines_total");
        if (written + dropped == round * kPerRound) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      CHECK(written + dropped == round * kPerRound);
      CHECK(dropped > (round - 1) * kPerRound);
      // Every line counted as written is whole in the file.
      const std::string text = read_file(disk + "/access.log");
      CHECK(std::count(text.begin(), text.end(), '\n') == written);
    }
    h.proc.signal(SIGTERM);
    CHECK(WEXITSTATUS(h.proc.wait()) == 0);
    const std::string said = h.proc.rest();
    CHECK(said == "hiserve: access log: write failed (No space left on device); dropping lines until it works again\n");
  }
}
