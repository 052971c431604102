// The talk's benchmarks in C++ (`go test -bench . -benchmem`): every benchmark reports
// B/op and allocs/op counted by hiserve::mem, which also backs global operator new here
// (count_new.cpp). Results print as Go benchmark lines; --benchmark_out writes Google
// Benchmark JSON; --go_out=FILE saves the Go lines for benchcmp; --cpuprofile=FILE
// records a gperftools CPU profile for google-pprof.
#include <benchmark/benchmark.h>
#include <llhttp.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#ifdef HISERVE_PROFILER
#include <gperftools/profiler.h>
#endif

#include "go_reporter.hpp"
#include "hiserve/alloc.hpp"
#include "hiserve/handler.hpp"
#include "hiserve/http/session.hpp"
#include "hiserve/store/store_thread.hpp"
#include "talk_steps.hpp"

using namespace hiserve;

namespace {

// The request the talk's BenchmarkHi used, and what the load tests send.
const Request kTalkRequest{Method::Get, "/hi", {}};
const Request kColorRequest{Method::Get, "/hi?color=red", {}};

constexpr std::string_view kWrkRequest = "GET /hi?color=red HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
// What Firefox sends for the same URL: 11 headers, 440 bytes.
constexpr std::string_view kBrowserRequest =
    "GET /hi?color=red HTTP/1.1\r\n"
    "Host: 127.0.0.1:8080\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Connection: keep-alive\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-Site: none\r\n"
    "Sec-Fetch-User: ?1\r\n"
    "\r\n";

// Heap allocations between construction and report(), per iteration.
struct AllocMeter {
  mem::Totals start = mem::totals();
  void report(benchmark::State& state) const {
    mem::Totals end = mem::totals();
    state.counters["allocs/op"] = benchmark::Counter(static_cast<double>(end.allocs - start.allocs),
                                                     benchmark::Counter::kAvgIterations);
    state.counters["B/op"] = benchmark::Counter(static_cast<double>(end.bytes - start.bytes),
                                                benchmark::Counter::kAvgIterations);
  }
};

// What the final handler runs with in a loop thread: its pool, arena and output.
struct LoopContext {
  BlockPool pool{kChunkSize};
  Arena arena{pool};
  OutBuf out{pool};
  DateCache date;
  void serve(const Request& req, LeasedCounter& visitors) {
    serve_hi(req, ConnHeader::None, {&visitors, &date, &arena, nullptr}, out);
    out.reset();
    arena.reset();
  }
};

// The counter the handler benches take numbers from: one lease of every number, as
// --counter memory installs.
LeasedCounter g_visitors;
const bool g_visitors_leased = (g_visitors.install(1, kEveryNumber), true);

void hi_final(benchmark::State& state, const Request& req) {
  LoopContext ctx;
  ctx.serve(req, g_visitors);  // warm: the pool holds its first chunk
  AllocMeter meter;
  for (auto _ : state) ctx.serve(req, g_visitors);
  meter.report(state);
}

using StepFn = void (*)(const Request&, ConnHeader, const talk::Env&, std::string&);

void hi_step(benchmark::State& state, const Request& req, StepFn step) {
  DateCache date;
  talk::Env env{&g_visitors, &date};
  std::string out;  // reused, like the Go benchmark's recorder
  step(req, ConnHeader::None, env, out);
  AllocMeter meter;
  for (auto _ : state) {
    out.clear();
    step(req, ConnHeader::None, env, out);
  }
  meter.report(state);
}

// RunParallel: every thread serves from its own loop context; all share the counter.
// Contexts are made before the threads start, so thread 0's meter sees only the loop.
std::vector<std::unique_ptr<LoopContext>> g_parallel;

void parallel_setup(const benchmark::State& state) {
  for (int i = 0; i < state.threads(); ++i) {
    g_parallel.push_back(std::make_unique<LoopContext>());
    g_parallel.back()->serve(kColorRequest, g_visitors);
  }
}
void parallel_teardown(const benchmark::State&) { g_parallel.clear(); }

void BenchmarkHiParallel(benchmark::State& state) {
  LoopContext& ctx = *g_parallel[static_cast<std::size_t>(state.thread_index())];
  AllocMeter meter;
  for (auto _ : state) ctx.serve(kColorRequest, g_visitors);
  if (state.thread_index() == 0) meter.report(state);
}

// llhttp and a request view (method, target, header spans): the parse alone.
struct View {
  struct Header {
    std::string_view name, value;
  };
  std::string_view target;
  Header headers[32];
  int n = 0;
  bool complete = false;
};

void BenchmarkParse(benchmark::State& state) {
  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  // llhttp hands each span in one piece when the request is in one buffer.
  settings.on_url = [](llhttp_t* p, const char* at, std::size_t n) {
    static_cast<View*>(p->data)->target = {at, n};
    return 0;
  };
  settings.on_header_field = [](llhttp_t* p, const char* at, std::size_t n) {
    View& v = *static_cast<View*>(p->data);
    if (v.n < 32) v.headers[v.n++].name = {at, n};
    return 0;
  };
  settings.on_header_value = [](llhttp_t* p, const char* at, std::size_t n) {
    View& v = *static_cast<View*>(p->data);
    v.headers[v.n - 1].value = {at, n};
    return 0;
  };
  settings.on_message_complete = [](llhttp_t* p) {
    static_cast<View*>(p->data)->complete = true;
    return 0;
  };
  llhttp_t parser;
  llhttp_init(&parser, HTTP_REQUEST, &settings);
  View view;
  parser.data = &view;
  AllocMeter meter;
  for (auto _ : state) {
    view.n = 0;
    view.complete = false;
    llhttp_execute(&parser, kBrowserRequest.data(), kBrowserRequest.size());
    benchmark::DoNotOptimize(view);
  }
  meter.report(state);
  if (!view.complete || view.n != 11 || llhttp_get_errno(&parser) != HPE_OK) state.SkipWithError("parse failed");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBrowserRequest.size()));
}

