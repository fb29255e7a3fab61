/* Opening a file of an image tree by its path inside the tree without ever following a symlink:
 * the tree is someone's image, its absolute symlinks name files of that image (or of no
 * machine), never the files of the host that builds the policy. Security-sensitive: a symlink
 * anywhere in the path fails the open (ELOOP) instead of leading out of the tree, even when it
 * appears after the tree was walked. */
#pragma once

/* Opens `path` (relative, no "..", "" or "." for the root itself) beneath the directory
 * `root_fd` with `flags` (O_CLOEXEC and O_NOFOLLOW are added). Uses openat2's RESOLVE_BENEATH and
 * RESOLVE_NO_SYMLINKS, or, on a kernel or sandbox without openat2, opens the path one component
 * at a time with O_NOFOLLOW. Returns the fd or a negative errno (no detail: the caller names the
 * file). */
int open_beneath(int root_fd, const char *path, int flags);

/* The component-by-component way, for kernels without openat2 (exposed for the tests). */
int open_beneath_walk(int root_fd, const char *path, int flags);
