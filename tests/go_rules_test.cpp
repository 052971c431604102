// Go 1.19's rules, table by table: url.ParseRequestURI, ServeMux's cleanPath and
// Redirect escaping, mime.ParseMediaType and multipart ReadForm. Every expected value
// here was printed by Go itself (net/url, mime, net/http/httptest + FormValue).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "hiserve/handler.hpp"
#include "hiserve/media_type.hpp"
#include "hiserve/multipart.hpp"
#include "hiserve/strings.hpp"
#include "hiserve/uri.hpp"

using namespace hiserve;

TEST_CASE("parse_target is url.ParseRequestURI") {
  struct Case {
    const char* raw;
    bool connect;
    bool ok;
    const char* path;
    const char* query;
  };
  const Case cases[] = {
      {"/hi?color=red", false, true, "/hi", "color=red"},
      {"/hi", false, true, "/hi", ""},
      {"/hi?a?b", false, true, "/hi", "a?b"},
      {"http://example.com/hi?x", false, true, "/hi", "x"},
      {"http://example.com", false, true, "", ""},
      {"HTTP://X/hi", false, true, "/hi", ""},
      {"http://x?y", false, true, "", "y"},
      {"http:///hi", false, true, "/hi", ""},
      {"http:/hi", false, true, "/hi", ""},
      {"mailto:x", false, true, "", ""},  // opaque: no path
      {"*", false, true, "*", ""},
      {"", false, false, "", ""},
      {"hi", false, false, "", ""},
      {":x", false, false, "", ""},  // "missing protocol scheme"
      {"/hi%zz", false, false, "", ""},
      {"/hi%4", false, false, "", ""},
      {"/h%69", false, true, "/h%69", ""},       // still escaped
      {"/hi?color=%zz", false, true, "/hi", "color=%zz"},  // the query is not checked
      {"/a\tb", false, false, "", ""},
      {"/a\x7f", false, false, "", ""},
      {"/a\xc3\xa9", false, true, "/a\xc3\xa9", ""},
      {"http://[::1]:80/hi", false, true, "/hi", ""},
      {"http://[::1/hi", false, false, "", ""},
      {"http://x:a/", false, false, "", ""},
      {"http://x:/", false, true, "/", ""},
      {"http://x%41/", false, false, "", ""},  // %-escapes in a host are for non-ASCII only
      {"http://x%C3%A9/", false, true, "/", ""},
      {"http://x%25/", false, true, "/", ""},
      {"http://[::1%25eth0]/", false, true, "/", ""},
      {"http://[::1%25e%20h]/", false, true, "/", ""},
      {"http://[::1%25e%7Bh]/", false, false, "", ""},
      {"http://u:p@x/", false, true, "/", ""},
      {"http://u{@x/", false, false, "", ""},
      {"http://u%zz@x/", false, false, "", ""},
      {"http://x{/", false, false, "", ""},
      {"x:80", true, true, "", ""},  // CONNECT's authority-form
      {"x:a", true, false, "", ""},
      {"/hi", true, true, "/hi", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.raw);
    const Target t = parse_target(c.raw, c.connect);
    CHECK(t.ok == c.ok);
    if (!c.ok) continue;
    CHECK(t.path == c.path);
    CHECK(t.query == c.query);
    CHECK(t.asterisk == (std::string_view(c.raw) == "*"));
  }
}

TEST_CASE("cleanPath: clean paths stay, others are cleaned as ServeMux does") {
  const std::pair<const char*, const char*> cases[] = {
      {"/hi", "/hi"},         {"/", "/"},          {"/hi/", "/hi/"},       {"/.hi", "/.hi"},
      {"/..hi", "/..hi"},     {"/hi...", "/hi..."}, {"", "/"},             {"//hi", "/hi"},
      {"/./hi", "/hi"},       {"/x/../hi", "/hi"}, {"/hi//", "/hi/"},      {"/../hi", "/hi"},
      {"/a/b/../../c/", "/c/"}, {"/hi/.", "/hi"},   {"/hi/..", "/"},        {"/.", "/"},
      {"/a//b/./c/..", "/a/b"}, {"/a/./", "/a/"},   {"///", "/"},          {"/a/b/..//", "/a/"},
  };
  for (auto [in, want] : cases) {
    CAPTURE(in);
    std::string buf(std::string_view(in).size() + 2, '#');
    const std::string_view got(buf.data(), clean_path(in, buf.data()));
    CHECK(got == want);
    CHECK(is_clean_path(in) == (got == in));
  }
}

