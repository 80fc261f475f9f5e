#pragma once

// What the drivers whose back end is a generated configuration file share (nfs_exports, samba):
// reading the file back, replacing it atomically, running the reload command after it, and
// reading the drivers' options as text, as a back end's table in the configuration holds them.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace agate::drivers {

// The contents of `file`; std::nullopt if it does not exist. Throws std::system_error if it
// exists but cannot be read.
std::optional<std::string> read_file_if_exists(const std::filesystem::path& file);

struct ReplaceResult {
  bool replaced = false;  // `file` holds the new contents now, even if a later step failed
  std::string error;      // empty on success; otherwise the step, the path and the reason
};

// Replaces `file` with `contents` so that a reader, or the file after a crash, shows the old or
// the new contents, never a mix: writes `<file>.tmp` in the same directory, fsyncs it, renames it
// over `file`, fsyncs the directory. The new file keeps the old one's permission bits (0644 for
// a new file). A failure before the rename removes `<file>.tmp` and leaves `file` as it was.
// Does not guard against a concurrent writer of the same file: the caller serialises.
[[nodiscard]] ReplaceResult replace_file(const std::filesystem::path& file,
                                         std::string_view contents);

// Runs a reload command (command[0] an absolute path; no shell) with empty standard input.
// Returns std::nullopt if it exited with status 0; otherwise why not: it could not be started,
// its exit status or signal with its standard error, or the timeout (it is then killed).
[[nodiscard]] std::optional<std::string> run_reload_command(const std::vector<std::string>& command,
                                                            std::chrono::milliseconds timeout);

// Why a reload command and its timeout cannot be used; std::nullopt if they can. An empty
// command (no reload) is valid.
[[nodiscard]] std::optional<std::string> check_reload_command(
    const std::vector<std::string>& command, std::chrono::milliseconds timeout);

// Why `root` cannot be the directory the shares live under; std::nullopt if it can: an absolute
// path of letters, digits and "/._-+@:~" only, which every generated file can hold unquoted
// (no spaces for exports(5), no '%' for Samba's substitutions).
[[nodiscard]] std::optional<std::string> check_export_root(const std::filesystem::path& root);

// `<root>/share-<share_id>`, without a doubled slash when root is "/".
std::string share_path(const std::filesystem::path& root, std::string_view share_id);

// True for a non-empty id of letters, digits, '.', '_' and '-' (UUIDs and the like): what may go
// into a generated file's comments, paths and section names as it is.
bool is_plain_id(std::string_view id);

// Reads a driver's options given as text (tools/config.h's BackendConfig::options), remembering
// the first problem; every message names the driver and the option. After a problem every read
// returns std::nullopt; check finish() before using any value.
class OptionReader {
 public:
  // `driver` names the driver in messages ("nfs_exports").
  OptionReader(const std::map<std::string, std::string>& options, std::string driver);

  // The option as written; std::nullopt if absent.
  std::optional<std::string> text(std::string_view key);
  // An absolute path. A required option that is absent is an error.
  std::optional<std::filesystem::path> path(std::string_view key, bool required);
  // "true" or "false".
  std::optional<bool> boolean(std::string_view key);
  // Words separated by spaces, the first an absolute path (no shell runs it). Empty text is the
  // empty command.
  std::optional<std::vector<std::string>> command(std::string_view key);
  // A whole number of milliseconds, at least 1.
  std::optional<std::chrono::milliseconds> milliseconds(std::string_view key);

  // Records `message` (prefixed with the driver's name) unless a problem was already recorded.
  void fail(std::string_view message);
  // Records an error for any option not read above; returns the first problem, if any.
  const std::optional<std::string>& finish();

 private:
  const std::map<std::string, std::string>& options_;
  std::string driver_;
  std::set<std::string, std::less<>> known_;
  std::optional<std::string> error_;
};

}  // namespace agate::drivers
