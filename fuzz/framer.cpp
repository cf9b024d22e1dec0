// Fuzz target: the NDJSON framer (src/common/wire.hpp): line_buffer, which splits
// what a peer sends into request and event lines under a length limit, and
// recv_with_fds, which reads those bytes and their descriptors.
//
// Input: byte 0 picks the line limit, byte 1 seeds how the stream is cut
// into appends and how many lines are taken between them (and, with its top
// bit, whether the bytes also go through a socketpair); the rest is the
// stream.
//
// Properties, against a model that keeps the unconsumed bytes as a string:
// - next_line returns exactly the model's next line, and nothing while no
//   '\n' is buffered; pending() is the model's size;
// - overflowed() is true exactly when the first buffered line (complete or
//   not) is longer than the limit;
// - through a socketpair, send_with_fds then recv_with_fds in chunks of a
//   fuzzed size deliver the same bytes, and the one descriptor attached,
//   close-on-exec and without truncation.

#include "check.hpp"
#include "unique_fd.hpp"
#include "wire.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace pfd;

/// A small deterministic generator, so a crash replays the same cuts.
struct cuts {
    std::uint32_t state;
    std::uint32_t next(std::uint32_t bound)
    {
        state = state * 1103515245u + 12345u;
        return (state >> 16) % bound;
    }
};

bool model_overflowed(const std::string& model, std::size_t max_line)
{
    auto nl = model.find('\n');
    return (nl == std::string::npos ? model.size() : nl) > max_line;
}

/// Takes one line from both, checking they agree.
bool take_one(line_buffer& buf, std::string& model, std::size_t max_line)
{
    auto line = buf.next_line();
    auto nl = model.find('\n');
    if (nl == std::string::npos) {
        PFD_FUZZ_CHECK(!line);
    } else {
        PFD_FUZZ_CHECK(line && *line == std::string_view(model).substr(0, nl));
        model.erase(0, nl + 1);
    }
    PFD_FUZZ_CHECK(buf.pending() == model.size());
    PFD_FUZZ_CHECK(buf.overflowed() == model_overflowed(model, max_line));
    return line.has_value();
}

void through_line_buffer(std::string_view stream, std::size_t max_line, cuts rng)
{
    line_buffer buf(max_line);
    std::string model;
    while (!stream.empty()) {
        std::size_t n = 1 + rng.next(rng.next(2) ? 8 : 256);
        if (n > stream.size()) n = stream.size();
        buf.append(stream.substr(0, n));
        model.append(stream.substr(0, n));
        stream.remove_prefix(n);
        PFD_FUZZ_CHECK(buf.pending() == model.size());
        PFD_FUZZ_CHECK(buf.overflowed() == model_overflowed(model, max_line));
        // All lines, or a few, as a reader stopping early would.
        std::uint32_t take = rng.next(4) == 0 ? rng.next(3) : UINT32_MAX;
        for (std::uint32_t i = 0; i < take && take_one(buf, model, max_line); ++i) {
        }
    }
    while (take_one(buf, model, max_line)) {
    }
    PFD_FUZZ_CHECK(model.find('\n') == std::string::npos);
}

void through_socket(std::string_view stream, cuts rng)
{
    int sv[2];
    PFD_FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    unique_fd reader(sv[0]), writer(sv[1]);
    static const int attached = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    PFD_FUZZ_CHECK(attached >= 0);
    send_with_fds(writer.get(), stream, std::span(&attached, 1));
    ::shutdown(writer.get(), SHUT_WR);

    std::string got;
    std::vector<unique_fd> fds;
    std::vector<char> buf(1 + rng.next(4096));
    for (;;) {
        std::size_t room = 1 + rng.next(static_cast<std::uint32_t>(buf.size()));
        auto r = recv_with_fds(reader.get(), std::span(buf.data(), room), fds, 1, true);
        PFD_FUZZ_CHECK(!r.truncated && !r.would_block);
        if (r.eof) break;
        got.append(buf.data(), r.bytes);
    }
    PFD_FUZZ_CHECK(got == stream);
    PFD_FUZZ_CHECK(fds.size() == (stream.empty() ? 0u : 1u));
    for (auto& fd : fds) PFD_FUZZ_CHECK(::fcntl(fd.get(), F_GETFD) == FD_CLOEXEC);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2) return 0;
    // Mostly small limits, so that overflow is reached; sometimes a real one.
    std::size_t max_line = data[0] < 0xF0 ? data[0] : std::size_t{1} << (data[0] - 0xE0);
    cuts rng{data[1]};
    std::string_view stream = fuzz::as_text(data + 2, size - 2);
    through_line_buffer(stream, max_line, rng);
    // Small enough to sit in the socket's buffer: one thread writes, then reads.
    if ((data[1] & 0x80) && stream.size() <= 16384) through_socket(stream, rng);
    return 0;
}
