#ifndef VMTUI_CLINUXHOST_SHIM_H
#define VMTUI_CLINUXHOST_SHIM_H
// Linux interfaces Swift's Glibc module lacks: eventfd, and the TUN/TAP and bridge ioctls with
// their request numbers and struct ifreq layout taken from the kernel headers (prefix lh_).
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/capability.h>
#include <sys/syscall.h>

static inline int lh_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

// A pipe whose ends no concurrently spawned child inherits (pipe2 is declared only for _GNU_SOURCE).
static inline int lh_pipe_cloexec(int fds[2]) { return (int)syscall(SYS_pipe2, fds, O_CLOEXEC); }

static inline void lh_ifname(struct ifreq *ifr, const char *name) {
    memset(ifr, 0, sizeof *ifr);
    strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
}

// Attaches `fd` (an open /dev/net/tun) to TAP `name` (created if missing, non-persistent unless
// made so with TUNSETPERSIST) without packet information. Returns 0 or -errno.
static inline int lh_tap_attach(int fd, const char *name) {
    struct ifreq ifr;
    lh_ifname(&ifr, name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    return ioctl(fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
}

// The interface index of `name` (0 with errno set when there is none), through socket `sock`.
static inline int lh_ifindex(int sock, const char *name) {
    struct ifreq ifr;
    lh_ifname(&ifr, name);
    return ioctl(sock, SIOCGIFINDEX, &ifr) < 0 ? 0 : ifr.ifr_ifindex;
}

// Sets or clears IFF_UP on `name`. Returns 0 or -errno.
static inline int lh_set_up(int sock, const char *name, int up) {
    struct ifreq ifr;
    lh_ifname(&ifr, name);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) return -errno;
    if (up) ifr.ifr_flags |= IFF_UP; else ifr.ifr_flags &= ~IFF_UP;
    return ioctl(sock, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

// Enslaves interface index `port` to bridge `bridge` (SIOCBRADDIF). Returns 0 or -errno.
static inline int lh_bridge_add(int sock, const char *bridge, int port) {
    struct ifreq ifr;
    lh_ifname(&ifr, bridge);
    ifr.ifr_ifindex = port;
    return ioctl(sock, SIOCBRADDIF, &ifr) < 0 ? -errno : 0;
}

// Sets or clears CAP_NET_ADMIN in the calling thread's effective set (capabilities are per
// thread), so tests can check what a user without it is told. Returns 0 or -errno.
static inline int lh_set_net_admin_effective(int on) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &header, data) < 0) return -errno;
    if (on) data[0].effective |= 1u << CAP_NET_ADMIN; else data[0].effective &= ~(1u << CAP_NET_ADMIN);
    return syscall(SYS_capset, &header, data) < 0 ? -errno : 0;
}

// fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE): frees the host blocks of a range, which
// then reads as zeros; the file length stays. Returns 0 or -1 with errno set. (Glibc declares
// fallocate only under _GNU_SOURCE, which Swift's Glibc module is built without.)
#include <linux/falloc.h>
extern int fallocate(int fd, int mode, off_t offset, off_t len);
static inline int lh_punch_hole(int fd, off_t offset, off_t length) {
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
}

// Open file description locks (F_OFD_GETLK, F_OFD_SETLK; <fcntl.h> has them only under
// _GNU_SOURCE): owned by the open file, not the process, so they are what QEMU uses for its
// image locks.
enum { lh_F_OFD_GETLK = 36, lh_F_OFD_SETLK = 37 };
#endif
