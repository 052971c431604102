// hiserve the Debian way: dpkg-buildpackage builds the .deb from a copy of this tree
// (nocheck: the suite already runs here), and what it ships works once unpacked.
#include <doctest/doctest.h>

#include <csignal>
#include <fstream>
#include <string>

#include "http_client.hpp"
#include "process.hpp"

using namespace test;

TEST_CASE("debian/changelog's newest version is meson's project() version") {
  std::ifstream in(HISERVE_SOURCE_ROOT "/debian/changelog");
  std::string first;
  std::getline(in, first);
  CHECK(first.rfind("hiserve (" HISERVE_VERSION ") ", 0) == 0);
}

TEST_CASE("dpkg-buildpackage builds a .deb whose binary serves /hi") {
  int status = 0;
  if (run_shell("command -v dpkg-buildpackage", &status).empty() || status != 0) {
    MESSAGE("dpkg-buildpackage is not installed (dpkg-dev, debhelper): the package test is skipped");
    return;
  }
  TempDir dir;
  const std::string src = dir.path + "/hiserve-" HISERVE_VERSION;
  // The tree as git sees it (tracked, and new files not ignored), else all of it but
  // the build directories.
  const std::string copy = "mkdir -p " + src + " && cd " HISERVE_SOURCE_ROOT +
                           " && { if git rev-parse --is-inside-work-tree >/dev/null 2>&1;"
                           " then git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -;"
                           " else tar --exclude='./build*' --exclude='./obj-*' -cf - .; fi; } | tar -C " + src + " -xf -";
  const std::string copied = run_shell(copy, &status);
  INFO(copied);
  REQUIRE(status == 0);
  const std::string built =
      run_shell("cd " + src + " && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b", &status);
  INFO(built.substr(built.size() > 3000 ? built.size() - 3000 : 0));
  REQUIRE(status == 0);

  std::string arch = run_shell("dpkg --print-architecture");
  arch.erase(arch.find_last_not_of('\n') + 1);
  const std::string deb = dir.path + "/hiserve_" HISERVE_VERSION "_" + arch;
  const std::string contents = run_shell("dpkg -c " + deb + ".deb", &status);
  INFO(contents);
  REQUIRE(status == 0);
  for (const char* path : {"./usr/bin/hiserve", "./lib/systemd/system/hiserve.service", "./usr/share/man/man1/hiserve.1.gz",
                           "./etc/logrotate.d/hiserve", "./usr/share/doc/hiserve/copyright", "./usr/share/doc/hiserve/docs/behaviour.md"})
    CHECK_MESSAGE(contents.find(std::string(path)) != std::string::npos, path);

  // An upgrade reloads (a handover) instead of stopping and starting: no refused connection.
  const std::string control = dir.path + "/control";
  REQUIRE(run_shell("dpkg-deb -e " + deb + ".deb " + control, &status).empty());
  const std::string postinst = run_shell("cat " + control + "/postinst"), prerm = run_shell("cat " + control + "/prerm");
  CHECK(postinst.find("deb-systemd-invoke reload hiserve.service") != std::string::npos);
  CHECK(postinst.find("deb-systemd-invoke restart") == std::string::npos);
  CHECK(prerm.find("\"$1\" = remove") != std::string::npos);  // stops only at removal
  CHECK(prerm.find("upgrade") == std::string::npos);

  const std::string root = dir.path + "/root";
  REQUIRE(run_shell("dpkg -x " + deb + ".deb " + root, &status).empty());
  REQUIRE(status == 0);
  const std::string binary = root + "/usr/bin/hiserve";
  CHECK(run_shell(binary + " --version") == "hiserve " HISERVE_VERSION "\n");

  Process server({binary, "--port", "0", "--threads", "1", "--counter", "memory"});
  const std::string said = server.line();
  REQUIRE(said.rfind("Starting on port ", 0) == 0);
  const int port = std::stoi(said.substr(17));
  const auto r = fetch(port, "GET /hi?color=red HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "<h1 style='color: red'>Welcome!</h1>You are visitor number 1!");
  server.signal(SIGTERM);
  CHECK(server.wait() == 0);
}
