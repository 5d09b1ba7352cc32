#ifndef VMTUI_CKVM_SHIM_H
#define VMTUI_CKVM_SHIM_H
// The KVM API from the kernel's own header (Debian linux-libc-dev): struct layouts and ioctl
// numbers come from <linux/kvm.h>, never hand-copied. Swift cannot import the _IO* macros or
// call the variadic ioctl(2), so the few requests vmtui makes are re-exported here (prefix ckvm_).
#include <errno.h>
#include <stdlib.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
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
static inline unsigned long ckvm_set_gsi_routing(void) { return KVM_SET_GSI_ROUTING; }
static inline unsigned long ckvm_signal_msi(void) { return KVM_SIGNAL_MSI; }

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
static inline unsigned long ckvm_get_vcpu_events(void) { return KVM_GET_VCPU_EVENTS; }
static inline unsigned long ckvm_set_vcpu_events(void) { return KVM_SET_VCPU_EVENTS; }


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
/// A kvm_irq_routing buffer with room for `n` entries; free with free(3).
static inline struct kvm_irq_routing *ckvm_irq_routing_alloc(unsigned n) {
    struct kvm_irq_routing *r = calloc(1, sizeof(*r) + n * sizeof(struct kvm_irq_routing_entry));
    if (r) r->nr = n;
    return r;
}
/// Entry `i` as an MSI route for `gsi` (the union member Swift cannot name).
static inline void ckvm_irq_routing_set_msi(struct kvm_irq_routing *r, unsigned i, unsigned gsi,
                                            unsigned long long address, unsigned data) {
    struct kvm_irq_routing_entry *e = &r->entries[i];
    memset(e, 0, sizeof *e);
    e->gsi = gsi;
    e->type = KVM_IRQ_ROUTING_MSI;
    e->u.msi.address_lo = (unsigned)address;
    e->u.msi.address_hi = (unsigned)(address >> 32);
    e->u.msi.data = data;
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
/// The kick signal stays blocked on a vCPU thread except inside KVM_RUN (KVM_SET_SIGNAL_MASK
/// with the thread's mask minus the kick), so a kick or deadline arriving just before KVM_RUN
/// is held pending and makes KVM_RUN return at once instead of being lost.
static inline int ckvm_block_kick_signal_for_run(int vcpu) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, ckvm_kick_signal());
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    if (pthread_sigmask(SIG_BLOCK, NULL, &set) != 0) return -1;
    sigdelset(&set, ckvm_kick_signal());
    union { struct kvm_signal_mask mask; unsigned char bytes[sizeof(struct kvm_signal_mask) + 8]; } arg;
    arg.mask.len = 8; // the kernel's sigset_t, not glibc's
    memcpy(arg.mask.sigset, &set, 8);
    return ioctl(vcpu, KVM_SET_SIGNAL_MASK, &arg);
}

/// Takes the kick signals that ended KVM_RUN off the thread's pending set.
static inline void ckvm_consume_kick_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, ckvm_kick_signal());
    struct timespec zero = { 0, 0 };
    while (sigtimedwait(&set, NULL, &zero) > 0) {}
}

/// A CLOCK_MONOTONIC timer that sends the kick signal to the calling thread (the vCPU's
/// deadline), as its kernel timer ID, or -1. Not timer_t: the process's first timer has ID 0,
/// which glibc hands out as a null timer_t, and Swift would import that as nil.
static inline long ckvm_thread_timer_create(void) {
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = 4; // SIGEV_THREAD_ID (<asm-generic/siginfo.h>; glibc hides it without _GNU_SOURCE)
    ev.sigev_signo = ckvm_kick_signal();
    ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    timer_t timer;
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0) return -1;
    return (long)(intptr_t)timer;
}

/// Arms timer `id` to fire once after `ns` nanoseconds (0 disarms it).
static inline int ckvm_timer_arm(long id, unsigned long long ns) {
    struct itimerspec spec;
    memset(&spec, 0, sizeof spec);
    spec.it_value.tv_sec = (time_t)(ns / 1000000000ull);
    spec.it_value.tv_nsec = (long)(ns % 1000000000ull);
    return timer_settime((timer_t)(intptr_t)id, 0, &spec, NULL);
}

static inline void ckvm_timer_delete(long id) { timer_delete((timer_t)(intptr_t)id); }

#endif
