// The client side of the soak test (tests/soak/soak_test.py), run inside one
// "container": LOOPS client loops, each a process of its own, that run
// hostexec with a mix of commands until SECONDS have passed, and log every
// operation, expected against actual, to LOGDIR/NAME-lK.log:
//
//   op=OP tag=TAG exp=E got=G us=LATENCY ok=0|1 detail=...
//
// Statuses are hostexec's as a shell shows them: its exit code, or 128+N when
// it died of signal N. Static (the podman container has only busybox), and it
// speaks the protocol itself (ps, cancel, watch) so it needs no pfd inside.
//
//   soak_driver NAME LOOPS SECONDS SOCKET HOSTEXEC PROBE LOGDIR TOKEN [OPS]
//
// PROBE is the host's path of tests/helpers/probe (the command runs on the
// host). TOKEN is put in every command's argv and in its environment
// (PFD_SOAK_MARK), so the test finds anything left behind. OPS ("true,big")
// keeps only those operations of the mix.
#include "../helpers/pattern.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct config {
    std::string name, socket, hostexec, probe, logdir, token;
    std::string only; ///< operations to run, "a,b,c" (empty: all)
    int loops = 32;
    int seconds = 45;
};
config cfg;

long long now_us()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now().time_since_epoch()).count();
}

/// Milliseconds left until `deadline_us` (0 when past).
int left_ms(long long deadline_us)
{
    long long left = (deadline_us - now_us()) / 1000;
    return left < 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

int shell_status(int status)
{
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

/// Checks one output stream against soak::pattern as it arrives.
struct stream_check {
    std::uint64_t seed = 0;
    int stream = 1;
    bool verify = false;
    std::uint64_t bytes = 0;
    std::int64_t first_bad = -1; ///< offset of the first wrong byte
    std::string text;            ///< what came, when not verifying (bounded)

    void feed(const unsigned char* p, size_t n)
    {
        if (verify) {
            if (first_bad < 0) {
                static thread_local std::vector<unsigned char> want;
                want.resize(n);
                soak::pattern_fill(seed, stream, bytes, want.data(), n);
                if (std::memcmp(want.data(), p, n) != 0)
                    for (size_t k = 0; k < n; ++k)
                        if (want[k] != p[k]) {
                            first_bad = static_cast<std::int64_t>(bytes + k);
                            break;
                        }
            }
        } else if (text.size() < 65536) {
            text.append(reinterpret_cast<const char*>(p), std::min(n, 65536 - text.size()));
        }
        bytes += n;
    }
};

/// hostexec with stdout and stderr on pipes, stdin /dev/null.
struct client {
    pid_t pid = -1;
    int pidfd = -1, out = -1, err = -1;
    int status = -1;
    bool reaped = false;
    stream_check out_check{.stream = 1}, err_check{.stream = 2};

    explicit client(const std::vector<std::string>& command)
    {
        int o[2], e[2];
        if (pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0) {
            perror("soak_driver: pipe2");
            std::exit(2);
        }
        std::vector<std::string> argv = {cfg.hostexec, "--socket", cfg.socket, "--env", "PFD_SOAK_MARK=" + cfg.token,
                                         "--"};
        argv.insert(argv.end(), command.begin(), command.end());
        pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
            dup2(null, 0);
            dup2(o[1], 1);
            dup2(e[1], 2);
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(a.data());
            args.push_back(nullptr);
            char path[] = "PATH=/usr/bin:/bin";
            char* env[] = {path, nullptr};
            execve(args[0], args.data(), env);
            _exit(124);
        }
        close(o[1]);
        close(e[1]);
        out = o[0];
        err = e[0];
        pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    }
    ~client()
    {
        if (!reaped && pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
        for (int fd : {pidfd, out, err})
            if (fd >= 0) close(fd);
    }
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// One poll round over the pipes and the process; false on timeout.
    bool pump(int timeout_ms)
    {
        pollfd p[3] = {{out, POLLIN, 0}, {err, POLLIN, 0}, {reaped ? -1 : pidfd, POLLIN, 0}};
        // Without a pidfd (an old kernel), look at the process every 20 ms.
        int n = poll(p, 3, pidfd < 0 && !reaped ? std::min(timeout_ms, 20) : timeout_ms);
        if (n == 0 && pidfd < 0 && !reaped && timeout_ms > 20) {
            reap();
            return true;
        }
        if (n < 0 && errno == EINTR) return true;
        if (n <= 0) return false;
        static unsigned char buf[65536];
        for (int i = 0; i < 2; ++i) {
            if (!p[i].revents) continue;
            int& fd = i == 0 ? out : err;
            ssize_t r = read(fd, buf, sizeof buf);
            if (r > 0) {
                (i == 0 ? out_check : err_check).feed(buf, static_cast<size_t>(r));
            } else if (r == 0 || errno != EINTR) {
                close(fd);
                fd = -1;
            }
        }
        if (p[2].revents || (pidfd < 0 && !reaped)) reap();
        return true;
    }
    void reap()
    {
        int st = 0;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            status = shell_status(st);
            reaped = true;
        }
    }
    /// Reads stdout until it holds `needle`; false on timeout or end.
    bool read_until(const std::string& needle, long long deadline_us)
    {
        while (out_check.text.find(needle) == std::string::npos) {
            if (out < 0 || !pump(left_ms(deadline_us))) return false;
            if (left_ms(deadline_us) == 0) return false;
        }
        return true;
    }
    /// Until both pipes end and the process is reaped; false on timeout.
    bool finish(long long deadline_us)
    {
        while (out >= 0 || err >= 0 || !reaped) {
            if (!pump(left_ms(deadline_us))) return false;
            if (left_ms(deadline_us) == 0 && (out >= 0 || err >= 0 || !reaped)) return false;
        }
        return true;
    }
};

int connect_socket()
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", cfg.socket.c_str());
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/// Reads one line (bounded); "" on end or timeout.
std::string read_line(int fd, std::string& buf, long long deadline_us)
{
    for (;;) {
        auto nl = buf.find('\n');
        if (nl != std::string::npos) {
            std::string line = buf.substr(0, nl);
            buf.erase(0, nl + 1);
            return line;
        }
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, left_ms(deadline_us)) <= 0) return "";
        char tmp[65536];
        ssize_t r = read(fd, tmp, sizeof tmp);
        if (r <= 0) return "";
        buf.append(tmp, static_cast<size_t>(r));
    }
}

