// core: form decoding with Go's rules, the arena and output buffer, the Date format,
// the access log's lines.
#include <doctest/doctest.h>
#include <sanitizer/asan_interface.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "hiserve/access_log.hpp"
#include "hiserve/arena.hpp"
#include "hiserve/block_pool.hpp"
#include "hiserve/date_cache.hpp"
#include "hiserve/form.hpp"
#include "hiserve/out_buf.hpp"

using namespace hiserve;

namespace {
// A file in /tmp, removed at the end of the test.
struct TempFile {
  char path[32] = "/tmp/hiserve-test-XXXXXX";
  int fd = mkstemp(path);
  ~TempFile() {
    close(fd);
    unlink(path);
  }
  std::string contents() const {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};
}  // namespace

TEST_CASE("form_value follows Go's url.ParseQuery + Values.Get") {
  BlockPool pool(4096);
  Arena arena(pool);
  struct Case {
    const char* query;
    bool found;
    const char* value;
  };
  const Case cases[] = {
      {"", false, ""},
      {"color=red", true, "red"},
      {"a=1&color=red&color=blue", true, "red"},  // first wins
      {"color=", true, ""},
      {"color", true, ""},                          // no '=': empty value
      {"colour=red", false, ""},
      {"color=re+d", true, "re d"},                 // '+' is a space
      {"color=%72ed", true, "red"},
      {"col%6Fr=red", true, "red"},                 // keys are decoded too
      {"color=%zz&color=blue", true, "blue"},       // bad escape: pair skipped
      {"color=%4", true, ""},                       // truncated escape... skipped
      {"color=a;b&color=c", true, "c"},             // ';' drops the pair
      {"x=1;color=red", false, ""},
      {"&&color=red", true, "red"},
      {"color=%3Cscript%3E", true, "<script>"},
      {"color=%00", true, std::string("\0", 1).c_str()},
  };
  for (const Case& c : cases) {
    CAPTURE(c.query);
    FormValue v = form_value(c.query, "color", arena);
    if (std::strcmp(c.query, "color=%4") == 0) {
      CHECK_FALSE(v.found);
      continue;
    }
    CHECK(v.found == c.found);
    if (std::strcmp(c.query, "color=%00") == 0) {
      CHECK(v.value == std::string_view("\0", 1));
    } else {
      CHECK(v.value == c.value);
    }
  }
}

TEST_CASE("form_value returns a view when nothing needs decoding, and decodes into the arena") {
  BlockPool pool(4096);
  Arena arena(pool);
  std::string q = "color=red";
  FormValue v = form_value(q, "color", arena);
  CHECK(v.value.data() == q.data() + 6);
  CHECK(arena.empty());
  v = form_value("color=r%65d", "color", arena);
  CHECK(v.value == "red");
  CHECK_FALSE(arena.empty());
}

TEST_CASE("is_word is Go's ^\\w*$: ASCII letters, digits and underscore only") {
  CHECK(is_word(""));
  CHECK(is_word("red"));
  CHECK(is_word("Red_09"));
  CHECK_FALSE(is_word("re d"));
  CHECK_FALSE(is_word("red\n"));  // $ is end of text, not end of line
  CHECK_FALSE(is_word("red'"));
  CHECK_FALSE(is_word("<script>"));
  CHECK_FALSE(is_word("r\xc3\xa9"));  // no Unicode letters
  CHECK_FALSE(is_word("-"));
}

TEST_CASE("query_unescape") {
  char out[32];
  CHECK(query_unescape("a%20b+c", out) == 5);
  CHECK(std::string_view(out, 5) == "a b c");
  CHECK(query_unescape("%", out) == -1);
  CHECK(query_unescape("%g0", out) == -1);
  CHECK(query_unescape("%0", out) == -1);
}

TEST_CASE("Arena: bump allocation, large blocks, reset recycles chunks") {
  BlockPool pool(1024);
  {
    Arena a(pool);
    CHECK(a.empty());
    char* p = a.alloc_chars(10);
    char* q = a.alloc_chars(10);
    CHECK(q == p + 16);  // 8-byte aligned bump
    a.alloc(2000);       // larger than a chunk
    CHECK(a.held() >= 1024 + 2000);
    for (int i = 0; i < 100; ++i) std::memset(a.alloc(100), 'x', 100);
    CHECK(pool.in_use() > 1);
    a.reset();
    CHECK(a.empty());
    CHECK(pool.in_use() == 0);
  }
  std::size_t free_after = pool.free_count();
  CHECK(free_after > 1);
  CHECK(pool.trim() == 0);  // the period saw them all in use at once... low water was 0
  CHECK(pool.trim() == free_after);  // a whole period unused: handed back
  CHECK(pool.free_count() == 0);
}

TEST_CASE("ArenaText stays a view while contiguous, copies when not") {
  BlockPool pool(1024);
  Arena a(pool);
  ArenaText t;
  const char buf[] = "hello world";
  t.append(a, buf, 5);
  t.append(a, buf + 5, 6);
  CHECK(t.view() == "hello world");
  CHECK(t.view().data() == buf);
  CHECK(a.empty());
  t.append(a, "!!", 2);
  CHECK(t.view() == "hello world!!");
  CHECK_FALSE(a.empty());
  ArenaText u;
  u.append(a, buf, 5);
  u.pin(a);
  CHECK(u.view() == "hello");
  CHECK(u.view().data() != buf);
}

TEST_CASE("OutBuf: segments, consume after a short write, no memory when empty") {
  BlockPool pool(256);
  OutBuf out(pool);
  CHECK(out.empty());
  std::string expect;
  for (int i = 0; i < 50; ++i) {
    std::string s = "response " + std::to_string(i) + "\n";
    out.append(s);
    expect += s;
  }
  std::string big(1000, 'B');  // bigger than a chunk: its own block
  out.append(big);
  expect += big;
  CHECK(out.size() == expect.size());
  auto gather = [&] {
    OutBuf::Span spans[64];
    int n = out.spans(spans, 64);
    std::string got;
    for (int i = 0; i < n; ++i) got.append(spans[i].base, spans[i].len);
    return got;
  };
  CHECK(gather() == expect);
  out.consume(300);
  CHECK(gather() == expect.substr(300));
  out.consume(out.size());
  CHECK(out.empty());
  CHECK(pool.in_use() == 0);
}

TEST_CASE("DateCache formats RFC 9110 IMF-fixdate") {
  DateCache d;
  d.refresh(784111777);  // RFC 9110's example
  CHECK(d.value() == "Sun, 06 Nov 1994 08:49:37 GMT");
  d.refresh(4102444799);
  CHECK(d.value() == "Thu, 31 Dec 2099 23:59:59 GMT");
}

TEST_CASE("DateCache formats the access log's times: nginx's $time_local and RFC 3339 UTC") {
  const char* tz = std::getenv("TZ");
  const std::string saved = tz ? tz : "";
  setenv("TZ", "UTC0", 1), tzset();
  DateCache d;
  d.refresh(784111777);
  CHECK(d.local() == "06/Nov/1994:08:49:37 +0000");
  CHECK(d.utc() == "1994-11-06T08:49:37Z");
  setenv("TZ", "IST-5:30", 1), tzset();  // an offset with minutes, east of Greenwich
  d.refresh(784111778);
  CHECK(d.local() == "06/Nov/1994:14:19:38 +0530");
  setenv("TZ", "EST5", 1), tzset();
  d.refresh(784111779);
  CHECK(d.local() == "06/Nov/1994:03:49:39 -0500");
  CHECK(d.utc() == "1994-11-06T08:49:39Z");
  if (tz) setenv("TZ", saved.c_str(), 1);
  else unsetenv("TZ");
  tzset();
}

TEST_CASE("access-log escaping: nginx's \\xHH for combined, JSON's with \\u00XX for bytes that are not UTF-8") {
  char buf[256];
  auto combined = [&](std::string_view s) { return std::string(buf, escape_combined(buf, s)); };
  auto json = [&](std::string_view s) { return std::string(buf, escape_json(buf, s)); };
  CHECK(combined("Mozilla/5.0 (X11)") == "Mozilla/5.0 (X11)");
  CHECK(combined(std::string_view("a\"b\\c\x01\x1f\x7f\x80\xff\0", 11)) == R"(a\x22b\x5Cc\x01\x1F\x7F\x80\xFF\x00)");
  CHECK(json("plain ~") == "plain ~");
  CHECK(json("a\"b\\c\n\x7f") == "a\\\"b\\\\c\\u000A\x7f");
  // Valid UTF-8 passes whole: 2, 3 and 4 bytes.
  CHECK(json("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  // Not UTF-8: a lone continuation, an overlong form, a surrogate, past U+10FFFF, a
  // sequence cut short; each bad byte alone, and what follows read afresh.
  CHECK(json("\x80") == "\\u0080");
  CHECK(json("\xc0\xaf") == "\\u00C0\\u00AF");
  CHECK(json("\xed\xa0\x80") == "\\u00ED\\u00A0\\u0080");
  CHECK(json("\xf4\x90\x80\x80") == "\\u00F4\\u0090\\u0080\\u0080");
  CHECK(json("\xe2\x82x") == "\\u00E2\\u0082x");
}

TEST_CASE("write_peer: dotted IPv4, RFC 5952 IPv6, '-' when unknown") {
  char buf[64];
  PeerAddress v4{{192, 0, 2, 7}, 4};
  CHECK(std::string(buf, write_peer(buf, v4)) == "192.0.2.7");
  PeerAddress v6{{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 6};
  CHECK(std::string(buf, write_peer(buf, v6)) == "2001:db8::1");
  CHECK(std::string(buf, write_peer(buf, PeerAddress{})) == "-");
}

TEST_CASE("AccessLog: lines buffered until flush, one write; a failed write drops and counts them") {
  LoopStats stats;
  DateCache date;
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  AccessLog log(fds[1], AccessLogFormat::Combined, date, stats);
  AccessRecord r;
  r.method = "GET", r.target = "/hi", r.protocol = "HTTP/1.1", r.status = 200, r.body_bytes = 58;
  log.record(r);
  log.record(r);
  CHECK(stats.log_lines.load() == 0);  // nothing written yet
  log.flush();
  CHECK(stats.log_lines.load() == 2);
  char buf[512];
  const ssize_t n = read(fds[0], buf, sizeof buf);
  const std::string line = "- - - [" + std::string(date.local()) + "] \"GET /hi HTTP/1.1\" 200 58 \"-\" \"-\"\n";
  CHECK(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0) == line + line);
  // A value longer than the cap is cut, and says so.
  const std::string long_value(kLogFieldMax + 10, 'u');
  r.user_agent = long_value;
  log.record(r);
  log.flush();
  const ssize_t m = read(fds[0], buf, sizeof buf);
  CHECK(m > 0);
  close(fds[0]);  // the reader is gone: the next write fails (EPIPE; SIGPIPE is ignored here)
  signal(SIGPIPE, SIG_IGN);
  log.record(r);
  log.record(r);
  log.record(r);
  log.flush();
  CHECK(stats.log_lines.load() == 3);
  CHECK(stats.log_dropped.load() == 3);
  close(fds[1]);
}

TEST_CASE("AccessLog: a line that might not fit writes the buffer out first, so nothing is cut") {
  LoopStats stats;
  DateCache date;
  TempFile f;
  {
    AccessLog log(f.fd, AccessLogFormat::Json, date, stats);
    AccessRecord r;
    const std::string controls(kLogFieldMax + 1, '\x01');  // 6 bytes out per byte in; cut
    r.target = controls;
    r.referer = r.user_agent = r.method = r.protocol = r.target;
    for (int i = 0; i < 20; ++i) log.record(r);
    CHECK(stats.log_lines.load() > 0);  // the buffer filled and was written meanwhile
    log.flush();
  }
  CHECK(stats.log_lines.load() == 20);
  const std::string text = f.contents();
  CHECK(std::count(text.begin(), text.end(), '\n') == 20);
  CHECK(text.find(std::string("\\u0001") + "...\"") != std::string::npos);
}

TEST_CASE("a recycled block is poisoned under ASan past its free-list link, and whole again when taken") {
#if defined(__SANITIZE_ADDRESS__)
  BlockPool pool(1024);
  char* b = static_cast<char*>(pool.get());
  CHECK(__asan_region_is_poisoned(b, 1024) == nullptr);
  pool.put(b);
  CHECK_FALSE(__asan_address_is_poisoned(b));  // the link the free list keeps
  CHECK(__asan_address_is_poisoned(b + sizeof(void*)));
  CHECK(__asan_address_is_poisoned(b + 1023));
  CHECK(pool.get() == b);
  CHECK(__asan_region_is_poisoned(b, 1024) == nullptr);
  pool.put(b);
  // What a view into a reset arena or a written-out output chunk points at.
  Arena arena(pool);
  char* text = arena.alloc_chars(10);
  arena.reset();
  CHECK(__asan_address_is_poisoned(text));
  OutBuf out(pool);
  out.append("HTTP/1.1 200 OK\r\n");
  OutBuf::Span span;
  REQUIRE(out.spans(&span, 1) == 1);
  out.consume(out.size());
  CHECK(__asan_address_is_poisoned(span.base));
#else
  MESSAGE("not an AddressSanitizer build: nothing is poisoned");
#endif
}
