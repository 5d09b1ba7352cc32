#ifndef VMTUI_CZLIB_SHIM_H
#define VMTUI_CZLIB_SHIM_H
// zlib for qcow2 compressed clusters. inflateInit2 is a macro Swift cannot import, so the
// one operation we need is wrapped here (prefix cz_).
#include <stddef.h>
#include <string.h>
#include <zlib.h>

// Inflates raw deflate data (no zlib header, as qcow2 stores it) into exactly `outSize` bytes.
// Returns 0 on success, -1 if the data is corrupt or does not fill the output.
static inline int cz_inflate_raw(const void *in, size_t inSize, void *out, size_t outSize) {
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, -15) != Z_OK) return -1;
    s.next_in = (Bytef *)in;
    s.avail_in = (uInt)inSize;
    s.next_out = (Bytef *)out;
    s.avail_out = (uInt)outSize;
    int rc = inflate(&s, Z_FINISH);
    inflateEnd(&s);
    // Compressed clusters are padded to whole sectors, so the input may hold trailing bytes.
    if ((rc == Z_STREAM_END || rc == Z_BUF_ERROR) && s.avail_out == 0) return 0;
    return -1;
}
#endif
