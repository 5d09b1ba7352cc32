#ifndef VMTUI_CSLIRP_SHIM_H
#define VMTUI_CSLIRP_SHIM_H
// libslirp (Debian libslirp-dev), the user-mode TCP/IP stack QEMU uses for -nic user.
#include <slirp/libslirp.h>
#endif
