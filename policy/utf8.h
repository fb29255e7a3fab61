/* Strict UTF-8: what a JSON string can carry (names of the image's files, the kernel command
 * line the EFI stub measures as UTF-16). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes the sequence at `p` (`left` > 0 bytes); its length, or 0 when it is not valid UTF-8
 * (an overlong form, a surrogate, a code point above U+10FFFF, a cut sequence). */
size_t utf8_decode(const uint8_t *p, size_t left, uint32_t *code_point);

bool utf8_valid(const char *text, size_t len);
