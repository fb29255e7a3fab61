/* The digest UEFI firmware measures into PCR 4 for a UEFI application it starts (the kernel's EFI
 * stub, shim, GRUB): the PE/COFF image's Authenticode hash, as EDK2 computes it
 * (SecurityPkg/Tcg/Tcg2Dxe/MeasureBootPeCoff.c, after Microsoft's "Windows Authenticode Portable
 * Executable Signature Format"):
 *   1. the headers up to the optional header's CheckSum, then from after CheckSum up to the
 *      Certificate Table entry of the data directory, then from after that entry up to
 *      SizeOfHeaders (without the entry when the directory is shorter than 5 entries);
 *   2. each section's raw data (SizeOfRawData bytes at PointerToRawData), in the order of
 *      PointerToRawData, sections without raw data skipped;
 *   3. what follows, up to the end of the file less the Certificate Table's size (the signatures
 *      appended at the end).
 * The signatures appended at the end are not hashed, so signing leaves the digest alone, except
 * that sbsign and osslsigncode first pad an image to a multiple of 8 bytes, and the padding is
 * hashed: measure the file that boots (Debian's kernels are signed already). A boot loader that
 * patches the image before the firmware measures it (qemu -kernel writes the bzImage's setup
 * header) gets another one: take that boot's digest from its event log instead.
 * The image is the user's file, parsed through the bounded reader all the same. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#define AUTHENTICODE_IMAGE_MAX (512u << 20) /* bytes of image */
#define AUTHENTICODE_MAX_SECTIONS 96        /* the PE format's own limit */

/* `digest` holds hashalg_size(alg) bytes. -EBADMSG naming the field for an image that is not PE
 * (no "MZ", no "PE\0\0", an unknown optional header) or whose headers point outside it. */
int authenticode_digest(const uint8_t *image, size_t size, TPM2_ALG_ID alg, uint8_t *digest);
