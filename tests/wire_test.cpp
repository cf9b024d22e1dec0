#include "support/harness.hpp"

#include "unique_fd.hpp"
#include "wire.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

using pfd::test::make_pipe;
using pfd::test::pipe_ends;

namespace {

struct socket_pair {
    pfd::unique_fd a, b;
};

socket_pair make_socket_pair()
{
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    return {pfd::unique_fd(sv[0]), pfd::unique_fd(sv[1])};
}

ino_t inode_of(int fd)
{
    struct stat st {};
    REQUIRE(::fstat(fd, &st) == 0);
    return st.st_ino;
}

/// Waits (bounded) until `fd` is readable; false on timeout.
bool readable(int fd, int timeout_ms = 10000)
{
    pollfd p{fd, POLLIN, 0};
    int n;
    do n = ::poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    return n == 1;
}

std::string read_some(int fd)
{
    REQUIRE(readable(fd));
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf);
    REQUIRE(n >= 0);
    return std::string(buf, static_cast<std::size_t>(n));
}

} // namespace

TEST_CASE("descriptors ride with a line over a real socketpair", "[wire]")
{
    auto [tx, rx] = make_socket_pair();
    pipe_ends pipes[3] = {make_pipe(), make_pipe(), make_pipe()};
    const int sent[3] = {pipes[0].w.get(), pipes[1].w.get(), pipes[2].w.get()};
    const std::string line = R"({"pfd":1,"op":"exec","fds":[0,1,2]})"
                             "\n";

    pfd::send_with_fds(tx.get(), line, sent);

    std::vector<pfd::unique_fd> fds;
    std::array<char, 4096> buf{};
    REQUIRE(readable(rx.get()));
    auto r = pfd::recv_with_fds(rx.get(), buf, fds, pfd::max_fds_per_message, false);
    CHECK(std::string(buf.data(), r.bytes) == line);
    CHECK_FALSE(r.eof);
    CHECK_FALSE(r.would_block);
    CHECK_FALSE(r.truncated);
    REQUIRE(fds.size() == 3);

    SECTION("they arrive in order, as new descriptors of the same pipes, close-on-exec")
    {
        for (int i = 0; i < 3; ++i) {
            INFO("descriptor " << i);
            CHECK(fds[i].get() != sent[i]);
            CHECK(inode_of(fds[i].get()) == inode_of(sent[i]));
            int flags = ::fcntl(fds[i].get(), F_GETFD);
            REQUIRE(flags >= 0);
            CHECK((flags & FD_CLOEXEC) != 0);
        }
    }
    SECTION("writing into a received end arrives at the original pipe's other end")
    {
        for (int i = 0; i < 3; ++i) {
            INFO("descriptor " << i);
            std::string msg = "through " + std::to_string(i);
            REQUIRE(::write(fds[i].get(), msg.data(), msg.size()) == static_cast<ssize_t>(msg.size()));
            CHECK(read_some(pipes[i].r.get()) == msg);
        }
    }
    SECTION("the received end keeps the pipe open after the sender's copy is closed")
    {
        pipes[1].w.reset();
        REQUIRE(::write(fds[1].get(), "x", 1) == 1);
        CHECK(read_some(pipes[1].r.get()) == "x");
        fds[1].reset();
        CHECK(read_some(pipes[1].r.get()).empty()); // end of file: no writer left
    }
}

TEST_CASE("more descriptors than max_fds sets truncated and leaks nothing", "[wire]")
{
    auto [tx, rx] = make_socket_pair();
    std::vector<pipe_ends> pipes;
    for (int i = 0; i < 5; ++i) pipes.push_back(make_pipe());
    std::vector<int> sent;
    for (auto& p : pipes) sent.push_back(p.w.get());

    const int before = pfd::test::open_fd_count();
    pfd::send_with_fds(tx.get(), "five\n", sent);

    // Odd limits have a test of their own below.
    std::size_t max_fds = GENERATE(0u, 2u, 4u);
    INFO("max_fds " << max_fds);
    std::vector<pfd::unique_fd> fds;
    std::array<char, 64> buf{};
    REQUIRE(readable(rx.get()));
    auto r = pfd::recv_with_fds(rx.get(), buf, fds, max_fds, false);
    CHECK(std::string(buf.data(), r.bytes) == "five\n");
    CHECK(r.truncated);
    CHECK(fds.size() <= max_fds);
    for (auto& fd : fds) {
        int flags = ::fcntl(fd.get(), F_GETFD);
        CHECK(flags >= 0);
        CHECK((flags & FD_CLOEXEC) != 0);
    }
    fds.clear();
    CHECK(pfd::test::open_fd_count() == before);

    // Only the received copies went away: the kernel dropped the rest, so with
    // the originals closed the pipes have no writer left.
    for (auto& p : pipes) p.w.reset();
    for (auto& p : pipes) CHECK(read_some(p.r.get()).empty());
}