TEST_CASE("Redirect's escaping: EscapedPath, hexEscapeNonASCII, htmlEscape") {
  auto escaped = [](std::string_view s) {
    std::string out(escaped_path_size(s), '#');
    CHECK(write_escaped_path(out.data(), s) == out.data() + out.size());
    return out;
  };
  CHECK(escaped("/a b?#%\xc3\xa9") == "/a%20b%3F%23%25%C3%A9");
  CHECK(escaped("/$&+,/:;=@-_.~Az09") == "/$&+,/:;=@-_.~Az09");
  CHECK(escaped("/!*'()\"<>") == "/%21%2A%27%28%29%22%3C%3E");
  std::string hex(hex_escaped_size("a\xc3\xa9?x"), '#');
  write_hex_escaped(hex.data(), "a\xc3\xa9?x");
  CHECK(hex == "a%c3%a9?x");
  const std::string_view html_in = "<a href=\"&'\">";
  std::string html(html_escaped_size(html_in), '#');
  write_html_escaped(html.data(), html_in);
  CHECK(html == "&lt;a href=&#34;&amp;&#39;&#34;&gt;");
}

TEST_CASE("parse_media_type is mime.ParseMediaType") {
  using P = MediaType::Parse;
  struct Case {
    const char* in;
    P parse;
    const char* type;  // lower-cased here; compared case-insensitively
    bool has;
    const char* boundary;
  };
  const Case cases[] = {
      {"application/x-www-form-urlencoded", P::Ok, "application/x-www-form-urlencoded", false, ""},
      {" Application/X-WWW-Form-Urlencoded ; charset=utf-8", P::Ok, "application/x-www-form-urlencoded", false, ""},
      {"application/x-www-form-urlencoded; charset=a; charset=b", P::Bad, "", false, ""},
      {"application/x-www-form-urlencoded; @", P::BadParams, "application/x-www-form-urlencoded", false, ""},
      {"application/x-www-form-urlencoded;", P::Ok, "application/x-www-form-urlencoded", false, ""},
      {"application/x-www-form-urlencoded garbage", P::Bad, "", false, ""},
      {"text/", P::Bad, "", false, ""},
      {"/x", P::Bad, "", false, ""},
      {"text", P::Ok, "text", false, ""},
      {"multipart/form-data; boundary=abc", P::Ok, "multipart/form-data", true, "abc"},
      {"multipart/form-data; boundary=\"a b\\\"c\"", P::Ok, "multipart/form-data", true, "a b\"c"},
      {"multipart/form-data; boundary=\"a\\b\"", P::Ok, "multipart/form-data", true, "a\\b"},
      {"multipart/form-data; BOUNDARY=abc", P::Ok, "multipart/form-data", true, "abc"},
      {"multipart/form-data; boundary*=utf-8''%41bc", P::Ok, "multipart/form-data", true, "Abc"},
      {"multipart/form-data; boundary=x; boundary*=utf-8''y", P::Ok, "multipart/form-data", true, "y"},
      {"multipart/form-data; boundary*0=ab; boundary*1*=%41", P::Ok, "multipart/form-data", true, "abA"},
      {"multipart/form-data; boundary*=bad''x", P::Ok, "multipart/form-data", false, ""},
      {"multipart/form-data; boundary*0=a; boundary*2=c", P::Ok, "multipart/form-data", true, "a"},
      {"multipart/form-data; boundary*1=b", P::Ok, "multipart/form-data", false, ""},
      {"multipart/form-data; boundary=x; boundary*0*=utf-8''%zz", P::Ok, "multipart/form-data", true, ""},
      {"multipart/form-data; boundary=\"abc", P::BadParams, "multipart/form-data", false, ""},
      {"multipart/form-data; boundary=", P::BadParams, "multipart/form-data", false, ""},
      {"multipart/form-data; boundary=\"\"", P::Ok, "multipart/form-data", true, ""},
      {"\xc2\xa0multipart/form-data; boundary=a", P::Ok, "multipart/form-data", true, "a"},
      {"multipart/form-data; boundary=a; x=1; X=2", P::Bad, "", false, ""},
      {"multipart/form-data; boundary=a;; x=1", P::BadParams, "multipart/form-data", false, ""},
      {"multipart/form-data ; boundary = a ", P::Ok, "multipart/form-data", true, "a"},
  };
  BlockPool pool(kChunkSize);
  Arena arena(pool);
  for (const Case& c : cases) {
    CAPTURE(c.in);
    const MediaType m = parse_media_type(c.in, "boundary", arena);
    CHECK(m.parse == c.parse);
    CHECK(iequals(m.type, c.type));
    CHECK(m.has_param == c.has);
    CHECK(m.param == c.boundary);
  }
}

