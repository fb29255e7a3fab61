/* Process-wide limits the agent and the verifier set for themselves. */
#pragma once

/* Both hold keys in memory (the agent its payload key and mTLS key, the verifier the payload
 * vault key and tenants' key halves): no core dump may write them to disk, and other processes
 * of the same user may not ptrace it or read /proc/PID/mem (PR_SET_DUMPABLE 0; exec resets it
 * for a child). Call first thing in main(). */
int process_no_dumps(void);
/* A server's connections each take a descriptor: the soft RLIMIT_NOFILE is raised to the
 * hard one. Returns the new soft limit, or a negative errno. */
long process_files_max(void);
