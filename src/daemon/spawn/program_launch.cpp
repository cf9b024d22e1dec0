#include "program_launch.hpp"
#include "quote.hpp"
#include "spawn_error.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>

#include <fmt/format.h>

namespace pfd {

namespace {

/// The kernel reads this much of a file to tell its format (BINPRM_BUF_SIZE)
/// and follows at most this many interpreters.
constexpr std::size_t head_size = 256;
constexpr int interpreters_max = 5;

enum class format { elf, script, other };

/// The first bytes of the file, read through a descriptor opened from the
/// O_PATH one by reference (the magic link of this process's own /proc);
/// nothing when it cannot be read (a file with only the x bit: the kernel
/// still runs it if it is a binary).
std::optional<std::string> head_of(const found_program& file)
{
    unique_fd readable(
        ::open(fmt::format("/proc/self/fd/{}", file.file.get()).c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!readable) return std::nullopt;
    std::string head(head_size, '\0');
    ssize_t n = ::pread(readable.get(), head.data(), head.size(), 0);
    head.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return head;
}

format format_of(std::string_view head)
{
    if (head.starts_with("\x7f"
                         "ELF"))
        return format::elf;
    if (head.starts_with("#!")) return format::script;
    return format::other;
}

/// Whether only root can make `program`'s name lead to another file.
bool stable(const found_program& program)
{
    if (!program.name.starts_with('/')) return false;
    std::string real = path_here(program);
    if (real.empty()) return false;
    auto dir_of = [](const std::string& path) { return path.substr(0, std::max<std::size_t>(path.rfind('/'), 1)); };
    std::string found_in = dir_of(program.name), lies_in = dir_of(real);
    return root_controlled_directory(found_in) && (lies_in == found_in || root_controlled_directory(lies_in));
}

bool blank(char c)
{
    return c == ' ' || c == '\t';
}

} // namespace

std::optional<shebang> parse_shebang(std::string_view head)
{
    if (!head.starts_with("#!")) return std::nullopt;
    head = head.substr(0, head_size);
    auto newline = head.find('\n');
    bool whole_line = newline != std::string_view::npos;
    std::string_view line = head.substr(2, whole_line ? newline - 2 : std::string_view::npos);
    if (auto nul = line.find('\0'); nul != std::string_view::npos) line = line.substr(0, nul);
    while (!line.empty() && blank(line.front())) line.remove_prefix(1);
    while (!line.empty() && blank(line.back())) line.remove_suffix(1);
    std::size_t end = 0;
    while (end < line.size() && !blank(line[end])) ++end;
    if (end == 0) return std::nullopt;
    // Without a newline in the buffer the interpreter's name must end
    // inside it, or the kernel could not know it whole.
    if (!whole_line && end == line.size() && head.size() == head_size) return std::nullopt;
    shebang s{std::string(line.substr(0, end)), std::nullopt};
    std::string_view rest = line.substr(end);
    while (!rest.empty() && blank(rest.front())) rest.remove_prefix(1);
    if (!rest.empty()) s.argument = std::string(rest);
    return s;
}

program_launch launch_of(found_program program, int dir, const std::string& dir_name, bool judged)
{
    program_launch launch;
    std::string top_name = program.name;
    if (stable(program)) launch.stable_name = program.name;
    // The kernel runs a stable name as it always did: its interpreters are
    // looked at only when there is a list to judge them by.
    if (!launch.stable_name.empty() && !judged) {
        launch.chain.push_back(std::move(program));
        return launch;
    }
    launch.chain.push_back(std::move(program));
    for (;;) {
        auto head = head_of(launch.chain.back());
        if (!head) break;
        format kind = format_of(*head);
        if (kind == format::elf) break;
        auto line = kind == format::script ? parse_shebang(*head) : std::nullopt;
        if (!line) {
            // Not a format the kernel knows by itself: if binfmt_misc does not
            // either, the shell runs the command's file, as execvpe(3) does.
            launch.shell = open_program("/bin/sh", AT_FDCWD, dir_name);
            break;
        }
        if (static_cast<int>(launch.chain.size()) > interpreters_max)
            throw spawn_error(errc::not_executable, ELOOP,
                              fmt::format("{}: {}", quote(top_name), std::strerror(ELOOP)));
        found_program interpreter;
        try {
            interpreter = open_program(line->interpreter, dir, dir_name);
        } catch (const spawn_error& e) {
            throw spawn_error(e.code(), e.error(),
                              fmt::format("{}: bad interpreter: {}", quote(launch.chain.back().name), e.what()));
        }
        std::vector<std::string> next{line->interpreter};
        if (line->argument) next.push_back(*line->argument);
        next.push_back(launch.chain.back().name);
        if (!launch.leading.empty()) next.insert(next.end(), launch.leading.begin() + 1, launch.leading.end());
        launch.leading = std::move(next);
        launch.chain.push_back(std::move(interpreter));
    }
    return launch;
}

} // namespace pfd