bool send_all(int fd, const std::string& s)
{
    return send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
}

/// One request, its first answer line.
std::string request(const std::string& line, long long deadline_us)
{
    int fd = connect_socket();
    if (fd < 0) return "";
    std::string buf, answer;
    if (send_all(fd, line + "\n")) answer = read_line(fd, buf, deadline_us);
    close(fd);
    return answer;
}

/// The session id of the running command whose argv holds `tag` (from ps), or -1.
long long session_of(const std::string& tag, long long deadline_us)
{
    std::string ps = request(R"({"pfd":1,"op":"ps"})", deadline_us);
    auto at = ps.find("\"" + tag + "\"");
    if (at == std::string::npos) return -1;
    auto id = ps.rfind("{\"id\":", at);
    if (id == std::string::npos) return -1;
    return std::atoll(ps.c_str() + id + 6);
}

struct record {
    std::string op, tag;
    int expected = 0;
    int got = -1;
    long long us = 0;
    bool ok = false;
    std::string detail;
};

class loop {
public:
    explicit loop(int index)
        : index_(index), rng_(std::hash<std::string>{}(cfg.name) * 1000003u + static_cast<unsigned>(index))
    {
        std::string path = cfg.logdir + "/" + cfg.name + "-l" + std::to_string(index) + ".log";
        log_ = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (log_ < 0) {
            perror(path.c_str());
            std::exit(2);
        }
    }

