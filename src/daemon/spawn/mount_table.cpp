#include "mount_table.hpp"

#include "unique_fd.hpp"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <charconv>

#include <fmt/format.h>

namespace pfd {

namespace {

/// mountinfo writes space, tab, newline and backslash in paths as \ooo.
std::string unescape(std::string_view field)
{
    std::string out;
    out.reserve(field.size());
    for (std::size_t i = 0; i < field.size(); ++i) {
        auto octal = [&](std::size_t k) { return k < field.size() && field[k] >= '0' && field[k] <= '7'; };
        if (field[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
            out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
            i += 3;
        } else {
            out += field[i];
        }
    }
    return out;
}

template <typename T>
bool number(std::string_view s, T& out)
{
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

std::optional<mount_entry> parse_line(std::string_view line)
{
    // "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw"
    std::string_view field[5];
    for (auto& f : field) {
        auto space = line.find(' ');
        if (space == std::string_view::npos) return std::nullopt;
        f = line.substr(0, space);
        line.remove_prefix(space + 1);
    }
    mount_entry e;
    unsigned long parent = 0;
    unsigned major = 0, minor = 0;
    auto colon = field[2].find(':');
    if (!number(field[0], e.id) || !number(field[1], parent) || colon == std::string_view::npos ||
        !number(field[2].substr(0, colon), major) || !number(field[2].substr(colon + 1), minor) ||
        !field[3].starts_with('/') || !field[4].starts_with('/'))
        return std::nullopt;
    e.device = makedev(major, minor);
    e.root = unescape(field[3]);
    e.point = unescape(field[4]);
    // Then the mount options and optional fields, up to " - TYPE SOURCE ...".
    auto separator = line.find(" - ");
    if (separator == std::string_view::npos) return std::nullopt;
    std::string_view type = line.substr(separator + 3);
    e.type = unescape(type.substr(0, type.find(' ')));
    return e;
}

std::string read_all(const std::string& path)
{
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    std::string text;
    if (!fd) return text;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    return text;
}

} // namespace

std::vector<mount_entry> parse_mountinfo(std::string_view text)
{
    std::vector<mount_entry> out;
    while (!text.empty()) {
        auto nl = text.find('\n');
        if (auto e = parse_line(text.substr(0, nl))) out.push_back(std::move(*e));
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return out;
}

std::vector<mount_entry> read_mountinfo(pid_t pid)
{
    return parse_mountinfo(read_all(pid ? fmt::format("/proc/{}/mountinfo", pid) : "/proc/self/mountinfo"));
}

std::optional<unsigned long> mount_id_of(int fd)
{
    std::string info = read_all(fmt::format("/proc/self/fdinfo/{}", fd));
    auto at = info.find("\nmnt_id:");
    if (at == std::string::npos) return std::nullopt;
    std::string_view rest = std::string_view(info).substr(at + 8);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    rest = rest.substr(0, rest.find('\n'));
    unsigned long id = 0;
    if (!number(rest, id)) return std::nullopt;
    return id;
}

bool may_hang(std::string_view type)
{
    return type == "fuse" || type == "fuseblk" || type.starts_with("fuse.") || type.starts_with("fuseblk.");
}

std::optional<std::string_view> below(std::string_view path, std::string_view dir)
{
    if (dir == "/")
        return path.starts_with('/') ? std::optional(path == "/" ? std::string_view() : path) : std::nullopt;
    if (!path.starts_with(dir)) return std::nullopt;
    std::string_view rest = path.substr(dir.size());
    if (!rest.empty() && rest.front() != '/') return std::nullopt;
    return rest;
}

} // namespace pfd
