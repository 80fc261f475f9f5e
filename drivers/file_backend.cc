#include "drivers/file_backend.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

#include "drivers/process.h"

namespace agate::drivers {

namespace {

constexpr std::size_t kMaxMessage = 1024;  // of a reload command's standard error, in a message
constexpr std::int64_t kMaxTimeoutMs = 24 * 3600 * 1000;

// Closes the descriptor it owns.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Returns close's errno, 0 on success.
  int close() {
    if (fd_ < 0) return 0;
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  if (s.size() > kMaxMessage) s = s.substr(0, kMaxMessage) + "…";
  return s;
}

std::string failure(std::string_view step, const std::filesystem::path& p, int err) {
  return fmt::format("{} {}: {}", step, p.string(), std::strerror(err));
}

}  // namespace

std::optional<std::string> read_file_if_exists(const std::filesystem::path& file) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw std::system_error(errno, std::generic_category(), "open " + file.string());
  }
  std::string text;
  char buf[65536];
  for (;;) {
    const auto n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "read " + file.string());
    if (n == 0) return text;
    text.append(buf, static_cast<std::size_t>(n));
  }
}

ReplaceResult replace_file(const std::filesystem::path& file, std::string_view contents) {
  ReplaceResult r;
  const std::filesystem::path tmp = file.string() + ".tmp";
  const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : ".";
  mode_t mode = 0644;
  struct stat st;
  if (::stat(file.c_str(), &st) == 0) mode = st.st_mode & 07777;

  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (fd.get() < 0) {
      r.error = failure("open", tmp, errno);
      return r;
    }
    auto give_up = [&](std::string_view step, int err) {
      r.error = failure(step, tmp, err);
      fd.close();
      ::unlink(tmp.c_str());
      return r;
    };
    // open's mode passes through the umask; the permission bits are set exactly here.
    if (::fchmod(fd.get(), mode) != 0) return give_up("fchmod", errno);
    std::size_t done = 0;
    while (done < contents.size()) {
      const auto n = ::write(fd.get(), contents.data() + done, contents.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return give_up("write", errno);
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return give_up("fsync", errno);
    if (const int err = fd.close(); err != 0) {
      r.error = failure("close", tmp, err);
      ::unlink(tmp.c_str());
      return r;
    }
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    r.error = failure(fmt::format("rename {} to", tmp.string()), file, errno);
    ::unlink(tmp.c_str());
    return r;
  }
  r.replaced = true;
  // The rename is durable once the directory is.
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.get() < 0) {
    r.error = failure("open directory", dir, errno);
  } else if (::fsync(d.get()) != 0) {
    r.error = failure("fsync directory", dir, errno);
  }
  return r;
}

std::optional<std::string> run_reload_command(const std::vector<std::string>& command,
                                              std::chrono::milliseconds timeout) {
  const std::string text = fmt::format("reload command '{}'", fmt::join(command, " "));
  ProcessResult r;
  try {
    r = run_process(command, "", timeout);
  } catch (const std::exception& e) {
    return fmt::format("{} failed: {}", text, e.what());
  }
  if (r.timed_out) {
    return fmt::format("{} did not finish within {} ms and was killed", text, timeout.count());
  }
  if (WIFSIGNALED(r.status)) {
    return fmt::format("{} was killed by signal {}: {}", text, WTERMSIG(r.status),
                       trimmed(std::move(r.err)));
  }
  if (WEXITSTATUS(r.status) != 0) {
    return fmt::format("{} exited with status {}: {}", text, WEXITSTATUS(r.status),
                       trimmed(std::move(r.err)));
  }
  return std::nullopt;
}

