// The http layer's request table (llhttp's style): input bytes -> the statuses answered
// and whether the connection closes. The session test feeds it to a Session; the
// metrics test sends it to both listeners of a real server.
#pragma once
#include <string>
#include <vector>

#include "hiserve/config.hpp"

namespace test {

struct Case {
  std::string name;
  std::string input;
  std::string statuses;
  bool closes;
  std::string contains = "";
};

// The limits the table's size cases are written for.
inline const hiserve::Limits kLimits{1024, 4096};

std::vector<Case> cases();

}  // namespace test