    int run()
    {
        long long end = now_us() + cfg.seconds * 1000000LL;
        while (now_us() < end) one(end);
        dprintf(log_, "end ops=%d\n", n_);
        close(log_);
        return 0;
    }

private:
    std::string next_tag()
    {
        return "soak-" + cfg.token + "-" + cfg.name + "-l" + std::to_string(index_) + "-n" + std::to_string(n_++);
    }
    int pick(int bound) { return std::uniform_int_distribution<int>(0, bound - 1)(rng_); }

    void one(long long end)
    {
        // Loops 0 and 1 also keep watchers that stall (at most 16 at once, under
        // [limits] watchers = 64).
        static const struct {
            int below;
            const char* op;
        } mix[] = {{22, "true"},   {40, "exit"},  {46, "notfound"}, {54, "sigterm"}, {60, "big"},
                   {64, "bigmix"}, {76, "ctrlc"}, {88, "cancel"},   {100, "kill9"},  {110, "watch"}};
        std::string op;
        for (int tries = 0; op.empty() && tries < 1000; ++tries) {
            int r = pick(index_ < 2 ? 110 : 100);
            for (auto& m : mix)
                if (r < m.below) {
                    if (cfg.only.empty() ||
                        ("," + cfg.only + ",").find(std::string(",") + m.op + ",") != std::string::npos)
                        op = m.op;
                    break;
                }
        }
        if (op.empty()) op = "true";
        std::string tag = next_tag();
        record rec;
        if (op == "true")
            rec = simple("true", {"true", tag}, 0);
        else if (op == "exit") {
            int code = pick(126);
            rec = simple("exit", {"sh", "-c", "exit " + std::to_string(code), tag}, code);
        } else if (op == "notfound")
            rec = simple("notfound", {"soak-no-such-command-" + tag}, 127);
        else if (op == "sigterm")
            rec = simple("sigterm", {"sh", "-c", "kill -TERM $$", tag}, 143);
        else if (op == "big")
            rec = output("big", tag, 10000000, 0);
        else if (op == "bigmix")
            rec = output("bigmix", tag, 6000000, 4000000);
        else if (op == "watch")
            rec = watcher(tag, end);
        else
            rec = interrupted(op, tag);
        rec.tag = tag;
        std::string line = "op=" + rec.op + " tag=" + rec.tag + " exp=" + std::to_string(rec.expected) +
                           " got=" + std::to_string(rec.got) + " us=" + std::to_string(rec.us) +
                           " ok=" + (rec.ok ? "1" : "0") + " detail=" + rec.detail + "\n";
        if (write(log_, line.data(), line.size()) < 0) std::exit(2);
    }

    /// Runs to the end; checks the status and that nothing came on stdout.
    record simple(const char* op, std::vector<std::string> argv, int expected)
    {
        record rec{.op = op, .expected = expected};
        long long t0 = now_us();
        client c(argv);
        bool done = c.finish(t0 + 120000000LL);
        rec.us = now_us() - t0;
        rec.got = c.status;
        rec.ok = done && c.status == expected && c.out_check.bytes == 0;
        if (!done)
            rec.detail = "timeout";
        else if (c.out_check.bytes)
            rec.detail = "stdout:" + std::to_string(c.out_check.bytes);
        if (!rec.ok && !c.err_check.text.empty()) rec.detail += "|stderr:" + first_line(c.err_check.text);
        return rec;
    }