// The alignment padding of CMSG_SPACE holds one more int when max_fds is odd;
// the receiver must not let that extra descriptor through unnoticed.
TEST_CASE("one descriptor more than an odd max_fds sets truncated", "[wire]")
{
    std::size_t max_fds = GENERATE(1u, 3u);
    INFO("max_fds " << max_fds);
    auto [tx, rx] = make_socket_pair();
    std::vector<pipe_ends> pipes;
    std::vector<int> sent;
    for (std::size_t i = 0; i <= max_fds; ++i) {
        pipes.push_back(make_pipe());
        sent.push_back(pipes.back().w.get());
    }
    pfd::send_with_fds(tx.get(), "one too many\n", sent);
    std::vector<pfd::unique_fd> fds;
    std::array<char, 64> buf{};
    REQUIRE(readable(rx.get()));
    auto r = pfd::recv_with_fds(rx.get(), buf, fds, max_fds, false);
    CHECK(r.truncated);
    CHECK(fds.size() <= max_fds);
}

TEST_CASE("exactly max_fds descriptors is not truncated", "[wire]")
{
    auto [tx, rx] = make_socket_pair();
    pipe_ends pipes[2] = {make_pipe(), make_pipe()};
    const int sent[2] = {pipes[0].w.get(), pipes[1].w.get()};
    pfd::send_with_fds(tx.get(), "two\n", sent);
    std::vector<pfd::unique_fd> fds;
    std::array<char, 64> buf{};
    REQUIRE(readable(rx.get()));
    auto r = pfd::recv_with_fds(rx.get(), buf, fds, 2, false);
    CHECK(r.bytes == 4);
    CHECK_FALSE(r.truncated);
    CHECK(fds.size() == 2);
}

TEST_CASE("recv_with_fds reports end of stream and would-block", "[wire]")
{
    auto [tx, rx] = make_socket_pair();
    std::vector<pfd::unique_fd> fds;
    std::array<char, 64> buf{};

    SECTION("nothing queued in non-blocking mode")
    {
        auto r = pfd::recv_with_fds(rx.get(), buf, fds, 4, true);
        CHECK(r.would_block);
        CHECK(r.bytes == 0);
        CHECK_FALSE(r.eof);
        CHECK_FALSE(r.truncated);
        CHECK(fds.empty());
        // The socket itself stays blocking: MSG_DONTWAIT is per call.
        CHECK((::fcntl(rx.get(), F_GETFL) & O_NONBLOCK) == 0);
    }
    SECTION("peer closed")
    {
        tx.reset();
        auto r = pfd::recv_with_fds(rx.get(), buf, fds, 4, false);
        CHECK(r.eof);
        CHECK(r.bytes == 0);
        CHECK_FALSE(r.would_block);
        CHECK(fds.empty());
    }
    SECTION("peer closed, non-blocking")
    {
        tx.reset();
        auto r = pfd::recv_with_fds(rx.get(), buf, fds, 4, true);
        CHECK(r.eof);
        CHECK_FALSE(r.would_block);
    }
    SECTION("data queued before the close is read first, then end of stream")
    {
        pfd::send_with_fds(tx.get(), "last words\n");
        tx.reset();
        auto r = pfd::recv_with_fds(rx.get(), buf, fds, 4, false);
        CHECK(std::string(buf.data(), r.bytes) == "last words\n");
        CHECK_FALSE(r.eof);
        r = pfd::recv_with_fds(rx.get(), buf, fds, 4, false);
        CHECK(r.eof);
    }
}

TEST_CASE("send_with_fds refuses what it cannot send", "[wire]")
{
    auto [tx, rx] = make_socket_pair();
    SECTION("more descriptors than the kernel takes")
    {
        std::vector<int> too_many(pfd::max_fds_per_message + 1, 0);
        CHECK_THROWS_AS(pfd::send_with_fds(tx.get(), "x\n", too_many), std::system_error);
    }
    SECTION("a closed peer is an exception, not SIGPIPE")
    {
        rx.reset();
        try {
            pfd::send_with_fds(tx.get(), "nobody listens\n");
            FAIL("sending to a closed peer succeeded");
        } catch (const std::system_error& e) {
            CHECK(e.code().value() == EPIPE);
        }
    }
}

