// Request-targets as Go's net/url and net/http read them (Go 1.19: url.ParseRequestURI,
// ServeMux's cleanPath, Redirect's escaping), so routing and redirects answer what Go
// answers. Views into the caller's bytes; anything decoded goes into a caller buffer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hiserve {

struct Target {
  bool ok = false;         // false: Go's ParseRequestURI rejects it (answer 400)
  bool asterisk = false;   // the target is exactly "*"
  bool escaped = false;    // the path holds %-escapes
  std::string_view path;   // still escaped; "" for an absolute-form target with no path
  std::string_view query;  // after the first '?', without it ("" when none)
};

// A Target as offsets into its raw bytes, to keep while those bytes move (a request's
// target is copied into its arena when the read buffer is reused).
struct TargetSpans {
  std::uint32_t path_at = 0, path_len = 0, query_at = 0, query_len = 0;
  bool ok = false, asterisk = false, escaped = false;
  static TargetSpans of(const Target& t, std::string_view raw) noexcept {
    return {static_cast<std::uint32_t>(t.path.data() - raw.data()), static_cast<std::uint32_t>(t.path.size()),
            static_cast<std::uint32_t>(t.query.data() - raw.data()), static_cast<std::uint32_t>(t.query.size()),
            t.ok, t.asterisk, t.escaped};
  }
  Target in(std::string_view raw) const noexcept {
    return {ok, asterisk, escaped, {raw.data() + path_at, path_len}, {raw.data() + query_at, query_len}};
  }
};

// Go's url.ParseRequestURI (for CONNECT not starting with '/', Go's "http://" + target):
// no control byte anywhere, a scheme target's authority must parse (userinfo, host,
// port), and the path's %-escapes must be valid.
Target parse_target(std::string_view raw, bool connect) noexcept;

// Go's url.PathUnescape of a path already checked by parse_target, into dst (room for
// path.size() bytes); returns the decoded length.
std::size_t unescape_path(std::string_view path, char* dst) noexcept;
// Whether a decoded path is its own cleanPath: rooted, with no empty, "." or ".."
// element (a trailing slash is kept).
bool is_clean_path(std::string_view path) noexcept;
// ServeMux's cleanPath into dst (room for path.size() + 1 bytes); returns the length.
std::size_t clean_path(std::string_view path, char* dst) noexcept;

// Bytes url.URL.EscapedPath writes for a decoded path (encodePath: %XX, upper case).
std::size_t escaped_path_size(std::string_view path) noexcept;
char* write_escaped_path(char* p, std::string_view path) noexcept;
// Bytes net/http's hexEscapeNonASCII writes: each byte >= 0x80 as %xx (lower case).
std::size_t hex_escaped_size(std::string_view s) noexcept;
char* write_hex_escaped(char* p, std::string_view s) noexcept;
// Bytes net/http's htmlEscape writes: & < > " ' as entities.
std::size_t html_escaped_size(std::string_view s) noexcept;
char* write_html_escaped(char* p, std::string_view s) noexcept;

}  // namespace hiserve
