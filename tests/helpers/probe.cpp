// Prints what a started command sees of its own context, one "key=value" per
// line, so tests can assert on exactly what the daemon handed over.
// `probe --pattern SEED OUT ERR` instead writes OUT bytes of soak::pattern
// stream 1 on stdout and ERR bytes of stream 2 on stderr, interleaved in
// 64 KiB chunks (the soak test checks every byte).
#include "pattern.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

bool write_all(int fd, const unsigned char* p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

int pattern(unsigned long long seed, unsigned long long out, unsigned long long err)
{
    static unsigned char buf[65536];
    unsigned long long done[3] = {0, 0, 0}, want[3] = {0, out, err};
    while (done[1] < want[1] || done[2] < want[2]) {
        for (int s = 1; s <= 2; ++s) {
            unsigned long long n = want[s] - done[s];
            if (n == 0) continue;
            if (n > sizeof buf) n = sizeof buf;
            soak::pattern_fill(seed, s, done[s], buf, n);
            if (!write_all(s, buf, n)) return 1;
            done[s] += n;
        }
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc == 5 && std::string(argv[1]) == "--pattern")
        return pattern(std::strtoull(argv[2], nullptr, 10), std::strtoull(argv[3], nullptr, 10),
                       std::strtoull(argv[4], nullptr, 10));
    std::string fds;
    DIR* d = opendir("/proc/self/fd");
    for (dirent* e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.' || std::atoi(e->d_name) == dirfd(d)) continue;
        fds += (fds.empty() ? "" : ",") + std::string(e->d_name);
    }
    if (d) closedir(d);
    std::printf("fds=%s\n", fds.c_str());

    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("SigBlk:")) std::printf("blocked=%s\n", line.substr(8).c_str());
        if (line.starts_with("SigIgn:")) std::printf("ignored=%s\n", line.substr(8).c_str());
    }
    std::printf("pgid_is_pid=%d\n", getpgid(0) == getpid());
    std::printf("sid_is_pid=%d\n", getsid(0) == getpid());
    mode_t mask = umask(0);
    std::printf("umask=%04o\n", mask);
    rlimit nofile{};
    getrlimit(RLIMIT_NOFILE, &nofile);
    std::printf("nofile=%llu\n", static_cast<unsigned long long>(nofile.rlim_cur));
    char cwd[4096];
    std::printf("cwd=%s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
    const char* tty = ttyname(0);
    std::printf("tty=%s\n", tty ? tty : "none");
    for (int i = 1; i < argc; ++i) std::printf("arg=%s\n", argv[i]);
    return 0;
}
