#pragma once
// Where a daemon's configuration came from, by reference: the system and
// user files (by path, read when they exist), `--config FILE` and the
// project's .pfd.toml with the SHA-256 it was trusted with. A reload reads
// exactly these again and a successor (`pfd restart`, an upgrade) is handed
// exactly these: neither looks for a project file from where it happens to
// run, so neither can lose the project's policy nor pick up another file.

#include "config.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pfd {

/// A project file as a daemon trusted it.
struct trusted_file {
    std::string path; ///< absolute
    std::string hash; ///< content_hash() of what the daemon applied
};

struct config_sources {
    std::vector<std::string> files; ///< the system and the user file, in order, whether they exist or not
    std::string required;           ///< --config FILE, absolute; empty: none
    std::optional<trusted_file> project;
};

/// How the project file must be now, when `sources` are read again.
enum class project_check {
    /// Still the user's own and trusted (an edit the user trusted again
    /// with `pfd trust` is taken, and its hash recorded): a reload.
    trusted,
    /// That, and the very content the hash names: a successor runs what its
    /// predecessor ran, or nothing.
    unchanged,
};

/// Reads exactly `sources`: the whole configuration, or a config_error and
/// nothing. A project file that is gone, unsafe (not a regular file of the
/// user's, writable by others, a symlink), changed or no longer trusted is
/// an error naming it and saying how to trust it: it never just drops out.
/// With project_check::trusted, `sources.project->hash` becomes the hash of
/// what was read.
config load_config(config_sources& sources, project_check check);

/// `sources` as one line of text for the environment of a successor
/// ($PFD_CONFIG_SOURCES), and back. decode_sources throws config_error on
/// text that is not such a line.
std::string encode_sources(const config_sources& sources);
config_sources decode_sources(std::string_view text);

} // namespace pfd
