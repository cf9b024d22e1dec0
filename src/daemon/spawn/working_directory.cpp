#include "working_directory.hpp"
#include "mount_table.hpp"
#include "own_mounts.hpp"
#include "quote.hpp"

#include "pfd/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace pfd {

namespace {

std::optional<file_identity> identity_of(const std::string& path)
{
    struct stat st {};
    if (path.empty() || path[0] != '/' || ::stat(path.c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
    return file_identity{st.st_dev, st.st_ino};
}

bool names(const std::string& path, const file_identity& dir)
{
    return identity_of(path) == dir;
}

/// The descriptor's path as the kernel writes it: the path here when the
/// directory is reachable, else its path in the mount namespace it was
/// opened in (or "... (deleted)").
std::string link_of(int fd)
{
    std::string target(4096, '\0');
    ssize_t n = ::readlink(fmt::format("/proc/self/fd/{}", fd).c_str(), target.data(), target.size());
    if (n <= 0 || static_cast<std::size_t>(n) == target.size()) return {};
    target.resize(static_cast<std::size_t>(n));
    return target;
}

std::string joined(std::string_view dir, std::string_view rest)
{
    if (rest.empty()) return std::string(dir);
    return dir == "/" ? std::string(rest) : fmt::format("{}{}", dir, rest);
}

/// Where the client's mount of the directory comes from, named here: its
/// entry in the client's mount table says which directory of which file
/// system it shows (`-v $PWD:/work` shows $PWD's), and a mount of the same
/// file system here that shows that directory or one above it names it.
std::string name_through_mounts(int fd, const std::vector<std::string>& client_names, pid_t client,
                                const file_identity& dir)
{
    auto id = mount_id_of(fd);
    if (!id || client <= 0) return {};
    auto theirs = read_mountinfo(client);
    auto mount = std::find_if(theirs.begin(), theirs.end(), [&](const mount_entry& m) { return m.id == *id; });
    if (mount == theirs.end()) return {};
    auto ours = read_mountinfo(0);
    for (auto& name : client_names) {
        auto rest = below(name, mount->point);
        if (!rest) continue;
        std::string in_fs = joined(mount->root, *rest);
        // Later mounts cover earlier ones: the last that names it wins.
        for (auto here = ours.rbegin(); here != ours.rend(); ++here) {
            if (here->device != mount->device) continue;
            auto under = below(in_fs, here->root);
            if (!under) continue;
            std::string candidate = joined(here->point, *under);
            if (names(candidate, dir)) return candidate;
        }
    }
    return {};
}

/// The directory's name here, and what stat() of it shows.
std::pair<std::string, file_identity> host_name(const working_directory& wd, pid_t client, const file_identity& dir)
{
    // The client's own path: a client here, or a container that mounts the
    // directory at the same path (distrobox and toolbx share $HOME so).
    if (names(wd.path, dir)) return {wd.path, dir};
    std::string link = link_of(wd.fd.get());
    if (names(link, dir)) return {link, dir};
    if (client > 0) {
        // A container's root is its own; the host's is where its commands
        // would start from there (podman's default directory is /).
        if (identity_of(fmt::format("/proc/{}/root", client)) == dir) {
            if (auto root = identity_of("/")) return {"/", *root};
        }
        std::vector<std::string> client_names{link};
        if (wd.path != link) client_names.push_back(wd.path);
        if (std::string found = name_through_mounts(wd.fd.get(), client_names, client, dir); !found.empty())
            return {found, dir};
    }
    return {};
}

/// The type of mount `id`: here, else in the client's namespace (a
/// container's directory); nothing when neither has it.
std::optional<std::string> mount_type(unsigned long id, pid_t client)
{
    if (auto here = own_mount_type(id)) return here;
    if (client <= 0) return std::nullopt;
    for (auto& m : read_mountinfo(client))
        if (m.id == id) return std::move(m.type);
    return std::nullopt;
}

/// A mount in neither table: one this process cannot see from its root (a
/// daemon in a chroot does not see the mount its root lies on), or one
/// hidden from the client's. A FUSE file system has an anonymous device
/// (major 0; fuseblk, which root alone mounts, aside), and the kernel's
/// fusectl lists each FUSE connection under its device's minor: a directory
/// on a real device, or on an anonymous one fusectl does not list, is not
/// FUSE. Without fusectl, an anonymous device may be.
bool unknown_mount_may_hang(unsigned major, unsigned minor)
{
    if (major != 0) return false;
    constexpr long fusectl_magic = 0x65735543; // FUSE_CTL_SUPER_MAGIC
    struct statfs fs {};
    if (::statfs("/sys/fs/fuse/connections", &fs) < 0 || fs.f_type != fusectl_magic) return true;
    struct stat st {};
    return ::stat(fmt::format("/sys/fs/fuse/connections/{}", minor).c_str(), &st) == 0;
}

} // namespace

std::string working_directory::here() const
{
    return fd ? fmt::format("/proc/self/fd/{}", fd.get()) : path;
}

working_directory take_working_directory(std::string path, bool sent_as_descriptor, std::vector<unique_fd>& attached,
                                         pid_t client)
{
    working_directory dir{std::move(path), unique_fd(), {}, {}, {}, false};
    if (!sent_as_descriptor) return dir;
    dir.fd = std::move(attached.front());
    attached.erase(attached.begin());
    // What the kernel has cached, without a request to the file system (a
    // FUSE server need never answer one): the type, device and inode of a
    // directory never change, and the mount it is on is the descriptor's.
    struct statx st {};
    if (::statx(dir.fd.get(), "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE | STATX_INO | STATX_MNT_ID, &st) < 0 ||
        !S_ISDIR(st.stx_mode))
        throw protocol_error(errc::bad_cwd,
                             fmt::format("the directory descriptor sent for {} is not a directory", quote(dir.path)));
    dir.identity = {makedev(st.stx_dev_major, st.stx_dev_minor), st.stx_ino};
    auto id = st.stx_mask & STATX_MNT_ID ? std::optional(static_cast<unsigned long>(st.stx_mnt_id))
                                         : mount_id_of(dir.fd.get());
    std::optional<std::string> type;
    if (id) type = mount_type(*id, client);
    dir.may_hang = type ? may_hang(*type) : unknown_mount_may_hang(st.stx_dev_major, st.stx_dev_minor);
    return dir;
}

void name_working_directory(working_directory& dir, pid_t client)
{
    if (dir.fd) std::tie(dir.host_path, dir.host_identity) = host_name(dir, client, dir.identity);
}

void set_pwd(std::vector<std::string>& env, const working_directory& dir)
{
    auto pwd = std::find_if(env.begin(), env.end(), [](const std::string& e) { return e.starts_with("PWD="); });
    if (!dir.fd || pwd == env.end()) return;
    if (dir.host_path.empty()) {
        env.erase(pwd);
        return;
    }
    std::string_view theirs = std::string_view(*pwd).substr(4);
    // The client's name is right here too (a symlinked path a shell keeps).
    if (theirs == dir.host_path || names(std::string(theirs), dir.host_identity)) return;
    *pwd = "PWD=" + dir.host_path;
}

} // namespace pfd
