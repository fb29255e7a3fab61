/* The system side of vmattest first-boot: /etc/crypttab, the state directory's owner, programs
 * (systemctl, dracut) run with posix_spawn. See agent/first_boot_steps.h. */
#include "agent/first_boot_steps.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/first_boot_record.h"
#include "agent/state.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/log.h"

#define LINE_MAX_LEN 1024
/* systemd-cryptsetup caches a passphrase it was given in the kernel keyring and tries it on the
 * next volume without asking: the other volumes would open before `vmattest unlock` sees their
 * requests, and it would wait for them (and record in PCR 15 only what it answered) */
#define NO_PASSWORD_CACHE "password-cache=no"

extern char **environ;

DEFINE_POINTER_CLEANUP(DIR, closedir)

/* Does the crypttab entry (name, device) stand for `v`? */
static bool entry_is(const char *name, const char *device, const struct provisioned_volume *v) {
        char by_uuid[128];

        snprintf(by_uuid, sizeof(by_uuid), "/dev/disk/by-uuid/%s", v->uuid);
        return strcmp(name, v->name) == 0 || strcasecmp(device + (strncmp(device, "UUID=", 5) == 0 ? 5 : 0), v->uuid) == 0 ||
               strcmp(device, by_uuid) == 0 || strcmp(device, v->device) == 0;
}

