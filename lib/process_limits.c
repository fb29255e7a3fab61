#include "process_limits.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "error.h"

int process_no_dumps(void) {
        static const struct rlimit no_core = { 0, 0 };

        if (setrlimit(RLIMIT_CORE, &no_core) < 0)
                return vm_error(-errno, "cannot turn core dumps off (RLIMIT_CORE)");
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return vm_error(-errno, "cannot make the process non-dumpable (PR_SET_DUMPABLE)");
        return 0;
}

long process_files_max(void) {
        struct rlimit files;

        if (getrlimit(RLIMIT_NOFILE, &files) < 0)
                return vm_error(-errno, "cannot read RLIMIT_NOFILE");
        if (files.rlim_cur < files.rlim_max) {
                files.rlim_cur = files.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &files) < 0)
                        return vm_error(-errno, "cannot raise RLIMIT_NOFILE to %llu",
                                        (unsigned long long)files.rlim_max);
        }
        return files.rlim_cur > (rlim_t)0x7fffffff ? 0x7fffffff : (long)files.rlim_cur;
}
