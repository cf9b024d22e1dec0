#include "log.hpp"

#include "quote.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace pfd {

namespace {

std::atomic<int> current{static_cast<int>(log_level::info)};

constexpr std::string_view level_names[] = {"error", "warn", "info", "debug"};
/// sd-daemon(3) priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG.
constexpr int journal_priorities[] = {3, 4, 6, 7};

/// Whether stderr is the journal's stream: systemd sets JOURNAL_STREAM to
/// its "DEV:INODE". Asked at each line, not once: log lines are rare (none
/// per request), and `pfd start` points stderr at a file after the first
/// may have been written.
bool stderr_is_journal()
{
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (!stream || !*stream) return false;
    unsigned long long dev = 0, ino = 0;
    char end = 0;
    if (std::sscanf(stream, "%llu:%llu%c", &dev, &ino, &end) != 2) return false;
    struct stat st {};
    return ::fstat(2, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

/// "2026-12-03T08:49:14.304+0000": local time, with its offset as a number.
std::string timestamp()
{
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    tm local{};
    ::localtime_r(&now.tv_sec, &local);
    char date[32], offset[8];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &local);
    std::strftime(offset, sizeof offset, "%z", &local);
    return fmt::format("{}.{:03}{}", date, now.tv_nsec / 1000000, offset);
}

} // namespace

std::optional<log_level> log_level_from_name(std::string_view name) noexcept
{
    if (name == "error") return log_level::error;
    if (name == "warn") return log_level::warn;
    if (name == "info") return log_level::info;
    if (name == "debug") return log_level::debug;
    return std::nullopt;
}

void set_log_level(log_level level) noexcept
{
    current = static_cast<int>(level);
}

bool log_enabled(log_level level) noexcept
{
    return static_cast<int>(level) <= current.load();
}

std::string log_line(log_level level, std::string_view message)
{
    auto i = static_cast<int>(level);
    if (stderr_is_journal()) return fmt::format("<{}>pfd: {}: {}\n", journal_priorities[i], level_names[i], message);
    return fmt::format("{} pfd: {}: {}\n", timestamp(), level_names[i], message);
}

void write_log(log_level level, std::string_view message) noexcept
{
    try {
        // One line per event: text from outside that a caller quoted
        // escaped (quote(), printable()) is left so; a message that still
        // holds a newline or a control (a client's string put in as it
        // came) is escaped whole, so that none forges a line.
        std::string line = log_line(level, needs_escaping(message) ? printable(message) : std::string(message));
        std::string_view rest = line;
        while (!rest.empty()) {
            ssize_t n = ::write(2, rest.data(), rest.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return; // nowhere to complain about it
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
    } catch (const std::exception&) {
        // Out of memory while logging: the line is lost, the daemon is not.
    }
}

} // namespace pfd