// Bytes in, response bytes out, no socket: the session a connection runs.
void round_trip(benchmark::State& state, std::string input) {
  BlockPool pool{kChunkSize};
  DateCache date;
  LoopStats stats;
  SessionEnv env{Limits{}, &pool, &g_visitors, &date, &stats};
  Session session(env);
  OutBuf out(pool);
  auto feed = [&] {
    Session::Result r = session.feed(input.data(), input.size(), out);
    out.reset();
    return r.next == Session::Next::Read && r.consumed == input.size();
  };
  feed();
  AllocMeter meter;
  bool ok = true;
  for (auto _ : state) ok &= feed();
  meter.report(state);
  if (!ok) state.SkipWithError("the session did not take every request");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
}

std::string repeat(std::string_view s, int n) {
  std::string r;
  for (int i = 0; i < n; ++i) r += s;
  return r;
}

// The talk's counter question (benchpar): what sharing one number costs as threads
// grow. "sharded" counts without handing out unique numbers: the floor.
struct alignas(64) Padded {
  std::atomic<std::uint64_t> v{0};
};
Padded g_seq_cst;
std::mutex g_mutex;
std::uint64_t g_locked = 0;
Padded g_shards[256];

Padded g_relaxed;
void BenchmarkVisitorCounterRelaxed(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(g_relaxed.v.fetch_add(1, std::memory_order_relaxed) + 1);
}
void BenchmarkVisitorCounterSeqCst(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(g_seq_cst.v.fetch_add(1) + 1);
}
void BenchmarkVisitorCounterMutex(benchmark::State& state) {
  for (auto _ : state) {
    std::lock_guard<std::mutex> lock(g_mutex);
    benchmark::DoNotOptimize(++g_locked);
  }
}
// The leased counter as a server runs it: numbers from leases a store thread keeps
// reserving (memory: one lease of everything; file: written and fsynced; Redis: one
// INCRBY each). A take() that finds none left (the store is slower than the takers)
// is retried, so waiting for a lease shows in ns/op.
std::unique_ptr<StoreThread> g_store;
const std::string g_bench_file = "/tmp/hi_bench-" + std::to_string(::getpid()) + ".counter";
template <int Store>
void leased_setup(const benchmark::State&) {
  const char* redis = std::getenv("HISERVE_BENCH_REDIS");
  const std::string spec = Store == 0 ? "memory" : Store == 1 ? "file:" + g_bench_file : redis ? redis : "";
  std::string error;
  g_store = StoreThread::open(spec, Store == 2 ? 100000 : 1000, &error);
  if (!g_store) {
    std::fprintf(stderr, "hi_bench: %s\n", error.c_str());
    std::exit(2);
  }
  g_store->start();
}
void leased_teardown(const benchmark::State&) {
  g_store.reset();
  std::remove(g_bench_file.c_str());
}
void BenchmarkVisitorCounterLeased(benchmark::State& state) {
  LeasedCounter& c = g_store->counter();
  for (auto _ : state) {
    std::uint64_t n;
    while ((n = c.take()) == 0) {
    }
    benchmark::DoNotOptimize(n);
  }
  if (state.thread_index() == 0) {
    state.counters["leases"] = static_cast<double>(g_store->status().leases);
    state.counters["503/op"] =
        benchmark::Counter(static_cast<double>(g_store->status().unavailable), benchmark::Counter::kAvgIterations);
  }
}

