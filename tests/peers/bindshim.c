/* LD_PRELOAD shim: pin wildcard bind() calls to one loopback address (env PEER_BIND_ADDR).
 *
 * Orthanc 1.10 and DCMTK 3.6.7 cannot choose their listening address and bind 0.0.0.0;
 * tests need each peer on exactly one 127.0.0.x address.  IPv6 wildcard binds are refused
 * (EADDRNOTAVAIL) so a dual-stack socket cannot answer on every address either.
 * With PEER_DIE_WITH_PARENT set, the process also asks the kernel to SIGKILL it when the
 * test runner dies, so a crashed pytest never leaves peers holding their ports.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);

__attribute__((constructor)) static void peer_shim_init(void) {
    const char *parent = getenv("PEER_DIE_WITH_PARENT");
    if (parent == NULL || *parent == '\0')
        return;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* The runner may have died before prctl took effect: then we were reparented already. */
    if (getppid() != (pid_t)atol(parent))
        _exit(1);
}

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
    static bind_fn real_bind = NULL;
    if (real_bind == NULL)
        real_bind = (bind_fn)dlsym(RTLD_NEXT, "bind");
    const char *pinned = getenv("PEER_BIND_ADDR");
    if (pinned == NULL || *pinned == '\0' || addr == NULL)
        return real_bind(fd, addr, len);

    if (addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        if (in->sin_addr.s_addr != htonl(INADDR_ANY))
            return real_bind(fd, addr, len);
        struct sockaddr_in copy = *in;
        if (inet_pton(AF_INET, pinned, &copy.sin_addr) != 1) {
            errno = EINVAL;
            return -1;
        }
        return real_bind(fd, (const struct sockaddr *)&copy, sizeof copy);
    }
    if (addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        if (memcmp(&in6->sin6_addr, &in6addr_any, sizeof in6addr_any) == 0) {
            errno = EADDRNOTAVAIL;
            return -1;
        }
    }
    return real_bind(fd, addr, len);
}
