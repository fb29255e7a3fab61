#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "display.h"

static const char *log_program = "vmattest";
static enum log_level log_max_level = LOG_LEVEL_INFO;
static bool log_to_journal;

/* Whether stderr is the journal's stream: systemd sets JOURNAL_STREAM to "DEV:INO" of the
 * stream it connected (systemd.exec(5)); the same device and inode on our stderr mean nobody
 * redirected it since (a shell's 2>file would keep the variable but not the stream). */
static bool stderr_is_journal(void) {
        const char *stream = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        int end = 0;

        if (!stream || sscanf(stream, "%llu:%llu%n", &dev, &ino, &end) != 2 || stream[end] != '\0')
                return false;
        return fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
               (unsigned long long)st.st_ino == ino;
}

void log_setup(const char *program, enum log_level max_level) {
        log_program = program;
        log_max_level = max_level;
        log_to_journal = stderr_is_journal();
}

void log_at(enum log_level level, const char *fmt, ...) {
        static const char *const prefix[] = {
                [LOG_LEVEL_ERROR] = "error: ",
                [LOG_LEVEL_WARNING] = "warning: ",
                [LOG_LEVEL_INFO] = "",
                [LOG_LEVEL_DEBUG] = "debug: ",
        };
        /* sd-daemon(3)'s prefixes: the journal files the line at this syslog priority
         * (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG), so that `journalctl -p err` finds it */
        static const char *const priority[] = {
                [LOG_LEVEL_ERROR] = "<3>",
                [LOG_LEVEL_WARNING] = "<4>",
                [LOG_LEVEL_INFO] = "<6>",
                [LOG_LEVEL_DEBUG] = "<7>",
        };
        va_list ap;

        if (level > log_max_level)
                return;
        /* One fprintf per part would interleave with other processes on a shared console;
         * format the line first and write it whole. */
        char line[1024], shown[1024];
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        /* a message quotes what peers sent: a newline in it must not start a forged line, nor
         * an ESC sequence repaint the console (lib/display.h) */
        display_escape(line, strlen(line), shown, sizeof(shown));
        fprintf(stderr, "%s%s: %s%s\n", log_to_journal ? priority[level] : "", log_program, prefix[level], shown);
}
