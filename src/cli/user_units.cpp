#include "user_units.hpp"

#include "directories.hpp"
#include "pfd/error.hpp"
#include "systemd_units.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

namespace pfd {

namespace {

/// `word` as one word of a unit's command line: quoted when it holds
/// anything but the plainest characters, with systemd's specifiers (%) and
/// variables ($) doubled so that they mean themselves.
std::string unit_word(std::string_view word)
{
    if (word.find_first_of("\n\r") != std::string_view::npos)
        throw std::runtime_error(fmt::format("'{}' cannot be written into a unit file", word));
    bool plain = !word.empty() && word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                         "0123456789/_.+-=:,@") == std::string_view::npos;
    if (plain) return std::string(word);
    std::string out = "\"";
    for (char c : word) {
        if (c == '%' || c == '$') out += c; // doubled
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

/// `text` with every mention of the executable replaced by `word`.
std::string with_executable(std::string_view text, std::string_view word)
{
    std::string out;
    for (;;) {
        auto at = text.find(units::executable_placeholder);
        out += text.substr(0, at);
        if (at == std::string_view::npos) return out;
        out += word;
        text.remove_prefix(at + units::executable_placeholder.size());
    }
}

} // namespace

std::string install_user_units(const std::string& pfd_path, std::string unit_dir)
{
    if (unit_dir.empty()) {
        const char* xdg = std::getenv("XDG_CONFIG_HOME");
        const char* home = std::getenv("HOME");
        if (xdg && *xdg)
            unit_dir = std::string(xdg) + "/systemd/user";
        else if (home && *home)
            unit_dir = std::string(home) + "/.config/systemd/user";
        else
            throw std::runtime_error("neither XDG_CONFIG_HOME nor HOME is set");
    }
    std::string service = with_executable(units::service_template, unit_word(pfd_path));
    make_directories(unit_dir, 0755);
    // Everything through one descriptor of the directory, checked as the
    // socket's is: where another user may write, a symlink planted as
    // pfd.service would have us write through it into a file of ours.
    unique_fd dir(::open(unit_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    struct stat st {};
    if (!dir || ::fstat(dir.get(), &st) < 0) throw_errno(fmt::format("cannot open directory '{}'", unit_dir));
    if (auto why = open_to_others(st))
        throw std::runtime_error(fmt::format(
            "refusing to write units into '{}': it is {}; others could plant or replace them (chmod go-w, or "
            "name another directory)",
            unit_dir, *why));
    replace_file(dir.get(), unit_dir, "pfd.socket", units::socket_template, 0644);
    replace_file(dir.get(), unit_dir, "pfd.service", service, 0644);
    return unit_dir;
}

} // namespace pfd
