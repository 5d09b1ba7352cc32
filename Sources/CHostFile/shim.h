#ifndef VMTUI_CHOSTFILE_SHIM_H
#define VMTUI_CHOSTFILE_SHIM_H
// Linux file calls Glibc declares only under _GNU_SOURCE, which Swift's Glibc module is built
// without (prefix ch_). Values from <linux/falloc.h> and <fcntl.h>.
#include <sys/types.h>

extern int fallocate(int fd, int mode, off_t offset, off_t len);

// fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE): frees the host blocks of a range,
// which then reads as zeros; the file length stays. Returns 0 or -1 with errno set.
static inline int ch_punch_hole(int fd, off_t offset, off_t length) {
    return fallocate(fd, 0x02 | 0x01, offset, length);
}

// Open file description locks (F_OFD_GETLK, F_OFD_SETLK): owned by the open file, not the
// process, so they are what QEMU uses for its image locks.
enum { ch_F_OFD_GETLK = 36, ch_F_OFD_SETLK = 37 };
#endif