static int append(char **text, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int append(char **text, size_t *len, const char *fmt, ...) {
        _cleanup_(freep) char *piece = NULL;
        va_list ap;
        int n;
        char *grown;

        va_start(ap, fmt);
        n = vasprintf(&piece, fmt, ap);
        va_end(ap);
        if (n < 0)
                return piece = NULL, -ENOMEM;
        grown = realloc(*text, *len + (size_t)n + 1);
        if (!grown)
                return -ENOMEM;
        memcpy(grown + *len, piece, (size_t)n + 1);
        *text = grown;
        *len += (size_t)n;
        return 0;
}

int crypttab_update(const char *old, const struct provisioned_volume *volumes, size_t count, char **out) {
        _cleanup_(freep) char *text = strdup("");
        bool seen[PROVISION_VOLUMES_MAX] = {};
        size_t len = 0;
        int ret;

        if (!text)
                return -ENOMEM;
        if (count > PROVISION_VOLUMES_MAX)
                return -EINVAL;
        for (const char *line = old; *line;) {
                const char *end = strchr(line, '\n');
                size_t line_len = end ? (size_t)(end - line) : strlen(line);
                char copy[LINE_MAX_LEN + 1], *fields[4] = {}, *save = NULL;
                size_t nfields = 0;
                const struct provisioned_volume *match = NULL;

                if (line_len > LINE_MAX_LEN)
                        return vm_error(-EINVAL, "crypttab: a line of more than %d bytes", LINE_MAX_LEN);
                memcpy(copy, line, line_len);
                copy[line_len] = '\0';
                for (char *f = strtok_r(copy, " \t", &save); f && nfields < 4; f = strtok_r(NULL, " \t", &save))
                        fields[nfields++] = f;
                if (nfields >= 2 && fields[0][0] != '#')
                        for (size_t i = 0; i < count && !match; i++)
                                if (entry_is(fields[0], fields[1], &volumes[i])) {
                                        match = &volumes[i];
                                        seen[i] = true;
                                }
                if (match) {
                        char options[LINE_MAX_LEN + 1] = "", *opt_save = NULL;

                        /* the entry's options, but its own password-cache= */
                        for (char *o = fields[3] ? strtok_r(fields[3], ",", &opt_save) : NULL; o;
                             o = strtok_r(NULL, ",", &opt_save))
                                if (strncmp(o, "password-cache=", 15) != 0)
                                        snprintf(options + strlen(options), sizeof(options) - strlen(options), "%s,", o);
                        ret = append(&text, &len, "%s %s none %s" NO_PASSWORD_CACHE "\n", fields[0], fields[1], options);
                } else {
                        ret = append(&text, &len, "%.*s\n", (int)line_len, line);
                }
                if (ret < 0)
                        return ret;
                line += line_len + (end ? 1 : 0);
        }
        for (size_t i = 0; i < count; i++) {
                if (seen[i])
                        continue;
                ret = append(&text, &len, "# vmattest first-boot: unlocked by vmattest unlock in the initrd\n"
                                          "%s UUID=%s none luks,discard," NO_PASSWORD_CACHE "\n",
                             volumes[i].name, volumes[i].uuid);
                if (ret < 0)
                        return ret;
        }
        *out = TAKE_PTR(text);
        return 0;
}

int crypttab_write(const char *path, const struct provisioned_volume *volumes, size_t count) {
        _cleanup_(freep) char *old = NULL, *text = NULL;
        size_t size = 0;
        int ret = file_read_all(path, FIRST_BOOT_CRYPTTAB_MAX, &old, &size);

        if (ret == -ENOENT)
                old = strdup(""), ret = old ? 0 : -ENOMEM;
        if (ret < 0)
                return vm_error(ret, "%s: cannot read: %s", path, vm_error_detail(ret));
        if (strlen(old) != size)
                return vm_error(-EINVAL, "%s: holds a NUL byte", path);
        if ((ret = crypttab_update(old, volumes, count, &text)) < 0)
                return vm_error(ret, "%s: %s", path, vm_error_detail(ret));
        if (strcmp(old, text) == 0)
                return 0;
        return state_write_file(path, text, strlen(text), 0644);
}

int state_dir_give(const struct agent_config *config, uid_t owner) {
        _cleanup_(closedirp) DIR *dir = NULL;
        struct dirent *entry;

        if (owner == 0 || owner == (uid_t)-1 || geteuid() != 0)
                return 0;
        dir = opendir(config->state_dir);
        if (!dir)
                return vm_error(-errno, "state directory %s: cannot open: %m", config->state_dir);
        while ((entry = readdir(dir))) {
                struct stat st;

                /* the first boot's record stays root's (agent/first_boot_record.h) */
                if (strcmp(entry->d_name, "..") == 0 || strcmp(entry->d_name, FIRST_BOOT_RECORD_NAME) == 0)
                        continue;
                if (fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return vm_error(-errno, "%s/%s: %m", config->state_dir, entry->d_name);
                if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
                        continue;
                if (st.st_uid != owner && fchownat(dirfd(dir), entry->d_name, owner, (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0)
                        return vm_error(-errno, "%s/%s: cannot give it to uid %u (handover_user): %m",
                                        config->state_dir, entry->d_name, (unsigned)owner);
        }
        return 0;
}

bool systemd_booted(void) {
        struct stat st;

        return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

int run_program(const char *step, char *const argv[]) {
        pid_t pid;
        int status, ret;

        log_info("first-boot: %s: running %s", step, argv[0]);
        ret = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
        if (ret != 0)
                return vm_error(-ret, "%s: cannot run %s: %s", step, argv[0], strerror(ret));
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return vm_error(-errno, "%s: waiting for %s: %m", step, argv[0]);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status))
                return vm_error(-EIO, "%s: %s exited with status %d", step, argv[0], WEXITSTATUS(status));
        return vm_error(-EIO, "%s: %s was killed by signal %d", step, argv[0], WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int remove_file(const char *step, const char *path) {
        if (unlink(path) < 0 && errno != ENOENT)
                return vm_error(-errno, "%s: cannot remove %s: %m", step, path);
        return 0;
}

int file_rename_synced(const char *step, const char *from, const char *to) {
        _cleanup_(closep) int fd = open(from, O_RDONLY | O_CLOEXEC), dirfd = -1;
        char dir[PATH_MAX], *slash;

        /* its bytes on the disk before its name: a cut after the rename must not find it torn */
        if (fd < 0 || fsync(fd) < 0)
                return vm_error(-errno, "%s: cannot sync %s: %m", step, from);
        if (rename(from, to) < 0)
                return vm_error(-errno, "%s: cannot rename %s onto %s: %m", step, from, to);
        snprintf(dir, sizeof(dir), "%s", to);
        slash = strrchr(dir, '/');
        if (slash)
                *(slash == dir ? slash + 1 : slash) = '\0';
        dirfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0 || fsync(dirfd) < 0)
                return vm_error(-errno, "%s: cannot sync the directory of %s: %m", step, to);
        return 0;
}

int first_boot_initrd_path(char *out, size_t size) {
        struct utsname uts;

        if (uname(&uts) < 0)
                return vm_error(-errno, "uname: %m");
        snprintf(out, size, "/boot/initramfs-%s.img", uts.release);
        if (access(out, F_OK) == 0) {
                snprintf(out, size, "/boot/initrd.img-%s", uts.release);
                if (access(out, F_OK) < 0)
                        snprintf(out, size, "/boot/initramfs-%s.img", uts.release);
                return 0;
        }
        snprintf(out, size, "/boot/initrd.img-%s", uts.release);
        return 0;
}