namespace {

struct MultipartCase {
  const char* name;
  std::string body;
  bool ok;            // Go's ReadForm succeeded
  const char* color;  // Go's FormValue("color") with no query
};

// Bodies and results printed by Go 1.19 (httptest.NewRequest + FormValue).
std::vector<MultipartCase> multipart_cases() {
  const std::string cd = "Content-Disposition: form-data; name=color\r\n";
  return {
      {"basic", "--B\r\nContent-Disposition: form-data; name=\"color\"\r\n\r\nteal\r\n--B--\r\n", true, "teal"},
      {"preamble and epilogue", "preamble\r\nmore\r\n--B\r\n" + cd + "\r\nteal\r\n--B--\r\nepilogue\r\n--B\r\n", true, "teal"},
      {"LF line ends", "--B\nContent-Disposition: form-data; name=color\n\nteal\n--B--\n", true, "teal"},
      {"a file part is not a value",
       "--B\r\nContent-Disposition: form-data; name=color; filename=x.txt\r\n\r\nfile\r\n--B\r\n" + cd + "\r\nteal\r\n--B--\r\n",
       true, "teal"},
      {"first value wins", "--B\r\n" + cd + "\r\nfirst\r\n--B\r\n" + cd + "\r\nsecond\r\n--B--\r\n", true, "first"},
      {"ends in a part's headers: Go's io.EOF ends the form", "--B\r\n" + cd + "\r\nteal\r\n--B\r\n", true, "teal"},
      {"names are case-sensitive", "--B\r\nContent-Disposition: form-data; name=Color\r\n\r\nteal\r\n--B--\r\n", true, ""},
      {"not form-data", "--B\r\nContent-Disposition: attachment; name=color\r\n\r\nteal\r\n--B--\r\n", true, ""},
      {"folded header", "--B\r\nContent-Disposition: form-data;\r\n name=color\r\n\r\nteal\r\n--B--\r\n", true, "teal"},
      {"not a boundary inside data", "--B\r\n" + cd + "\r\na\r\n--Bx\r\n--B--\r\n", true, "a\r\n--Bx"},
      {"empty part, boundary first", "--B\r\n" + cd + "\r\n--B--", true, ""},
      {"spaces after a boundary", "--B\r\n" + cd + "\r\nteal\r\n--B  \r\nX: y\r\n\r\n\r\n--B--", true, "teal"},
      {"empty filename is a value", "--B\r\nContent-Disposition: form-data; name=color; filename=\"\"\r\n\r\nteal\r\n--B--\r\n", true,
       "teal"},
      {"header without colon", "--B\r\nContent-Disposition form-data; name=color\r\n\r\nteal\r\n--B--\r\n", false, ""},
      {"first header line folded", "--B\r\n Content-Disposition: form-data; name=color\r\n\r\nteal\r\n--B--\r\n", false, ""},
      {"ends after headers' first line", "--B\r\n" + cd, true, ""},
      {"backslash kept before a non-special", "--B\r\nContent-Disposition: form-data; name=\"co\\lor\"\r\n\r\nteal\r\n--B--\r\n", true, ""},
      {"bad disposition parameter", "--B\r\nContent-Disposition: form-data; name=color; @\r\n\r\nteal\r\n--B--\r\n", true, ""},
      {"dash then not dash", "--B\r\n" + cd + "\r\na\r\n--B-x\r\n--B--\r\n", true, "a\r\n--B-x"},
      {"blank lines in data", "--B\r\n" + cd + "\r\na\r\n\r\n--B\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n--B--\r\n", true, "a\r\n"},
      {"junk after closing dashes", "--B\r\n" + cd + "\r\nteal\r\n--B--x\r\n", false, ""},
      {"header line without colon at the end", "--B\r\n" + cd + "\r\nteal\r\n--B\r\nno headers end", false, ""},
      {"lower case, no space, trailing spaces", "--B\r\ncontent-disposition:form-data;name=color  \r\n\r\nteal\r\n--B--", true, "teal"},
      {"space before colon", "--B\r\nContent-Disposition : form-data; name=color\r\n\r\nteal\r\n--B--", true, ""},
      {"bare LF before boundary in CRLF mode", "--B\r\n" + cd + "\r\nteal\n--B--\r\n", false, ""},
      {"LF mode from the first boundary", "--B\n" + cd + "\r\nteal\n--B--", true, "teal"},
      {"empty preamble line", "\r\n--B\r\n" + cd + "\r\nteal\r\n--B--", true, "teal"},
      {"part without disposition", "--B\r\n\r\nnoname\r\n--B\r\n" + cd + "\r\nteal\r\n--B--", true, "teal"},
      {"CRs in data", "--B\r\n" + cd + "\r\nte\ral\r\r\n--B--", true, "te\ral\r"},
      {"first disposition counts", "--B\r\n" + cd + "Content-Disposition: form-data; name=other\r\n\r\nteal\r\n--B--", true, "teal"},
      {"first disposition counts (other)", "--B\r\nContent-Disposition: form-data; name=other\r\n" + cd + "\r\nteal\r\n--B--", true, ""},
      {"folded into another header", "--B\r\nX:\r\n " + cd + "\r\nteal\r\n--B--", true, ""},
      {"value on the folded line", "--B\r\nContent-Disposition:\r\n form-data; name=color\r\n\r\nteal\r\n--B--", true, "teal"},
      {"boundary as a header line", "--B\r\n--B\r\n" + cd + "\r\nteal\r\n--B--", false, ""},
      {"empty body", "", false, ""},
      {"closing boundary alone", "--B--", true, ""},
      {"RFC 2231 name", "--B\r\nContent-Disposition: form-data; name*=utf-8''colo%72\r\n\r\nteal\r\n--B--", true, "teal"},
      {"4,095-byte line", std::string(4095, 'y') + "\n--B\r\n" + cd + "\r\nteal\r\n--B--", true, "teal"},
      {"4,096-byte line", std::string(4096, 'y') + "\n--B\r\n" + cd + "\r\nteal\r\n--B--", false, ""},
  };
}

// Feeds body in pieces from a buffer scribbled over after each, as a connection's
// read buffer is reused; returns (ok, value).
std::pair<bool, std::string> read_multipart(const std::vector<std::string_view>& pieces) {
  BlockPool pool(kChunkSize);
  Arena arena(pool);
  MultipartForm form("B", "color", arena);
  for (std::string_view piece : pieces) {
    std::string scratch(piece);
    form.feed(scratch.data(), scratch.size(), arena);
    form.pin(arena);
    scratch.assign(scratch.size(), '#');
  }
  form.finish();
  const FormValue v = form.value();
  return {form.ok(), std::string(v.value)};
}

}  // namespace

