// Real processes for the tests that need them: the hiserve binary, redis-server. Each
// runs with its stderr on a pipe the test reads, and is killed (SIGKILL) and reaped if
// the test leaves it running.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace test {

class Process {
 public:
  // Starts argv[0] (looked up in PATH) with argv; dies on failure to spawn.
  explicit Process(const std::vector<std::string>& argv);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // The next line it writes on stderr (without the newline); "" at EOF or after
  // `timeout_s` seconds.
  std::string line(double timeout_s = 10);
  // Everything it writes on stderr until it exits (for a process that is exiting).
  std::string rest();
  void signal(int sig);
  // Waits for it to exit; its exit status (as waitpid gives it).
  int wait();

 private:
  pid_t pid_ = -1;
  int err_ = -1;
  std::string buf_;
  bool reaped_ = false;
};

// hiserve (the binary this build made, or `binary`) with --port 0 and args, once it
// says which port it listens on (and, given --metrics-addr as a separate argument, its
// metrics port).
struct Hiserve {
  Process proc;
  int port = 0;
  int metrics_port = -1;
  std::vector<std::string> before;  // the store's lines that came before the port's
  explicit Hiserve(const std::vector<std::string>& args, const std::string& binary = "");
};

// redis-server on a free loopback port, its files in a fresh temporary directory.
struct RedisServer {
  std::string dir;
  int port = 0;
  Process* proc = nullptr;
  RedisServer();
  ~RedisServer();
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port); }
};

// A fresh temporary directory (removed by the caller's TempDir).
struct TempDir {
  std::string path;
  TempDir();
  ~TempDir();
};

// Runs cmd under sh, stderr with stdout; its output, and its exit status in *status.
std::string run_shell(const std::string& cmd, int* status = nullptr);

// The hiserve binary this build made.
const char* hiserve_binary();

// A loopback port nothing listens on right now, from outside the ephemeral range.
int free_port();

// Whether something accepts connections on the loopback port, within 5 s.
bool comes_up(int port);

}  // namespace test
