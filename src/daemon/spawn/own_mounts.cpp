#include "own_mounts.hpp"

#include "mount_table.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <unordered_map>

namespace pfd {

namespace {

class mount_cache {
public:
    std::optional<std::string> type_of(unsigned long id)
    {
        std::lock_guard lock(mutex_);
        refresh();
        auto it = types_.find(id);
        if (it == types_.end()) return std::nullopt;
        return it->second;
    }

private:
    /// Reads the table again when it changed since the last read (or was
    /// never read). The poll comes first: a change during the read is
    /// reported by the next one.
    void refresh()
    {
        if (!file_) {
            file_ = unique_fd(::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC));
            if (!file_) {
                types_.clear();
                return;
            }
        } else {
            pollfd p{file_.get(), POLLPRI, 0};
            if (::poll(&p, 1, 0) == 0) return;
        }
        std::string text;
        char buf[16384];
        for (off_t at = 0;;) {
            ssize_t n = ::pread(file_.get(), buf, sizeof buf, at);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            text.append(buf, static_cast<std::size_t>(n));
            at += n;
        }
        types_.clear();
        for (auto& m : parse_mountinfo(text)) types_.emplace(m.id, std::move(m.type));
    }

    std::mutex mutex_;
    unique_fd file_;
    std::unordered_map<unsigned long, std::string> types_;
};

} // namespace

std::optional<std::string> own_mount_type(unsigned long id)
{
    static mount_cache cache;
    return cache.type_of(id);
}

} // namespace pfd
