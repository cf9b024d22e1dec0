#pragma once
// Directories pfd writes into (units, shims, its socket's), made as
// `install -D` and `mkdir -p` make them, and checked that nobody else can
// plant or replace what pfd puts there.

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace pfd {

/// Makes `dir` and every missing parent (`mode`, default 0777, less the
/// umask); one that exists is fine. Throws std::runtime_error "cannot
/// create directory 'DIR': why" (not std::filesystem's wording, which names
/// the call).
void make_directories(const std::string& dir, mode_t mode = 0777);

/// Why another user could replace or plant files in the directory `st`
/// describes ("owned by uid N, not by uid M", "writable by group or others
/// (mode N)"), or nothing when it is ours and nobody else may write it. The
/// one rule for the socket's and pidfile's directory and the units'.
std::optional<std::string> open_to_others(const struct stat& st);

/// Writes `text` as `name` in the directory `dir_fd`, mode `mode`: into a
/// new temporary file there (O_EXCL, O_NOFOLLOW: never through a planted
/// symlink), then renamed over `name`, which a reader sees whole, old or
/// new. Throws std::runtime_error naming `shown` (the directory's path).
void replace_file(int dir_fd, std::string_view shown, const std::string& name, std::string_view text, mode_t mode);

} // namespace pfd
