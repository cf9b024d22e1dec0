#include "command_policy.hpp"
#include "quote.hpp"

#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace pfd {

namespace {

/// Where an entry without a '/' is looked for: the system's directories, as
/// in Debian's default PATH, and the command's PATH entries.
constexpr const char* system_directories[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                              "/usr/bin",        "/sbin",          "/bin"};

bool any_match(const std::vector<std::string>& patterns, const std::string& text)
{
    return std::any_of(patterns.begin(), patterns.end(),
                       [&](const std::string& p) { return ::fnmatch(p.c_str(), text.c_str(), FNM_PATHNAME) == 0; });
}

std::string base_name(const std::string& path)
{
    return path.substr(path.rfind('/') + 1);
}

/// The directories an entry without a '/' stands for. An allow-list takes
/// only those that only root can write (a `git` in a directory the client
/// could fill is not the `git` the list means), a deny-list every one.
std::vector<std::string> directories_for(const std::vector<std::string>& env, bool root_only)
{
    std::vector<std::string> dirs(std::begin(system_directories), std::end(system_directories));
    for (auto& entry : path_entries(search_path_of(env)))
        if (entry.starts_with('/') && std::find(dirs.begin(), dirs.end(), entry) == dirs.end()) dirs.push_back(entry);
    if (root_only) std::erase_if(dirs, [](const std::string& d) { return !root_controlled_directory(d); });
    return dirs;
}

bool literal(const std::string& pattern)
{
    return pattern.find_first_of("*?[\\") == std::string::npos;
}

/// The files the literal entries among `patterns` name here: a path, or a
/// file name in each of `dirs`; a symlink names the file it leads to.
/// (Entries with wildcards are matched against the file's names instead:
/// expanding `/usr/bin/*` would stat thousands of files for every command.)
std::vector<file_identity> files_named(const std::vector<std::string>& patterns, const std::vector<std::string>& dirs)
{
    std::vector<file_identity> files;
    auto add = [&](const std::string& path) {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) files.push_back({st.st_dev, st.st_ino});
    };
    for (auto& p : patterns) {
        if (!literal(p)) continue;
        if (p.find('/') != std::string::npos)
            add(p);
        else
            for (auto& dir : dirs) add(dir + "/" + p);
    }
    return files;
}

bool among(const std::vector<file_identity>& files, const file_identity& id)
{
    return std::find(files.begin(), files.end(), id) != files.end();
}

/// The names the file has here, each checked to lead to it: its path (see
/// path_here) and the absolute name it was found by (a symlink such as
/// /usr/bin/vi).
std::vector<std::string> names_here(const found_program& file)
{
    std::vector<std::string> names;
    if (auto here = path_here(file); !here.empty()) names.push_back(here);
    struct stat st {};
    if (file.name.starts_with('/') && ::stat(file.name.c_str(), &st) == 0 &&
        file_identity{st.st_dev, st.st_ino} == file.identity && (names.empty() || names.front() != file.name))
        names.push_back(file.name);
    return names;
}

/// Whether a pattern with wildcards matches one of the file's names: with a
/// '/' the whole name, without its file name, and for an allow-list
/// (`root_only`) only in a directory only root can write.
bool named_by(const std::vector<std::string>& patterns, const std::vector<std::string>& names, bool root_only)
{
    for (auto& name : names) {
        auto slash = name.rfind('/');
        std::string dir = slash == 0 ? "/" : name.substr(0, slash);
        std::optional<bool> root_dir;
        for (auto& p : patterns) {
            bool whole = p.find('/') != std::string::npos;
            if (::fnmatch(p.c_str(), (whole ? name : name.substr(slash + 1)).c_str(), FNM_PATHNAME) != 0) continue;
            if (whole || !root_only) return true;
            if (!root_dir) root_dir = root_controlled_directory(dir);
            if (*root_dir) return true;
        }
    }
    return false;
}

/// A deny-list catches the file itself under any name, and every name the
/// file goes by: its names here and the name it was asked for, which may
/// be a copy of a denied program under its own name.
bool denied(const std::vector<std::string>& patterns, const std::vector<file_identity>& files,
            const found_program& file)
{
    if (among(files, file.identity)) return true;
    auto names = names_here(file);
    names.push_back(file.name);
    if (named_by(patterns, names, false)) return true;
    // Literal entries too, by name: `deny = ["rm"]` refuses ./rm as well.
    for (auto& p : patterns)
        for (auto& name : names)
            if (literal(p) && (p.find('/') != std::string::npos ? name == p : base_name(name) == p)) return true;
    return false;
}

bool allowed(const std::vector<std::string>& patterns, const std::vector<std::string>& env, const found_program& file)
{
    return among(files_named(patterns, directories_for(env, true)), file.identity) ||
           named_by(patterns, names_here(file), true);
}

} // namespace

std::optional<std::string> command_refusal(const policy_section& policy, const program_launch& launch,
                                           const std::vector<std::string>& env, const std::string& name)
{
    if (policy.allow_commands.empty() && policy.deny_commands.empty()) return std::nullopt;
    std::string refused = fmt::format("{} is not allowed here ([policy])", quote(name));
    if (!policy.deny_commands.empty()) {
        auto denied_files = files_named(policy.deny_commands, directories_for(env, false));
        for (std::size_t i = 0; i < launch.chain.size(); ++i) {
            if (!denied(policy.deny_commands, denied_files, launch.chain[i])) continue;
            if (i == 0) return refused;
            return fmt::format("{}: its interpreter {} is not allowed here ([policy])", quote(name),
                               quote(launch.chain[i].name));
        }
        if (launch.shell && denied(policy.deny_commands, denied_files, *launch.shell))
            return fmt::format("{}: the shell that would run it is not allowed here ([policy])", quote(name));
    }
    if (!policy.allow_commands.empty() && !allowed(policy.allow_commands, env, launch.chain.front())) return refused;
    return std::nullopt;
}

bool applet_allowed(const policy_section& policy, const std::string& name)
{
    if (any_match(policy.deny_commands, name)) return false;
    return policy.allow_commands.empty() || any_match(policy.allow_commands, name);
}

} // namespace pfd
