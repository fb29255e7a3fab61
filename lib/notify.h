/* The service manager's readiness protocol (sd_notify(3)), spoken without libsystemd: one
 * datagram of "VAR=value" lines to the AF_UNIX socket $NOTIFY_SOCKET names (a path, or an
 * abstract address written with a leading '@'). With NOTIFY_SOCKET unset (not under systemd,
 * or a unit whose type does not ask for it) every call does nothing.
 *
 * What is sent is advice to the service manager, never needed for the work itself: a failure
 * to send is logged once, at debug level, and otherwise ignored. The calls are safe from any
 * thread (each sends on a socket of its own). */
#pragma once

/* Longest STATUS= text sent; a longer one is cut. */
#define NOTIFY_STATUS_MAX 200

/* Sends `state` as it is, one datagram (at most NOTIFY_DATAGRAM_MAX bytes). Returns 0 when sent
 * or when NOTIFY_SOCKET is unset, else a negative errno (logged once; callers may ignore it). */
#define NOTIFY_DATAGRAM_MAX 512
int notify_send(const char *state);

/* READY=1: the service does what it is there for (Type=notify units start depending on it). */
int notify_ready(void);

/* STATUS=: one line of what the service is doing or waiting for, shown by `systemctl status`.
 * The text is shown as lib/display.h shows text: a newline in it (from a peer's answer, say)
 * becomes \x0a, so that it cannot add a variable of its own ("READY=1"). */
int notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* STOPPING=1: the service is shutting down (on SIGTERM). */
int notify_stopping(void);