    /// The probe writes `out` and `err` pattern bytes; every byte is checked.
    record output(const char* op, const std::string& tag, std::uint64_t out, std::uint64_t err)
    {
        record rec{.op = op, .expected = 0};
        std::uint64_t seed = rng_();
        long long t0 = now_us();
        // The tag rides along as an environment assignment the probe ignores.
        client c({"env", "SOAK_TAG=" + tag, cfg.probe, "--pattern", std::to_string(seed), std::to_string(out),
                  std::to_string(err)});
        c.out_check.verify = c.err_check.verify = true;
        c.out_check.seed = c.err_check.seed = seed;
        bool done = c.finish(t0 + 180000000LL);
        rec.us = now_us() - t0;
        rec.got = c.status;
        rec.ok = done && c.status == 0 && c.out_check.bytes == out && c.err_check.bytes == err &&
                 c.out_check.first_bad < 0 && c.err_check.first_bad < 0;
        rec.detail = "out:" + std::to_string(c.out_check.bytes) + "/" + std::to_string(out) + ",bad@" +
                     std::to_string(c.out_check.first_bad) + ",err:" + std::to_string(c.err_check.bytes) + "/" +
                     std::to_string(err) + ",bad@" + std::to_string(c.err_check.first_bad);
        if (!done) rec.detail += ",timeout";
        return rec;
    }

    /// A command that says "up" then sleeps, ended by Ctrl-C forwarded
    /// (SIGINT to hostexec: 130), `cancel` from another connection (SIGTERM:
    /// 143) or hostexec's death by SIGKILL (137; the command is hung up). In
    /// every case the command's end shows as the end of the pipes it held.
    record interrupted(const std::string& op, const std::string& tag)
    {
        record rec{.op = op, .expected = op == "ctrlc" ? 130 : op == "cancel" ? 143 : 137};
        long long t0 = now_us();
        client c({"sh", "-c", "echo up; exec sleep 60", tag});
        long long bound = t0 + 120000000LL;
        if (!c.read_until("up\n", bound)) {
            rec.got = c.reaped ? c.status : -1;
            rec.detail = "no-up|stderr:" + first_line(c.err_check.text);
            rec.us = now_us() - t0;
            return rec;
        }
        long long t1 = now_us();
        bool side_ok = true;
        if (op == "ctrlc") {
            kill(c.pid, SIGINT);
        } else if (op == "kill9") {
            kill(c.pid, SIGKILL);
        } else {
            long long id = session_of(tag, bound);
            if (id < 0) {
                side_ok = false;
                rec.detail = "not-in-ps,";
            } else {
                int fd = connect_socket();
                std::string buf, line1, line2;
                if (fd >= 0 && send_all(fd, R"({"pfd":1,"op":"cancel","id":)" + std::to_string(id) + "}\n")) {
                    line1 = read_line(fd, buf, bound);
                    line2 = read_line(fd, buf, bound);
                }
                if (fd >= 0) close(fd);
                if (line1.find("\"cancelling\"") == std::string::npos ||
                    line2.find("\"cancelled\"") == std::string::npos ||
                    line2.find("\"killed\":false") == std::string::npos) {
                    side_ok = false;
                    rec.detail = "cancel-answer:" + sanitize(line1) + "/" + sanitize(line2) + ",";
                }
            }
        }
        bool done = c.finish(bound);
        rec.us = now_us() - t1;
        rec.got = c.status;
        rec.ok = side_ok && done && c.status == rec.expected && c.out_check.text == "up\n";
        if (!done) rec.detail += c.reaped ? "pipes-still-open(command-left)" : "timeout";
        if (done && op == "kill9") {
            // The session must leave the daemon's list too (bounded).
            bool gone = false;
            for (long long until = now_us() + 30000000LL; !gone && now_us() < until;) {
                gone = session_of(tag, until) < 0;
                if (!gone) usleep(20000);
            }
            if (!gone) {
                rec.ok = false;
                rec.detail += "session-left-in-ps";
            }
        }
        if (!rec.ok && !c.err_check.text.empty()) rec.detail += "|stderr:" + first_line(c.err_check.text);
        return rec;
    }

