// hiserve as a Linux service: --host names, systemd's readiness protocol with the real
// binary, and what `meson install` installs, checked by systemd-analyze.
#include <doctest/doctest.h>
#include <netdb.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "http_client.hpp"
#include "process.hpp"

using namespace test;

namespace {

// GET /hi to addr:port; the status, or 0 if nothing answered.
int get_hi(const sockaddr* addr, socklen_t len) {
  const int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  int status = 0;
  if (connect(fd, addr, len) == 0) {
    const std::string req = "GET /hi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    REQUIRE(write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size()));
    char buf[512];
    const ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n > 12) std::sscanf(buf, "HTTP/1.1 %d", &status);
  }
  close(fd);
  return status;
}

// A datagram socket standing in for systemd's notification socket.
struct NotifySocket {
  TempDir dir;
  std::string path = dir.path + "/notify";
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  NotifySocket() {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    setenv("NOTIFY_SOCKET", path.c_str(), 1);  // inherited by the binary started next
  }
  ~NotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    close(fd);
  }
  // The next message, or "" after timeout_ms.
  std::string next(int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return "";
    char buf[512];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }
};

}  // namespace

TEST_CASE("--host localhost listens on every address localhost has") {
  Hiserve h({"--host", "localhost", "--threads", "2", "--counter", "memory"});
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  REQUIRE(getaddrinfo("localhost", std::to_string(h.port).c_str(), &hints, &res) == 0);
  int answered = 0, v4 = 0;
  for (const addrinfo* a = res; a; a = a->ai_next) {
    CAPTURE(a->ai_family);
    CHECK(get_hi(a->ai_addr, a->ai_addrlen) == 200);
    ++answered;
    v4 += a->ai_family == AF_INET;
  }
  freeaddrinfo(res);
  CHECK(answered >= 1);
  CHECK(v4 >= 1);  // 127.0.0.1; and ::1 wherever /etc/hosts gives it
  h.proc.signal(SIGTERM);
  CHECK(h.proc.wait() == 0);
}

TEST_CASE("a --host that does not resolve is one line and a non-zero exit") {
  Process p({hiserve_binary(), "--host", "no-such-host.invalid", "--port", "0", "--counter", "memory"});
  const std::string said = p.rest();
  CHECK(said.rfind("hiserve: cannot resolve --host no-such-host.invalid: ", 0) == 0);
  CHECK(std::count(said.begin(), said.end(), '\n') == 1);
  const int status = p.wait();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) != 0);
}

TEST_CASE("systemd readiness: READY=1 once the port answers, STOPPING=1 at a graceful stop") {
  NotifySocket sd;
  Hiserve h({"--threads", "2", "--counter", "memory"});
#ifdef HISERVE_SYSTEMD
  CHECK(sd.next(5000) == "READY=1");
  // Sent after every loop listens: the port answers now, with no retry.
  CHECK(fetch(h.port, "GET /hi HTTP/1.1\r\nHost: x\r\n\r\n")->status == 200);
  CHECK(sd.next(200).empty());  // nothing else while it serves
  h.proc.signal(SIGTERM);
  CHECK(sd.next(5000) == "STOPPING=1");
#else
  CHECK(fetch(h.port, "GET /hi HTTP/1.1\r\nHost: x\r\n\r\n")->status == 200);
  h.proc.signal(SIGTERM);
  CHECK(sd.next(500).empty());  // built without libsystemd: nothing is sent
#endif
  CHECK(h.proc.wait() == 0);
}

TEST_CASE("systemd readiness across an upgrade: the new process says MAINPID= and READY=1, the old one nothing") {
  // The new process becomes this test's child when the old one exits, to be waited for.
  REQUIRE(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  NotifySocket sd;
  TempDir dir;
  const std::string pid_file = dir.path + "/hiserve.pid";
  Hiserve h({"--counter", "memory", "--pid-file", pid_file});
#ifdef HISERVE_SYSTEMD
  CHECK(sd.next(5000) == "READY=1");
#endif
  h.proc.signal(SIGUSR2);
  CHECK(h.proc.wait() == 0);
  std::ifstream in(pid_file);
  pid_t next = 0;
  in >> next;
  REQUIRE(next > 0);
  CHECK(next != h.proc.pid());
#ifdef HISERVE_SYSTEMD
  CHECK(sd.next(5000) == "MAINPID=" + std::to_string(next) + "\nREADY=1");
  CHECK(sd.next(200).empty());  // no STOPPING=1 from the old process: the service goes on
#endif
  CHECK(fetch(h.port, "GET /hi HTTP/1.1\r\nHost: x\r\n\r\n")->status == 200);
  REQUIRE(kill(next, SIGTERM) == 0);
#ifdef HISERVE_SYSTEMD
  CHECK(sd.next(5000) == "STOPPING=1");
#endif
  int status = -1;
  CHECK(waitpid(next, &status, 0) == next);
  CHECK(status == 0);
}

TEST_CASE("meson install: the binary, hiserve(1) and a unit systemd-analyze finds nothing wrong with") {
  TempDir dest;
  int status = -1;
  const std::string out =
      run_shell("meson install -C " HISERVE_BUILD_DIR " --no-rebuild --quiet --destdir " + dest.path, &status);
  REQUIRE_MESSAGE(status == 0, out);
  std::string binary, unit, man;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dest.path)) {
    if (e.path().filename() == "hiserve") binary = e.path();
    if (e.path().filename() == "hiserve.service") unit = e.path();
    if (e.path().filename() == "hiserve.1") man = e.path();
  }
  REQUIRE(!binary.empty());
  REQUIRE(!unit.empty());
  REQUIRE(!man.empty());
  CHECK(man.find("/share/man/man1/hiserve.1") != std::string::npos);
  CHECK(unit.find("/lib/systemd/system/hiserve.service") != std::string::npos);
  CHECK(access(binary.c_str(), X_OK) == 0);
  CHECK(run_shell(binary + " --help").find("usage: hiserve") == 0);

  std::ifstream f(unit);
  const std::string text((std::istreambuf_iterator<char>(f)), {});
  for (const char* key : {"Type=notify", "Documentation=man:hiserve(1)", "DynamicUser=yes", "StateDirectory=hiserve", "ProtectSystem=strict",
                          "NoNewPrivileges=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "LimitNOFILE=",
                          "KillSignal=SIGTERM", "TimeoutStopSec=", "--counter file:%S/hiserve/hiserve.counter"})
    CHECK_MESSAGE(text.find(key) != std::string::npos, key);
  // The unit names the installed path; the binary is under the destdir, so verify a
  // copy whose ExecStart points there (systemd-analyze checks that it is executable).
  std::smatch exec;
  REQUIRE(std::regex_search(text, exec, std::regex("ExecStart=(\\S+)/hiserve ")));
  CHECK(binary == dest.path + exec[1].str() + "/hiserve");
  const std::string copy = dest.path + "/hiserve.service";
  std::ofstream(copy) << std::regex_replace(text, std::regex("ExecStart=\\S+/hiserve "), "ExecStart=" + binary + " ");
  // Documentation=man:hiserve(1) is looked up with man(1): in the installed tree.
  const std::string manpath = man.substr(0, man.find("/man1/hiserve.1"));
  const std::string said = run_shell("MANPATH=" + manpath + " systemd-analyze verify " + copy, &status);
  CHECK_MESSAGE(said.empty(), said);  // it exits 0 on an unknown key: its words are the test
  CHECK(status == 0);
}
