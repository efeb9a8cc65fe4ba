/*
 * rusage.c - run a program and write its CPU time and peak RSS, for bench/run.
 *
 *   rusage OUT.json PROGRAM [ARGS...]
 *
 * Why not wait4() from Python: Linux keeps a process's peak RSS across
 * execve (the high-water mark of the memory it had before the exec counts),
 * and a child spawned by the Python driver starts as a copy of it, so
 * ru_maxrss would never read below the driver's own ~30 MB.  This small
 * process forks the program itself: the child's pre-exec image is this
 * program's, a few hundred kilobytes, so ru_maxrss is the program's own peak.
 *
 * The program inherits stdin, stdout and stderr.  OUT.json receives
 * {"exit": N, "user_s": U, "sys_s": S, "maxrss_kb": K}; the exit status is
 * the program's (128 + signal when killed).
 */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child;

static void forward(int sig)
{
    if (child > 0) {
        kill(child, sig);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: rusage OUT.json PROGRAM [ARGS...]\n");
        return 2;
    }
    signal(SIGTERM, forward);
    signal(SIGINT, forward);
    child = fork();
    if (child < 0) {
        perror("rusage: fork");
        return 70;
    }
    if (child == 0) {
        execvp(argv[2], argv + 2);
        perror("rusage: exec");
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof(ru));
    while (wait4(child, &status, 0, &ru) < 0) {
        /* interrupted by a forwarded signal: wait again */
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    FILE *out = fopen(argv[1], "w");
    if (out == NULL) {
        perror("rusage: output");
        return 70;
    }
    fprintf(out, "{\"exit\": %d, \"user_s\": %ld.%06ld, \"sys_s\": %ld.%06ld, \"maxrss_kb\": %ld}\n", code,
            (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec, (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec,
            ru.ru_maxrss);
    fclose(out);
    return code;
}