TEST_CASE("MultipartForm reads what Go's ReadForm reads: whole, split at every byte, byte by byte") {
  for (const MultipartCase& c : multipart_cases()) {
    CAPTURE(c.name);
    const auto whole = read_multipart({c.body});
    CHECK(whole.first == c.ok);
    CHECK(whole.second == c.color);
    for (std::size_t i = 1; i < c.body.size(); ++i) {
      const std::string_view b = c.body;
      if (read_multipart({b.substr(0, i), b.substr(i)}) != whole) {
        CAPTURE(i);
        CHECK(read_multipart({b.substr(0, i), b.substr(i)}) == whole);
        break;
      }
    }
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < c.body.size(); ++i) bytes.push_back(std::string_view(c.body).substr(i, 1));
    CHECK(read_multipart(bytes) == whole);
  }
}

TEST_CASE("the /hi router plans what Go's handler reads") {
  BlockPool pool(kChunkSize);
  Arena arena(pool);
  auto plan = [&](Method m, std::string_view target, std::string_view ct = {}) {
    return kHiRouter.plan({m, parse_target(target, m == Method::Connect), ct}, arena);
  };
  CHECK(plan(Method::Get, "/hi").body == BodyUse::None);
  CHECK(plan(Method::Post, "/hi", "application/x-www-form-urlencoded").body == BodyUse::Urlencoded);
  CHECK(plan(Method::Post, "/hi", "application/x-www-form-urlencoded; @").body == BodyUse::Urlencoded);
  CHECK(plan(Method::Post, "/hi", "application/x-www-form-urlencoded; charset=a; charset=b").body == BodyUse::None);
  CHECK(plan(Method::Get, "/hi", "application/x-www-form-urlencoded").body == BodyUse::None);
  const Plan mp = plan(Method::Get, "/h%69", "multipart/form-data; boundary=xyz");
  CHECK(mp.body == BodyUse::Multipart);
  CHECK(mp.boundary == "xyz");
  CHECK(mp.form_key == "color");
  CHECK(plan(Method::Post, "/hi", "multipart/form-data").body == BodyUse::None);  // no boundary
  CHECK(plan(Method::Post, "/hi", "multipart/form-data; boundary=\"x").body == BodyUse::None);
  CHECK(plan(Method::Post, "/nope", "application/x-www-form-urlencoded").body == BodyUse::None);
  CHECK(plan(Method::Post, "//hi", "application/x-www-form-urlencoded").body == BodyUse::None);  // a redirect
  CHECK(plan(Method::Options, "*").body == BodyUse::Drain);
  CHECK_FALSE(plan(Method::Options, "*").close);
  CHECK(plan(Method::Get, "*").close);
}