void BenchmarkVisitorCounterSharded(benchmark::State& state) {
  std::atomic<std::uint64_t>& mine = g_shards[state.thread_index() % 256].v;
  for (auto _ : state) mine.store(mine.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

int max_threads() { return std::max(2, static_cast<int>(std::thread::hardware_concurrency())); }

void register_all() {
  const struct {
    const char* name;
    StepFn fn;
  } steps[] = {{"step0", talk::step0}, {"step3", talk::step3}, {"step6", talk::step6}};
  for (const auto& [label, req] : {std::pair{"BenchmarkHi/", &kTalkRequest}, std::pair{"BenchmarkHiColor/", &kColorRequest}}) {
    const Request* r = req;
    for (const auto& s : steps) {
      StepFn fn = s.fn;
      benchmark::RegisterBenchmark((std::string(label) + s.name).c_str(),
                                   [r, fn](benchmark::State& st) { hi_step(st, *r, fn); });
    }
    benchmark::RegisterBenchmark((std::string(label) + "final").c_str(),
                                 [r](benchmark::State& st) { hi_final(st, *r); });
  }
  benchmark::RegisterBenchmark("BenchmarkHiParallel", BenchmarkHiParallel)
      ->ThreadRange(1, max_threads())
      ->UseRealTime()
      ->Setup(parallel_setup)
      ->Teardown(parallel_teardown);
  benchmark::RegisterBenchmark("BenchmarkParse", BenchmarkParse);
  benchmark::RegisterBenchmark("BenchmarkRoundTrip/single",
                               [](benchmark::State& st) { round_trip(st, std::string(kWrkRequest)); });
  benchmark::RegisterBenchmark("BenchmarkRoundTrip/pipelined16",
                               [](benchmark::State& st) { round_trip(st, repeat(kWrkRequest, 16)); });
  benchmark::RegisterBenchmark("BenchmarkRoundTrip/browser",
                               [](benchmark::State& st) { round_trip(st, std::string(kBrowserRequest)); });
  using BenchFn = void (*)(benchmark::State&);
  const std::pair<const char*, BenchFn> counters[] = {
      {"BenchmarkVisitorCounter/relaxed", BenchmarkVisitorCounterRelaxed},
      {"BenchmarkVisitorCounter/seq_cst", BenchmarkVisitorCounterSeqCst},
      {"BenchmarkVisitorCounter/mutex", BenchmarkVisitorCounterMutex},
      {"BenchmarkVisitorCounter/sharded", BenchmarkVisitorCounterSharded}};
  for (auto [name, fn] : counters)
    benchmark::RegisterBenchmark(name, fn)->ThreadRange(1, max_threads())->UseRealTime();
  // Leased: the file store in a temporary file; Redis with a large block when
  // HISERVE_BENCH_REDIS names a server.
  const std::pair<const char*, void (*)(const benchmark::State&)> leased[] = {
      {"memory", leased_setup<0>}, {"file", leased_setup<1>}, {"redis", leased_setup<2>}};
  for (auto [name, setup] : leased) {
    if (std::string_view(name) == "redis" && !std::getenv("HISERVE_BENCH_REDIS")) continue;
    benchmark::RegisterBenchmark((std::string("BenchmarkVisitorCounter/leased-") + name).c_str(), BenchmarkVisitorCounterLeased)
        ->ThreadRange(1, max_threads())
        ->UseRealTime()
        ->Setup(setup)
        ->Teardown(leased_teardown);
  }
}

// Takes --name=VALUE out of argv; returns VALUE, or "" when absent.
std::string take_flag(int& argc, char** argv, std::string_view name) {
  std::string value;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.size() > name.size() + 3 && a.substr(0, 2) == "--" && a.substr(2, name.size()) == name &&
        a[2 + name.size()] == '=')
      value = std::string(a.substr(name.size() + 3));
    else
      argv[out++] = argv[i];
  }
  argc = out;
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string go_out = take_flag(argc, argv, "go_out");
  const std::string cpuprofile = take_flag(argc, argv, "cpuprofile");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  register_all();
  GoReporter reporter(go_out);
  if (!cpuprofile.empty()) {
#ifdef HISERVE_PROFILER
    if (!ProfilerStart(cpuprofile.c_str())) return 1;
#else
    std::fprintf(stderr, "hi_bench: built without gperftools (libgoogle-perftools-dev); no --cpuprofile\n");
    return 2;
#endif
  }
  benchmark::RunSpecifiedBenchmarks(&reporter);
#ifdef HISERVE_PROFILER
  if (!cpuprofile.empty()) ProfilerStop();
#endif
  benchmark::Shutdown();
  return 0;
}