std::optional<std::string> check_reload_command(const std::vector<std::string>& command,
                                                std::chrono::milliseconds timeout) {
  if (!command.empty() && !std::filesystem::path(command.front()).is_absolute()) {
    return fmt::format(
        "the reload command's program must be an absolute path (no shell runs it), not '{}'",
        command.front());
  }
  if (timeout.count() < 1 || timeout.count() > kMaxTimeoutMs) {
    return fmt::format("the reload timeout must be 1 to {} ms, not {}", kMaxTimeoutMs,
                       timeout.count());
  }
  return std::nullopt;
}

std::optional<std::string> check_export_root(const std::filesystem::path& root) {
  const std::string text = root.string();
  if (!root.is_absolute()) {
    return fmt::format("the export root must be an absolute path, not '{}'", text);
  }
  for (const char c : text) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       std::string_view("/._-+@:~").find(c) != std::string_view::npos;
    if (!plain) {
      return fmt::format(
          "the export root '{}' may hold only letters, digits and the characters /._-+@:~", text);
    }
  }
  return std::nullopt;
}

std::string share_path(const std::filesystem::path& root, std::string_view share_id) {
  std::string base = root.string();
  while (!base.empty() && base.back() == '/') base.pop_back();
  return fmt::format("{}/share-{}", base, share_id);
}

bool is_plain_id(std::string_view id) {
  if (id.empty()) return false;
  for (const char c : id) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    if (!plain) return false;
  }
  return true;
}

OptionReader::OptionReader(const std::map<std::string, std::string>& options, std::string driver)
    : options_(options), driver_(std::move(driver)) {}

std::optional<std::string> OptionReader::text(std::string_view key) {
  known_.insert(std::string(key));
  if (error_) return std::nullopt;
  auto it = options_.find(std::string(key));
  if (it == options_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::filesystem::path> OptionReader::path(std::string_view key, bool required) {
  auto t = text(key);
  if (!t) {
    if (required) fail(fmt::format("option '{}' is required", key));
    return std::nullopt;
  }
  std::filesystem::path p(*t);
  if (!p.is_absolute()) {
    fail(fmt::format("option '{}' must be an absolute path, not '{}'", key, *t));
    return std::nullopt;
  }
  return p;
}

std::optional<bool> OptionReader::boolean(std::string_view key) {
  auto t = text(key);
  if (!t) return std::nullopt;
  if (*t == "true") return true;
  if (*t == "false") return false;
  fail(fmt::format("option '{}' must be true or false, not '{}'", key, *t));
  return std::nullopt;
}

std::optional<std::vector<std::string>> OptionReader::command(std::string_view key) {
  auto t = text(key);
  if (!t) return std::nullopt;
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < t->size()) {
    const auto start = t->find_first_not_of(" \t", i);
    if (start == std::string::npos) break;
    const auto end = std::min(t->find_first_of(" \t", start), t->size());
    words.push_back(t->substr(start, end - start));
    i = end;
  }
  if (!words.empty() && !std::filesystem::path(words.front()).is_absolute()) {
    fail(fmt::format(
        "option '{}': the program must be an absolute path (no shell runs it), not '{}'", key,
        words.front()));
    return std::nullopt;
  }
  return words;
}

std::optional<std::chrono::milliseconds> OptionReader::milliseconds(std::string_view key) {
  auto t = text(key);
  if (!t) return std::nullopt;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), value);
  if (ec != std::errc() || end != t->data() + t->size() || value < 1 || value > kMaxTimeoutMs) {
    fail(fmt::format("option '{}' must be a whole number of milliseconds from 1 to {}, not '{}'",
                     key, kMaxTimeoutMs, *t));
    return std::nullopt;
  }
  return std::chrono::milliseconds(value);
}

void OptionReader::fail(std::string_view message) {
  if (!error_) error_ = fmt::format("{} driver: {}", driver_, message);
}

const std::optional<std::string>& OptionReader::finish() {
  for (const auto& [key, value] : options_) {
    if (!known_.contains(key)) {
      fail(fmt::format("unknown option '{}' (it knows {})", key, fmt::join(known_, ", ")));
      break;
    }
  }
  return error_;
}

}  // namespace agate::drivers
