// The fuzzer's seed corpus and every past finding, replayed through the same checks
// in the normal suite: a fixed crash stays fixed.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "session_check.hpp"

TEST_CASE("fuzz corpus and regressions replay with every session invariant holding") {
  int files = 0;
  for (const char* dir : {"corpus", "regressions"}) {
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(HISERVE_FUZZ_DIR) / dir)) {
      if (!entry.is_regular_file() || entry.path().filename().string()[0] == '.') continue;
      std::ifstream f(entry.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      CAPTURE(entry.path().string());
      CHECK(fuzz::check_session_input(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()) == "");
      ++files;
    }
  }
  CHECK(files >= 20);
}
