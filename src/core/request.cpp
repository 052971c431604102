#include "hiserve/request.hpp"

#include "hiserve/strings.hpp"

namespace hiserve {

std::string_view target_path(std::string_view target) noexcept {
  std::string_view t = target.substr(0, target.find('?'));
  std::size_t scheme = t.find("://");
  if (!t.empty() && t[0] != '/' && scheme != std::string_view::npos) {
    std::size_t slash = t.find('/', scheme + 3);  // absolute-form: drop the authority
    return slash == std::string_view::npos ? std::string_view{"/"} : t.substr(slash);
  }
  return t;
}

std::string_view target_query(std::string_view target) noexcept {
  std::size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

bool reads_form_body(Method m, std::string_view content_type) noexcept {
  if (m != Method::Post && m != Method::Put && m != Method::Patch) return false;
  std::string_view media = trim_ows(content_type.substr(0, content_type.find(';')));
  return iequals(media, "application/x-www-form-urlencoded");
}

}  // namespace hiserve
