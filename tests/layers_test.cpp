// docs/design.md's layers, enforced: core knows nothing of libuv or llhttp, http nothing of
// libuv, the store (beside net) nothing of http, and the public faces of net and the
// store (and main) pull in neither. Reads every
// #include in the tree, so a header that starts leaking fails here, not in review.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kRoot = HISERVE_SOURCE_ROOT;

// The targets of a file's #include lines, as written.
std::vector<std::string> includes_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    std::size_t p = line.find_first_not_of(" \t");
    if (p == std::string::npos || line.compare(p, 8, "#include") != 0) continue;
    std::size_t open = line.find_first_of("<\"", p + 8);
    std::size_t close = open == std::string::npos ? open : line.find_first_of(">\"", open + 1);
    if (close != std::string::npos) out.push_back(line.substr(open + 1, close - open - 1));
  }
  return out;
}

// Source files directly in dir (not below it).
std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kRoot / dir))
    if (e.is_regular_file() && (e.path().extension() == ".hpp" || e.path().extension() == ".cpp")) out.push_back(e.path());
  return out;
}

bool forbidden(const std::string& inc, const std::vector<std::string>& banned) {
  for (const std::string& b : banned)
    if (inc == b || (b.back() == '/' && inc.rfind(b, 0) == 0)) return true;
  return false;
}

// Checks every file in dirs against banned includes; returns how many files it read.
int check(const std::vector<fs::path>& files, const std::vector<std::string>& banned) {
  for (const fs::path& f : files) {
    for (const std::string& inc : includes_of(f)) {
      CAPTURE(f.string());
      CHECK_MESSAGE(!forbidden(inc, banned), f.filename().string() << " includes " << inc);
    }
  }
  return static_cast<int>(files.size());
}

std::vector<fs::path> cat(std::vector<fs::path> a, const std::vector<fs::path>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("core (src/core, include/hiserve) includes neither libuv, llhttp nor the layers above") {
  CHECK(check(cat(files_in("src/core"), files_in("include/hiserve")),
              {"uv.h", "llhttp.h", "hiserve/http/", "hiserve/net/", "hiserve/store/"}) >= 20);
}

TEST_CASE("the store includes nothing of http or net, and its public header no libuv") {
  CHECK(check(files_in("src/store"), {"llhttp.h", "hiserve/http/", "hiserve/net/"}) >= 5);
  CHECK(check(files_in("include/hiserve/store"), {"uv.h", "llhttp.h", "hiserve/http/", "hiserve/net/"}) >= 1);
}

TEST_CASE("http includes no libuv and nothing of net") {
  CHECK(check(cat(files_in("src/http"), files_in("include/hiserve/http")), {"uv.h", "hiserve/net/"}) >= 2);
}

TEST_CASE("net's public header, main and the CLI include neither libuv nor llhttp") {
  CHECK(check(cat(files_in("include/hiserve/net"), files_in("src")), {"uv.h", "llhttp.h", "hiserve/http/"}) >= 3);
}

TEST_CASE("the check itself sees includes") {
  const auto incs = includes_of(kRoot / "src/net/worker.hpp");
  CHECK(std::find(incs.begin(), incs.end(), "uv.h") != incs.end());
  CHECK(forbidden("hiserve/net/server.hpp", {"hiserve/net/"}));
  CHECK_FALSE(forbidden("hiserve/network.hpp", {"hiserve/net/"}));
}