    /// A watcher that reads its first line, then nothing for 2-6 s (loop 0:
    /// 25-35 s), then
    /// drains what is left (bounded): the daemon must drop it or keep up, and
    /// never block anybody else. "dropped" says whether the daemon closed it.
    record watcher(const std::string& tag, long long end_us)
    {
        record rec{.op = "watch", .expected = 0};
        long long t0 = now_us();
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int small = 4096;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::snprintf(a.sun_path, sizeof a.sun_path, "%s", cfg.socket.c_str());
        std::string buf, first;
        if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && send_all(fd, R"({"pfd":1,"op":"watch"})"
                                                                                        "\n"))
            first = read_line(fd, buf, t0 + 60000000LL);
        rec.ok = first.find("\"watching\"") != std::string::npos;
        rec.got = rec.ok ? 0 : 1;
        if (rec.ok) {
            // Loop 0 stalls long enough for the daemon's backlog (the kernel's
            // buffer, then 1024 events) to fill; loop 1 only briefly.
            // Never past the loop's end by more than 2 s.
            int stall_ms = index_ == 0 ? 25000 + pick(10000) : 2000 + pick(4000);
            stall_ms = std::min(stall_ms, std::max(2000, left_ms(end_us)));
            usleep(static_cast<useconds_t>(stall_ms) * 1000);
            std::uint64_t bytes = buf.size();
            bool eof = false;
            long long until = now_us() + 3000000LL;
            char tmp[65536];
            for (;;) {
                pollfd p{fd, POLLIN, 0};
                if (poll(&p, 1, left_ms(until)) <= 0) break;
                ssize_t r = read(fd, tmp, sizeof tmp);
                if (r <= 0) {
                    eof = true;
                    break;
                }
                bytes += static_cast<std::uint64_t>(r);
            }
            rec.detail = std::string(eof ? "dropped" : "kept") + ",bytes:" + std::to_string(bytes);
        } else {
            rec.detail = "answer:" + sanitize(first);
        }
        close(fd);
        rec.us = now_us() - t0;
        (void)tag;
        return rec;
    }

    static std::string sanitize(std::string s)
    {
        for (char& ch : s)
            if (ch == ' ' || ch == '\n' || ch == '\t') ch = '_';
        return s.substr(0, 300);
    }
    static std::string first_line(const std::string& s) { return sanitize(s.substr(0, s.find('\n'))); }

    int index_;
    std::mt19937_64 rng_;
    int log_ = -1;
    int n_ = 0;
};

} // namespace

int main(int argc, char** argv)
{
    if (argc != 9 && argc != 10) {
        std::fprintf(stderr, "usage: soak_driver NAME LOOPS SECONDS SOCKET HOSTEXEC PROBE LOGDIR TOKEN [OPS]\n");
        return 2;
    }
    cfg.name = argv[1];
    cfg.loops = std::atoi(argv[2]);
    cfg.seconds = std::atoi(argv[3]);
    cfg.socket = argv[4];
    cfg.hostexec = argv[5];
    cfg.probe = argv[6];
    cfg.logdir = argv[7];
    cfg.token = argv[8];
    if (argc == 10) cfg.only = argv[9];
    signal(SIGPIPE, SIG_IGN);
    std::vector<pid_t> loops;
    for (int i = 0; i < cfg.loops; ++i) {
        pid_t pid = fork();
        if (pid == 0) _exit(loop(i).run());
        if (pid < 0) {
            perror("soak_driver: fork");
            return 2;
        }
        loops.push_back(pid);
    }
    // Pid 1 of its namespace in some containers: reap whatever ends here.
    int failed = 0;
    size_t left = loops.size();
    while (left > 0) {
        int st = 0;
        pid_t pid = wait(&st);
        if (pid < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (std::find(loops.begin(), loops.end(), pid) != loops.end()) {
            --left;
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) ++failed;
        }
    }
    std::string done = cfg.logdir + "/" + cfg.name + ".done";
    if (FILE* f = std::fopen(done.c_str(), "w")) {
        std::fprintf(f, "loops=%d failed=%d\n", cfg.loops, failed);
        std::fclose(f);
    }
    return failed ? 1 : 0;
}
