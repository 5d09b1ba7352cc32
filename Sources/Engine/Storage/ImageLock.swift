import CLinuxHost
import Glibc

/// QEMU's image locks (block/file-posix.c), taken as OFD byte locks so QEMU and its tools see
/// vmtui's use of an image and vmtui sees theirs. Permission bit i (consistent read 0, write 1,
/// write unchanged 2, resize 3) is held as a shared lock on byte 100 + i; a permission not
/// shared with others as a shared lock on byte 200 + i. An opener conflicts when a byte it
/// would test is locked by another open file: 200 + i for what it needs, 100 + i for what it
/// does not share.
enum ImageLock {
    static let permBase: Int = 100
    static let sharedBase: Int = 200
    static let names = ["consistent read", "write", "write unchanged", "resize"]

    /// What vmtui asks for, as a QEMU guest disk does: a writer reads and writes and shares
    /// neither writing nor resizing; a reader reads and does not share writing.
    static func permissions(writable: Bool) -> (perm: [Int], unshared: [Int]) {
        writable ? ([0, 1], [1, 3]) : ([0], [1])
    }

    /// Takes the locks; returns the name of the permission another process holds against
    /// them (the locks are then released), or nil when they are vmtui's.
    static func acquire(_ fd: Int32, writable: Bool) -> String? {
        let (perm, unshared) = permissions(writable: writable)
        for (base, bits) in [(permBase, perm), (sharedBase, unshared)] {
            for bit in bits where !lock(fd, byte: base + bit) {
                // A file system without OFD locks (some network ones) leaves only the flock.
                guard errno == EAGAIN || errno == EACCES else { return nil }
                release(fd)
                return names[bit]
            }
        }
        for bit in perm where isLockedByOthers(fd, byte: sharedBase + bit) {
            release(fd)
            return names[bit]
        }
        for bit in unshared where isLockedByOthers(fd, byte: permBase + bit) {
            release(fd)
            return names[bit]
        }
        return nil
    }

    private static func lock(_ fd: Int32, byte: Int, count: Int = 1, type: Int32 = F_RDLCK) -> Bool {
        var request = flock()
        request.l_type = Int16(type)
        request.l_whence = Int16(SEEK_SET)
        request.l_start = off_t(byte)
        request.l_len = off_t(count)
        return fcntl(fd, Int32(lh_F_OFD_SETLK), &request) == 0
    }

    /// F_OFD_GETLK with a write lock: any lock another open file holds on the byte shows.
    private static func isLockedByOthers(_ fd: Int32, byte: Int) -> Bool {
        var request = flock()
        request.l_type = Int16(F_WRLCK)
        request.l_whence = Int16(SEEK_SET)
        request.l_start = off_t(byte)
        request.l_len = 1
        guard fcntl(fd, Int32(lh_F_OFD_GETLK), &request) == 0 else { return false }
        return request.l_type != Int16(F_UNLCK)
    }

    private static func release(_ fd: Int32) {
        _ = lock(fd, byte: permBase, count: sharedBase + names.count - permBase, type: F_UNLCK)
    }
}
