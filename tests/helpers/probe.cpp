// Prints what a started command sees of its own context, one "key=value" per
// line, so tests can assert on exactly what the daemon handed over.
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

int main(int argc, char** argv)
{
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
