/* Security-sensitive: the token is a secret; no detail recorded here quotes it. */
#include "agent/enrol_token.h"

#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/secret_file.h"

#define ENROL_TOKEN_RULE "16 to 256 printable ASCII characters"

int enrol_token_check(const uint8_t *token, size_t size) {
        if (size < ENROL_TOKEN_MIN || size > ENROL_TOKEN_MAX)
                return vm_error(-EINVAL, "the enrolment token is %zu characters long: it must be " ENROL_TOKEN_RULE,
                                size);
        for (size_t i = 0; i < size; i++)
                if (token[i] < 0x20 || token[i] > 0x7e)
                        return vm_error(-EINVAL,
                                        "character %zu of the enrolment token is not printable ASCII: it must be "
                                        ENROL_TOKEN_RULE,
                                        i + 1);
        return 0;
}

int enrol_token_read(int fd, struct secret **token) {
        _cleanup_(secret_freep) struct secret *input = NULL;
        const uint8_t *newline;
        size_t size;
        int ret;

        /* the longest token and its newline; a byte more is a token too long */
        ret = secret_fd_read(fd, "the enrolment token on stdin", ENROL_TOKEN_MAX + 1, &input);
        if (ret == -EFBIG)
                return vm_error(-EINVAL, "the enrolment token on stdin is longer than %d characters: it must be "
                                         ENROL_TOKEN_RULE, ENROL_TOKEN_MAX);
        if (ret < 0)
                return ret;
        size = input->size;
        newline = memchr(input->data, '\n', size);
        if (newline && (size_t)(newline - input->data) != size - 1)
                return vm_error(-EINVAL, "stdin holds more than one line: the enrolment token is one line of "
                                         ENROL_TOKEN_RULE);
        if (newline)
                size--;
        if (size == 0)
                return vm_error(-EINVAL, "stdin holds no enrolment token: give one line of " ENROL_TOKEN_RULE);
        ret = enrol_token_check(input->data, size);
        if (ret < 0)
                return ret;
        *token = secret_new_copy(input->data, size);
        return *token ? 0 : vm_error(-ENOMEM, "no room in the secure heap for the enrolment token");
}
