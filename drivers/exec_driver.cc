#include "drivers/exec_driver.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

namespace agate::drivers {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxOutput = 4u << 20;   // more than any answer needs
constexpr std::size_t kMaxMessage = 1024;      // of standard error, in a failure message

json::object rule_json(const events::RuleKey& key) {
  return {{"access_type", events::to_string(key.access_type)}, {"access_to", key.access_to}};
}

json::array rules_json(const std::vector<AccessRule>& rules) {
  json::array out;
  for (const auto& r : rules) {
    auto o = rule_json(r.key);
    o["access_level"] = events::to_string(r.level);
    out.push_back(std::move(o));
  }
  return out;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  if (s.size() > kMaxMessage) s = s.substr(0, kMaxMessage) + "…";
  return s;
}

struct Pipe {
  int read = -1, write = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  void close_read() {
    if (read >= 0) ::close(read), read = -1;
  }
  void close_write() {
    if (write >= 0) ::close(write), write = -1;
  }
};

struct Run {
  int status = 0;
  bool timed_out = false;
  std::string out, err;
};

Run run(const ExecOptions& o, const std::string& input) {
  Pipe in, out, err;
  // posix_spawn, not fork: agated is multithreaded, and nothing may allocate between a fork and
  // the exec. The program gets the default SIGPIPE disposition that agated does not have.
  std::vector<std::string> args{o.command.string()};
  args.insert(args.end(), o.arguments.begin(), o.arguments.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.write, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error(fmt::format("cannot run {}: {}", args[0], std::strerror(rc)));
  in.close_read();
  out.close_write();
  err.close_write();
  ::fcntl(in.write, F_SETFL, O_NONBLOCK);

  Run r;
  std::size_t written = 0;
  if (input.empty()) in.close_write();
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  char buf[8192];
  while (out.read >= 0 || err.read >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      break;
    }
    pollfd fds[3];
    int n = 0;
    if (in.write >= 0) fds[n++] = {in.write, POLLOUT, 0};
    if (out.read >= 0) fds[n++] = {out.read, POLLIN, 0};
    if (err.read >= 0) fds[n++] = {err.read, POLLIN, 0};
    if (::poll(fds, n, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == in.write) {
        const auto k = ::write(in.write, input.data() + written, input.size() - written);
        if (k > 0) written += static_cast<std::size_t>(k);
        if (k < 0 && errno != EAGAIN) in.close_write();  // the program stopped reading
        if (written == input.size()) in.close_write();
      } else {
        const bool is_out = fds[i].fd == out.read;
        const auto k = ::read(fds[i].fd, buf, sizeof buf);
        if (k <= 0) {
          is_out ? out.close_read() : err.close_read();
        } else {
          auto& sink = is_out ? r.out : r.err;
          if (sink.size() < kMaxOutput) sink.append(buf, static_cast<std::size_t>(k));
        }
      }
    }
  }
  if (r.timed_out) ::kill(pid, SIGKILL);
  ::waitpid(pid, &r.status, 0);
  return r;
}

class Exec final : public Driver {
 public:
  explicit Exec(ExecOptions o) : o_(std::move(o)) {}

  UpdateResult update_access(const UpdateRequest& request) override {
    Run r;
    try {
      r = run(o_, exec_request_json(request));
    } catch (const std::exception& e) {
      return UpdateResult::failed(e.what());
    }
    const std::string name = o_.command.filename().string();
    if (r.timed_out) {
      return UpdateResult::failed(
          fmt::format("{} did not finish within {} ms and was killed", name, o_.timeout.count()));
    }
    if (WIFSIGNALED(r.status)) {
      return UpdateResult::failed(fmt::format("{} was killed by signal {}: {}", name,
                                              WTERMSIG(r.status), trimmed(r.err)));
    }
    if (WEXITSTATUS(r.status) != 0) {
      return UpdateResult::failed(fmt::format("{} exited with status {}: {}", name,
                                              WEXITSTATUS(r.status), trimmed(r.err)));
    }
    return parse_exec_result(r.out);
  }

 private:
  ExecOptions o_;
};

std::optional<events::RuleKey> rule_key(const json::object& o) {
  const auto* type = o.if_contains("access_type");
  const auto* to = o.if_contains("access_to");
  if (!type || !to || !type->is_string() || !to->is_string()) return std::nullopt;
  auto t = events::parse_access_type(std::string_view(type->as_string()));
  if (!t) return std::nullopt;
  return events::RuleKey{*t, std::string(to->as_string())};
}

}  // namespace

std::string exec_request_json(const UpdateRequest& request) {
  json::array deletes;
  for (const auto& k : request.delete_rules) deletes.push_back(rule_json(k));
  const auto& in = request.instance;
  json::object o{{"instance",
                  {{"id", in.instance_id},
                   {"share_id", in.share_id},
                   {"host", in.host},
                   {"share_proto", in.share_proto},
                   {"export_path", in.export_path}}},
                 {"access_rules", rules_json(request.access_rules)},
                 {"add_rules", rules_json(request.add_rules)},
                 {"delete_rules", std::move(deletes)}};
  return json::serialize(o) + "\n";
}

UpdateResult parse_exec_result(std::string_view output) {
  UpdateResult result;
  if (output.find_first_not_of(" \t\r\n") == std::string_view::npos) return result;
  boost::system::error_code ec;
  auto value = json::parse(output, ec);
  if (ec || !value.is_object()) {
    return UpdateResult::failed(
        fmt::format("the driver's answer is not a JSON object: {}", trimmed(std::string(output))));
  }
  const auto& o = value.as_object();
  auto list = [&](const char* name) -> const json::array* {
    const auto* v = o.if_contains(name);
    return v && v->is_array() ? &v->as_array() : nullptr;
  };
  if ((o.contains("failures") && !list("failures")) ||
      (o.contains("access_keys") && !list("access_keys"))) {
    return UpdateResult::failed("the driver's answer has failures or access_keys that are not lists");
  }
  if (const auto* failures = list("failures")) {
    for (const auto& f : *failures) {
      auto key = f.is_object() ? rule_key(f.as_object()) : std::nullopt;
      const auto* message = f.is_object() ? f.as_object().if_contains("message") : nullptr;
      if (!key || (message && !message->is_string())) {
        return UpdateResult::failed("the driver's answer has a malformed failure");
      }
      result.failures.push_back(
          {*key, message ? std::string(message->as_string()) : "failed on the back end"});
    }
  }
  if (const auto* keys = list("access_keys")) {
    for (const auto& k : *keys) {
      auto key = k.is_object() ? rule_key(k.as_object()) : std::nullopt;
      const auto* secret = k.is_object() ? k.as_object().if_contains("access_key") : nullptr;
      if (!key || !secret || !secret->is_string()) {
        return UpdateResult::failed("the driver's answer has a malformed access key");
      }
      result.access_keys.push_back({*key, std::string(secret->as_string())});
    }
  }
  return result;
}

std::unique_ptr<Driver> make_exec_driver(ExecOptions options) {
  // A program that exits without reading its input must not kill agated with SIGPIPE when the
  // request is written to it: the write fails with EPIPE instead.
  ::signal(SIGPIPE, SIG_IGN);
  return std::make_unique<Exec>(std::move(options));
}

}  // namespace agate::drivers
