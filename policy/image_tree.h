/* The files of an image tree a runtime policy lists, and the names IMA gives them.
 *
 * IMA measures a file under the path it was opened by, resolved: d_path() of the file, so a
 * program run as /bin/sh through the symlinks /bin -> usr/bin and sh -> dash is logged as
 * /usr/bin/dash. A symlink therefore never needs an entry of its own: its target is listed under
 * the target's path when that is in the tree. The walk never follows one (beneath.h). What the
 * shipped IMA policy (ima-policy/vmattest.policy) measures is every program, library, module or
 * firmware file run or loaded from any filesystem but the pseudo filesystems, and every file root
 * reads outside those and tmpfs/ramfs: so any regular file of an image's disk can be measured,
 * whoever owns it. The walk takes:
 *   - every regular file, whoever owns it (Keylime takes root's files only: a program another
 *     user owns is measured when anyone runs it);
 *   - except under the top-level directories Keylime's generator skips (/sys /run /proc
 *     /lost+found /dev /media /snap /mnt /var /tmp: pseudo filesystems, tmpfs and mounts at run
 *     time, or state that changes as soon as the image boots: a tenant allows /var's files
 *     through `excludes`), and below a mount point of a filesystem the IMA policy never measures
 *     (the pseudo filesystems and tmpfs/ramfs of its dont_measure rules), which Keylime instead
 *     decides from the host's mount table;
 *   - except files whose IMA name an --exclude regex matches: the policy's excludes pass them
 *     whatever their digest, so their digests would be dead weight;
 *   - except names that are not UTF-8 (a warning each): IMA logs the raw bytes, and a JSON
 *     policy has no way to spell them.
 * The IMA name is "/" + the path inside the tree, every space written as '_' (the kernel's
 * ASCII list does that; so does Keylime). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/python_regex.h"

#define IMAGE_TREE_NAME_MAX 4096 /* IMA_PATH_MAX: longer names are an error */

struct tree_file {
        char *path; /* inside the tree, no leading '/': what open_beneath() takes */
        char *name; /* as IMA logs it */
};

struct image_tree {
        int root_fd;
        struct tree_file *files;
        size_t count, cap;
        /* what the walk left out */
        size_t symlinks, special, excluded, not_utf8, skipped_dirs, skipped_mounts;
};

/* Walks the tree at `root`. An error (a directory that cannot be opened or read, a name too long)
 * names the path inside the tree. */
int image_tree_walk(const char *root, struct python_regex *const *excludes, size_t exclude_count,
                    struct image_tree *tree);
/* After image_tree_walk(), whether it succeeded or not. */
void image_tree_done(struct image_tree *tree);

/* Whether IMA under the shipped policy measures nothing read from a filesystem with this
 * superblock magic (its dont_measure fsmagic= rules). */
bool image_tree_unmeasured_fs(unsigned long magic);

/* The top-level directories the walk skips, NULL-terminated. */
extern const char *const image_tree_skipped_dirs[];
