#ifndef VMTUI_CKVM_SHIM_H
#define VMTUI_CKVM_SHIM_H
// The KVM API from the kernel's own header (Debian linux-libc-dev): struct layouts and ioctl
// numbers come from <linux/kvm.h>, never hand-copied. Swift cannot import the _IO* macros or
// call the variadic ioctl(2), so the few requests vmtui makes are re-exported here (prefix ckvm_).
#include <errno.h>
#include <stdlib.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

static inline int ckvm_ioctl(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }
static inline int ckvm_ioctl_value(int fd, unsigned long request, unsigned long arg) { return ioctl(fd, request, arg); }

// /dev/kvm
static inline unsigned long ckvm_get_api_version(void) { return KVM_GET_API_VERSION; }
static inline unsigned long ckvm_create_vm(void) { return KVM_CREATE_VM; }
static inline unsigned long ckvm_get_vcpu_mmap_size(void) { return KVM_GET_VCPU_MMAP_SIZE; }
static inline unsigned long ckvm_get_supported_cpuid(void) { return KVM_GET_SUPPORTED_CPUID; }

// VM
static inline unsigned long ckvm_create_vcpu(void) { return KVM_CREATE_VCPU; }
static inline unsigned long ckvm_set_user_memory_region(void) { return KVM_SET_USER_MEMORY_REGION; }
static inline unsigned long ckvm_set_tss_addr(void) { return KVM_SET_TSS_ADDR; }
static inline unsigned long ckvm_set_identity_map_addr(void) { return KVM_SET_IDENTITY_MAP_ADDR; }
static inline unsigned long ckvm_enable_cap(void) { return KVM_ENABLE_CAP; }

// vCPU
static inline unsigned long ckvm_run(void) { return KVM_RUN; }
static inline unsigned long ckvm_get_regs(void) { return KVM_GET_REGS; }
static inline unsigned long ckvm_set_regs(void) { return KVM_SET_REGS; }
static inline unsigned long ckvm_get_sregs(void) { return KVM_GET_SREGS; }
static inline unsigned long ckvm_set_sregs(void) { return KVM_SET_SREGS; }
static inline unsigned long ckvm_set_fpu(void) { return KVM_SET_FPU; }
static inline unsigned long ckvm_set_msrs(void) { return KVM_SET_MSRS; }
static inline unsigned long ckvm_set_lapic(void) { return KVM_SET_LAPIC; }
static inline unsigned long ckvm_get_lapic(void) { return KVM_GET_LAPIC; }
static inline unsigned long ckvm_set_mp_state(void) { return KVM_SET_MP_STATE; }
static inline unsigned long ckvm_set_cpuid2(void) { return KVM_SET_CPUID2; }
static inline unsigned long ckvm_interrupt(void) { return KVM_INTERRUPT; }


/// A cpuid2 buffer with room for `n` entries (KVM fills or reads `nent`); free with free(3).
static inline struct kvm_cpuid2 *ckvm_cpuid2_alloc(unsigned n) {
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
    if (c) c->nent = n;
    return c;
}
static inline struct kvm_cpuid_entry2 *ckvm_cpuid2_entries(struct kvm_cpuid2 *c) { return c->entries; }

/// A kvm_msrs buffer with room for `n` entries; free with free(3).
static inline struct kvm_msrs *ckvm_msrs_alloc(unsigned n) {
    struct kvm_msrs *m = calloc(1, sizeof(*m) + n * sizeof(struct kvm_msr_entry));
    if (m) m->nmsrs = n;
    return m;
}
static inline struct kvm_msr_entry *ckvm_msrs_entries(struct kvm_msrs *m) { return m->entries; }

/// The kick signal: a handler that does nothing, so the signal interrupts KVM_RUN (EINTR)
/// without killing the process; SIG_IGN would not interrupt it. No Swift runs in the handler.
static inline int ckvm_kick_signal(void) { return SIGRTMIN; }
static void ckvm_kick_handler(int sig) { (void)sig; }
static inline int ckvm_install_kick_handler(void) {
    int sig = ckvm_kick_signal();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ckvm_kick_handler;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}
/// Threads may start with signals blocked (Foundation's do): the vCPU thread unblocks the kick.
static inline int ckvm_unblock_kick_signal(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, ckvm_kick_signal());
    return pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

#endif
