#pragma once
// Directories a user names for pfd to write into (units, shims), made as
// `install -D` and `mkdir -p` make them.

#include <string>

namespace pfd {

/// Makes `dir` and every missing parent (mode 0777 less the umask); one that
/// exists is fine. Throws std::runtime_error "cannot create directory 'DIR':
/// why" (not std::filesystem's wording, which names the call).
void make_directories(const std::string& dir);

} // namespace pfd