TEST_CASE("a 300 KB payload with descriptors arrives whole across several reads", "[wire]")
{
    pipe_ends pipes[3] = {make_pipe(), make_pipe(), make_pipe()};
    const int sent[3] = {pipes[0].w.get(), pipes[1].w.get(), pipes[2].w.get()};
    std::string payload(300 * 1024, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    payload.back() = '\n';

    std::string send_error;
    // Declared before the sockets so that, on a failed REQUIRE, the sockets are
    // closed first and a sender stuck in sendmsg gets EPIPE before the join.
    std::jthread sender;
    auto [tx, rx] = make_socket_pair();
    sender = std::jthread([&, fd = tx.get()] {
        try {
            pfd::send_with_fds(fd, payload, sent);
        } catch (const std::exception& e) {
            send_error = e.what();
        }
    });

    std::string got;
    std::vector<pfd::unique_fd> fds;
    std::vector<char> buf(64 * 1024);
    int reads = 0, reads_with_fds = 0;
    while (got.size() < payload.size()) {
        REQUIRE(readable(rx.get()));
        std::size_t had = fds.size();
        auto r = pfd::recv_with_fds(rx.get(), buf, fds, pfd::max_fds_per_message, true);
        if (r.would_block) continue;
        REQUIRE_FALSE(r.eof);
        CHECK_FALSE(r.truncated);
        got.append(buf.data(), r.bytes);
        ++reads;
        if (fds.size() > had) ++reads_with_fds;
    }
    sender.join();
    CHECK(send_error.empty());
    CHECK(got.size() == payload.size());
    CHECK(got == payload);
    CHECK(reads > 1);
    CHECK(reads_with_fds == 1);
    REQUIRE(fds.size() == 3);
    for (int i = 0; i < 3; ++i) CHECK(inode_of(fds[i].get()) == inode_of(sent[i]));
}

TEST_CASE("line_buffer splits a stream into lines", "[wire][line_buffer]")
{
    pfd::line_buffer lb(16);

    SECTION("several lines in one chunk, with a partial tail kept")
    {
        lb.append("one\ntwo\nthr");
        CHECK(lb.next_line() == "one");
        CHECK(lb.next_line() == "two");
        CHECK_FALSE(lb.next_line());
        CHECK(lb.pending() == 3);
        lb.append("ee\n");
        CHECK(lb.next_line() == "three");
        CHECK_FALSE(lb.next_line());
        CHECK(lb.pending() == 0);
    }
    SECTION("a line split across many chunks")
    {
        for (char c : std::string("split")) {
            CHECK_FALSE(lb.next_line());
            lb.append(std::string(1, c));
        }
        lb.append("\n");
        CHECK(lb.next_line() == "split");
    }
    SECTION("empty lines are lines")
    {
        lb.append("\n\nx\n");
        CHECK(lb.next_line() == "");
        CHECK(lb.next_line() == "");
        CHECK(lb.next_line() == "x");
        CHECK_FALSE(lb.next_line());
    }
    SECTION("bytes are kept as they are")
    {
        lb.append(std::string("a\0b\r\xe9\n", 6));
        CHECK(lb.next_line() == std::string("a\0b\r\xe9", 5));
    }
    SECTION("a buffer reused for many lines keeps working")
    {
        for (int i = 0; i < 1000; ++i) {
            lb.append("line " + std::to_string(i) + "\npart");
            CHECK(lb.next_line() == (i == 0 ? "line 0"
                                            : "part"
                                              "line " +
                                                  std::to_string(i)));
            CHECK(lb.pending() == 4);
        }
    }
}

TEST_CASE("line_buffer refuses to buffer a line over its limit", "[wire][line_buffer]")
{
    pfd::line_buffer lb(16);

    SECTION("an unterminated tail one byte over the limit overflows")
    {
        lb.append(std::string(17, 'x'));
        CHECK(lb.overflowed());
        CHECK_FALSE(lb.next_line());
    }
    SECTION("a tail exactly at the limit does not")
    {
        lb.append(std::string(16, 'x'));
        CHECK_FALSE(lb.overflowed());
        lb.append("\n");
        CHECK_FALSE(lb.overflowed());
        CHECK(lb.next_line() == std::string(16, 'x'));
        CHECK(lb.pending() == 0);
    }
    SECTION("the limit applies per line, not to everything buffered")
    {
        lb.append(std::string(16, 'a') + "\n" + std::string(16, 'b') + "\n" + std::string(10, 'c'));
        CHECK_FALSE(lb.overflowed());
        CHECK(lb.next_line() == std::string(16, 'a'));
        CHECK_FALSE(lb.overflowed());
        CHECK(lb.next_line() == std::string(16, 'b'));
        CHECK_FALSE(lb.overflowed());
        lb.append(std::string(7, 'c'));
        CHECK(lb.overflowed());
    }
    SECTION("a tail grown over the limit in small chunks overflows")
    {
        for (int i = 0; i < 16; ++i) {
            lb.append("y");
            CHECK_FALSE(lb.overflowed());
        }
        lb.append("y");
        CHECK(lb.overflowed());
    }
}
