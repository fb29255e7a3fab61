/* Diagnostics go to stderr, one line each, prefixed with the program name; stdout is kept
 * for a command's result so that scripts can read it. Never pass a secret to these. A message
 * is written as lib/display.h shows text: a byte outside printable ASCII (a peer's newline or
 * ESC) becomes \xNN, so that a log line is always one line.
 *
 * When stderr is the journal (a systemd service's, JOURNAL_STREAM naming it), each line starts
 * with its syslog priority as sd-daemon(3) has it: "<3>" error, "<4>" warning, "<6>" info,
 * "<7>" debug; the journal strips it and files the line at that priority. Anywhere else (a
 * terminal, a file, a pipe) the lines are as they were. */
#pragma once

#include <stdbool.h>

/* LOG_LEVEL_SILENT, as a max_level only: no line at all (the fuzz harnesses, whose targets log
 * an error for inputs they refuse by design). */
enum log_level { LOG_LEVEL_SILENT = -1, LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Also looks whether stderr is the journal's stream: call it again after moving stderr. */
void log_setup(const char *program, enum log_level max_level);
void log_at(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_at(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_at(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...) log_at(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_LEVEL_DEBUG, __VA_ARGS__)
