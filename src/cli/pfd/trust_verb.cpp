// `pfd trust`: which project files (.pfd.toml) are honoured.

#include "verbs.hpp"
#include "project_trust.hpp"
#include "quote.hpp"

#include "pfd/discovery.hpp"

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

namespace pfd {

namespace {

/// PATH made absolute (symlinks in directories resolved, as discovery sees
/// them from getcwd), or the nearest .pfd.toml from here.
std::string project_file_path(const std::optional<std::string>& given)
{
    if (!given) {
        char here[PATH_MAX];
        auto found = find_project_file(::getcwd(here, sizeof here) ? here : "/");
        if (!found) throw cli_usage_error{"no .pfd.toml here or above; name the file", "trust"};
        return *found;
    }
    const std::string& path = *given;
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    char real[PATH_MAX];
    if (!::realpath(dir.c_str(), real))
        throw std::runtime_error(fmt::format("'{}': no such directory", printable(dir)));
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    return (std::string_view(real) == "/" ? "" : std::string(real)) + "/" + base;
}

int list(const trust_store& store)
{
    for (auto& e : store.entries()) {
        std::string why;
        auto file = read_project_file(e.path, why);
        std::string state = !file                                   ? "unusable: " + why
                            : content_hash(file->content) == e.hash ? "trusted"
                                                                    : "changed since trusted";
        fmt::print("{}  {}\n", printable(e.path), state);
    }
    return 0;
}

} // namespace

int trust(const trust_args& t)
{
    trust_store store;
    if (t.list && t.revoke) throw cli_usage_error{"--list and --revoke exclude each other", "trust"};
    if (t.list) {
        if (t.file) throw cli_usage_error{fmt::format("unexpected argument '{}' with --list", *t.file), "trust"};
        return list(store);
    }
    if (t.revoke) {
        std::string path = project_file_path(t.file);
        if (!store.revoke(path)) {
            fmt::print(stderr, "pfd: {} was not trusted\n", printable(path));
            return 1;
        }
        fmt::print("pfd: no longer trusted: {}\n", printable(path));
        return 0;
    }
    std::string path = project_file_path(t.file);
    std::string why;
    auto file = read_project_file(path, why);
    if (!file) throw std::runtime_error(fmt::format("cannot trust {}: {}", printable(path), why));
    store.trust(*file);
    fmt::print("pfd: trusted {} as it is now; an edit makes it untrusted again\n", printable(path));
    return 0;
}

} // namespace pfd
