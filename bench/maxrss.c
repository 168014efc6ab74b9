/* maxrss OUT COMMAND [ARG...]: runs COMMAND as a forked child of this small process and writes
 * "pid N" (at start) and "maxrss_kib N" (the child's ru_maxrss from wait4, at exit) to OUT.
 *
 * Why a wrapper: Linux carries the high-water RSS of the address space a process had before
 * execve into its ru_maxrss. A child that Python spawns (fork, vfork or posix_spawn) therefore
 * reports Python's resident pages, not the program's. This wrapper's own address space is about
 * a megabyte, so the child's figure is the program's own peak (run.py measures the floor with
 * /bin/true). SIGTERM and SIGINT are forwarded to the child. Exit status: the child's, or 128+signal.
 * Compiled by bench/run.py with `cc`; benchmark tooling, not part of self-deployer. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child = 0;

static void forward(int sig) {
    if (child > 0) kill(child, sig);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: maxrss OUT COMMAND [ARG...]\n");
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    child = pid;
    fprintf(out, "pid %d\n", (int)pid);
    fflush(out);

    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("wait4");
            return 2;
        }
    }
    fprintf(out, "maxrss_kib %ld\n", ru.ru_maxrss);
    fclose(out);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}
