#include "signals.hpp"

#include <csignal>
#include <charconv>
#include <cctype>
#include <utility>

namespace pfd {

namespace {
constexpr std::pair<int, std::string_view> table[] = {
    {SIGHUP, "HUP"},       {SIGINT, "INT"},   {SIGQUIT, "QUIT"},   {SIGILL, "ILL"},   {SIGTRAP, "TRAP"},
    {SIGABRT, "ABRT"},     {SIGBUS, "BUS"},   {SIGFPE, "FPE"},     {SIGKILL, "KILL"}, {SIGUSR1, "USR1"},
    {SIGSEGV, "SEGV"},     {SIGUSR2, "USR2"}, {SIGPIPE, "PIPE"},   {SIGALRM, "ALRM"}, {SIGTERM, "TERM"},
    {SIGSTKFLT, "STKFLT"}, {SIGCHLD, "CHLD"}, {SIGCONT, "CONT"},   {SIGSTOP, "STOP"}, {SIGTSTP, "TSTP"},
    {SIGTTIN, "TTIN"},     {SIGTTOU, "TTOU"}, {SIGURG, "URG"},     {SIGXCPU, "XCPU"}, {SIGXFSZ, "XFSZ"},
    {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"}, {SIGWINCH, "WINCH"}, {SIGIO, "IO"},     {SIGPWR, "PWR"},
    {SIGSYS, "SYS"},
};

std::optional<int> parse_int(std::string_view s) noexcept
{
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}
} // namespace

std::optional<int> signal_from_name(std::string_view name) noexcept
{
    if (name.empty()) return std::nullopt;
    if (auto n = parse_int(name)) {
        if (*n >= 1 && *n < NSIG) return n;
        return std::nullopt;
    }
    std::string upper;
    for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string_view s = upper;
    if (s.starts_with("SIG")) s.remove_prefix(3);
    for (auto& [no, n] : table)
        if (n == s) return no;
    if (s.starts_with("RTMIN")) {
        s.remove_prefix(5);
        int off = s.empty() ? 0 : parse_int(s.substr(s[0] == '+' ? 1 : 0)).value_or(-1);
        if (off >= 0 && SIGRTMIN + off <= SIGRTMAX) return SIGRTMIN + off;
    } else if (s.starts_with("RTMAX")) {
        s.remove_prefix(5);
        int off = s.empty() ? 0 : -parse_int(s).value_or(1);
        if (off >= 0 && SIGRTMAX - off >= SIGRTMIN) return SIGRTMAX - off;
    }
    return std::nullopt;
}

std::string signal_name(int signo)
{
    for (auto& [no, n] : table)
        if (no == signo) return std::string(n);
    return std::to_string(signo);
}

} // namespace pfd
