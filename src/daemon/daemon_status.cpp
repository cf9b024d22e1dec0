#include "daemon_status.hpp"

#include "pfd/version.hpp"

#include <unistd.h>

#include <cstdio>

namespace pfd {

namespace {

std::uint64_t resident_kib()
{
    long pages = 0, resident = 0;
    std::FILE* st = std::fopen("/proc/self/statm", "r");
    if (!st) return 0;
    if (std::fscanf(st, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(st);
    return static_cast<std::uint64_t>(resident * (::sysconf(_SC_PAGESIZE) / 1024));
}

} // namespace

std::string environment_source(const server_options& o)
{
    if (!o.container.host_environment) return "the client's own ([container] environment = \"client\")";
    if (!o.host_environment) return "the daemon's own, without a shell's bookkeeping";
    return o.host_environment(false).source;
}

status_event daemon_status(const session_registry& registry, const latency_window& latency, const std::string& socket,
                           std::chrono::steady_clock::time_point started)
{
    auto f = registry.snapshot();
    status_event s;
    s.pid = ::getpid();
    s.socket = socket;
    s.uptime_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
    s.version = version();
    s.build = build_id();
    s.running = f.running;
    s.served = f.served;
    auto l = latency.summary();
    s.latency_mean_us = l.mean_us;
    s.latency_p99_us = l.p99_us;
    s.rss_kib = resident_kib();
    return s;
}

} // namespace pfd
