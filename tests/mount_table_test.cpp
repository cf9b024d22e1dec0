// The mount table reader the daemon finds a container directory's host
// name with (src/daemon/spawn/mount_table.hpp), on real mountinfo lines.

#include "mount_table.hpp"
#include "unique_fd.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

TEST_CASE("mountinfo lines: ids, device, root and mount point, escapes undone", "[mount_table]")
{
    auto entries =
        pfd::parse_mountinfo("36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n"
                             "1412 1390 254:1 /home/u/my\\040project /work rw,relatime - ext4 /dev/vda1 rw\n"
                             "garbage line\n"
                             "7 6 0:5 / / rw - tmpfs tmpfs rw");
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].id == 36);
    CHECK(entries[0].device == makedev(98, 0));
    CHECK(entries[0].root == "/mnt1");
    CHECK(entries[0].point == "/mnt/parent");
    CHECK(entries[1].root == "/home/u/my project");
    CHECK(entries[1].point == "/work");
    CHECK(entries[2].point == "/");
    CHECK(entries[0].type == "ext3");
    CHECK(entries[1].type == "ext4");
    CHECK(entries[2].type == "tmpfs");
}

TEST_CASE("FUSE mounts, and only they, may leave a caller waiting", "[mount_table]")
{
    auto entries = pfd::parse_mountinfo(
        "90 30 0:50 / /home/u/remote rw,nosuid,nodev shared:7 - fuse.sshfs u@host:/ rw,user_id=1000\n"
        "91 30 0:51 / /mnt/x rw - fuse pfd-hung rw\n"
        "92 30 0:52 / /mnt/overlay\\040-\\040x rw - overlay overlay rw,lowerdir=/a\n");
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].type == "fuse.sshfs");
    CHECK(entries[2].point == "/mnt/overlay - x");
    CHECK(entries[2].type == "overlay");
    CHECK(pfd::may_hang(entries[0].type));
    CHECK(pfd::may_hang(entries[1].type));
    CHECK(pfd::may_hang("fuseblk"));
    CHECK_FALSE(pfd::may_hang(entries[2].type));
    CHECK_FALSE(pfd::may_hang("fusectl"));
    CHECK_FALSE(pfd::may_hang("ext4"));
}

TEST_CASE("below: whole components only", "[mount_table]")
{
    CHECK(pfd::below("/srv/a", "/srv") == std::optional<std::string_view>("/a"));
    CHECK(pfd::below("/srv", "/srv") == std::optional<std::string_view>(""));
    CHECK_FALSE(pfd::below("/srvx", "/srv"));
    CHECK(pfd::below("/x/y", "/") == std::optional<std::string_view>("/x/y"));
    CHECK(pfd::below("/", "/") == std::optional<std::string_view>(""));
    CHECK_FALSE(pfd::below("relative", "/"));
}

TEST_CASE("this process's own table has the mount a descriptor is on", "[mount_table]")
{
    // /proc, a mount of its own wherever tests run (in a chroot the mount
    // that holds "/" may be outside it, and then not in the table).
    pfd::unique_fd proc(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(proc);
    auto id = pfd::mount_id_of(proc.get());
    REQUIRE(id);
    bool found = false;
    for (auto& m : pfd::read_mountinfo(0)) found = found || (m.id == *id && m.point == "/proc");
    CHECK(found);
}
