#pragma once
// A project's .pfd.toml is honoured only when it is the user's own (a
// regular file owned by the user or root, not writable by group or others)
// and trusted with `pfd trust`, which records its path and SHA-256 under
// $XDG_DATA_HOME/pfd/trusted: an edit makes it untrusted again (as direnv's
// `allow` and mise's `trust`). A file found but not honoured is as if absent.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pfd {

/// A project file as read, once, through one descriptor.
struct project_file {
    std::string path; ///< absolute
    std::string content;
};

/// The file at `path` if it is a regular file (not a symlink) owned by us
/// or root and not writable by group or others; else nothing, and `why`
/// says what is wrong with it.
std::optional<project_file> read_project_file(const std::string& path, std::string& why);

/// The SHA-256 of `content`, in hex.
std::string content_hash(std::string_view content);

/// The trusted project files: "<sha256> <path>" lines in a file of ours.
class trust_store {
public:
    struct entry {
        std::string hash, path;
    };

    /// $XDG_DATA_HOME/pfd/trusted (default ~/.local/share/pfd/trusted).
    static std::string default_path();
    explicit trust_store(std::string path = default_path()) : path_(std::move(path)) {}

    std::vector<entry> entries() const;
    /// Whether `file`, with this very content, was trusted at its path.
    bool trusts(const project_file& file) const;
    /// Records `file` (replacing an earlier record of its path). Throws.
    void trust(const project_file& file) const;
    /// Forgets `path`; false if it was not recorded. Throws on write errors.
    bool revoke(const std::string& path) const;

private:
    void write(const std::vector<entry>& entries) const;
    std::string path_;
};

/// The nearest .pfd.toml from `cwd` up to / when it is safe and trusted. A
/// file found but not honoured is ignored, and `notice` says so: "ignoring
/// FILE: not trusted; `pfd trust FILE` trusts it" (the caller prints it,
/// in its own name).
std::optional<project_file> honoured_project_file(const std::string& cwd, std::string& notice);

} // namespace pfd
