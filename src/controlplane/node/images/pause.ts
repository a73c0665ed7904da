/**
 * The sandbox ("pause") program every Pod's network namespace hangs on. Kubernetes' own pause
 * image is a tiny static C program; this one does what it does (sleep until a signal, reap
 * children when it is PID 1 of a shared PID namespace) and is compiled here with `gcc -static`.
 */
export const PAUSE_C = `#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int signal) { (void)signal; _exit(0); }
static void reap(int signal) { (void)signal; while (waitpid(-1, NULL, WNOHANG) > 0) {} }

int main(void) {
  if (getpid() != 1) fprintf(stderr, "pause: warning, not PID 1\\n");
  struct sigaction on_stop = { .sa_handler = stop };
  struct sigaction on_child = { .sa_handler = reap, .sa_flags = SA_NOCLDSTOP };
  sigaction(SIGINT, &on_stop, NULL);
  sigaction(SIGTERM, &on_stop, NULL);
  sigaction(SIGCHLD, &on_child, NULL);
  for (;;) pause();
}
`;
