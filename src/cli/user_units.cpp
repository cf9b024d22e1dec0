#include "user_units.hpp"

#include "directories.hpp"
#include "systemd_units.hpp"

#include <cstdlib>
#include <fstream>
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
    make_directories(unit_dir);
    auto write = [&](const std::string& name, std::string_view text) {
        std::ofstream f(unit_dir + "/" + name);
        f << text;
        if (!f) throw std::runtime_error(fmt::format("cannot write '{}/{}'", unit_dir, name));
    };
    write("pfd.socket", units::socket_template);
    write("pfd.service", with_executable(units::service_template, unit_word(pfd_path)));
    return unit_dir;
}

} // namespace pfd
