#include "lib/host_binding_frame.h"

#include <string.h>

#include "lib/error.h"
#include "lib/reader.h"
#include "lib/writer.h"

static size_t body_max(uint16_t type) {
        switch (type) {
        case HOST_FRAME_REQUEST:
                return HOST_REQUEST_BODY_MAX;
        case HOST_FRAME_BINDING:
                return HOST_BINDING_MAX_SIZE;
        case HOST_FRAME_ERROR:
                return HOST_ERROR_BODY_MAX;
        }
        return 0;
}

int host_frame_header_parse(const uint8_t header[HOST_FRAME_HEADER_SIZE], int from_guest,
                            struct host_frame_header *out) {
        struct reader r;
        uint32_t magic;
        uint16_t version;
        int ret;

        reader_init(&r, header, HOST_FRAME_HEADER_SIZE, "host service frame");
        if ((ret = reader_u32be(&r, &magic, "magic")) < 0 || (ret = reader_u16be(&r, &version, "version")) < 0 ||
            (ret = reader_u16be(&r, &out->type, "type")) < 0 || (ret = reader_u32be(&r, &out->length, "length")) < 0)
                return ret;
        if (magic != HOST_FRAME_MAGIC)
                return reader_invalid(&r, "magic 0x%08x is not \"VMHQ\"", magic);
        if (version != HOST_FRAME_VERSION)
                return reader_invalid(&r, "version %u is not %d", version, HOST_FRAME_VERSION);
        if (from_guest ? out->type != HOST_FRAME_REQUEST
                       : out->type != HOST_FRAME_BINDING && out->type != HOST_FRAME_ERROR)
                return reader_invalid(&r, "type %u is not a %s", out->type,
                                      from_guest ? "request (1)" : "binding (2) or an error (3)");
        if (out->length == 0 || out->length > body_max(out->type))
                return reader_invalid(&r, "length %u of a type %u frame is not 1-%zu", out->length, out->type,
                                      body_max(out->type));
        return 0;
}

int host_request_parse(const uint8_t *body, size_t size, struct host_request *out) {
        struct reader r;
        uint16_t n;
        int ret;

        memset(out, 0, sizeof(*out));
        reader_init(&r, body, size, "host service request");
        if ((ret = reader_u16be(&r, &n, "nonce size")) < 0)
                return ret;
        if (n == 0 || n > HOST_BINDING_NONCE_MAX)
                return reader_invalid(&r, "nonce of %u bytes, not 1-%d", n, HOST_BINDING_NONCE_MAX);
        if ((ret = reader_copy(&r, out->nonce, n, "nonce")) < 0)
                return ret;
        out->nonce_size = n;
        if ((ret = reader_u16be(&r, &n, "EK name size")) < 0)
                return ret;
        if (n > sizeof(out->ek_name.name))
                return reader_invalid(&r, "EK name of %u bytes, more than a Name holds", n);
        if ((ret = reader_copy(&r, out->ek_name.name, n, "EK name")) < 0)
                return ret;
        out->ek_name.size = n;
        if ((ret = reader_expect_end(&r)) < 0)
                return ret;
        if ((ret = host_binding_name_check(&out->ek_name)) < 0)
                return vm_error(-EBADMSG, "host service request: %s", vm_error_detail(ret));
        return 0;
}

static bool printable(uint8_t c) {
        return c >= 0x20 && c < 0x7f;
}

int host_error_parse(const uint8_t *body, size_t size, struct host_error *out) {
        const uint8_t *message;
        struct reader r;
        uint16_t n;
        int ret;

        memset(out, 0, sizeof(*out));
        reader_init(&r, body, size, "host service error");
        if ((ret = reader_u16be(&r, &out->code, "code")) < 0 || (ret = reader_u16be(&r, &n, "message size")) < 0)
                return ret;
        if (n > HOST_FRAME_MESSAGE_MAX)
                return reader_invalid(&r, "message of %u bytes, more than %d", n, HOST_FRAME_MESSAGE_MAX);
        if ((ret = reader_bytes(&r, n, &message, "message")) < 0)
                return ret;
        for (size_t i = 0; i < n; i++)
                if (!printable(message[i]))
                        return reader_invalid(&r, "message byte %zu is 0x%02x, not printable ASCII", i, message[i]);
        memcpy(out->message, message, n);
        out->message[n] = '\0';
        return reader_expect_end(&r);
}

static void header_write(struct writer *w, uint16_t type, size_t length) {
        writer_u32be(w, HOST_FRAME_MAGIC);
        writer_u16be(w, HOST_FRAME_VERSION);
        writer_u16be(w, type);
        writer_u32be(w, (uint32_t)length);
}

static int frame_done(const struct writer *w, size_t *out_size) {
        if (w->failed)
                return vm_error(-ENOBUFS, "host service frame: more than %zu bytes", w->capacity);
        *out_size = w->offset;
        return 0;
}

int host_request_encode(const struct host_request *in, uint8_t *out, size_t cap, size_t *out_size) {
        struct writer w;

        if (in->nonce_size == 0 || in->nonce_size > HOST_BINDING_NONCE_MAX || host_binding_name_check(&in->ek_name) < 0)
                return vm_error(-EINVAL, "host service request: a nonce of %zu bytes, an EK name of %u",
                                in->nonce_size, in->ek_name.size);
        writer_init(&w, out, cap);
        header_write(&w, HOST_FRAME_REQUEST, 2 + in->nonce_size + 2 + in->ek_name.size);
        writer_u16be(&w, (uint16_t)in->nonce_size);
        writer_bytes(&w, in->nonce, in->nonce_size);
        writer_u16be(&w, in->ek_name.size);
        writer_bytes(&w, in->ek_name.name, in->ek_name.size);
        return frame_done(&w, out_size);
}

int host_binding_frame_encode(const uint8_t *blob, size_t blob_size, uint8_t *out, size_t cap, size_t *out_size) {
        struct writer w;

        if (blob_size == 0 || blob_size > HOST_BINDING_MAX_SIZE)
                return vm_error(-EINVAL, "host service answer: a binding of %zu bytes", blob_size);
        writer_init(&w, out, cap);
        header_write(&w, HOST_FRAME_BINDING, blob_size);
        writer_bytes(&w, blob, blob_size);
        return frame_done(&w, out_size);
}

int host_error_encode(uint16_t code, const char *message, uint8_t *out, size_t cap, size_t *out_size) {
        char text[HOST_FRAME_MESSAGE_MAX];
        size_t n = strnlen(message, sizeof(text));
        struct writer w;

        for (size_t i = 0; i < n; i++)
                text[i] = printable((uint8_t)message[i]) ? message[i] : '?';
        writer_init(&w, out, cap);
        header_write(&w, HOST_FRAME_ERROR, 4 + n);
        writer_u16be(&w, code);
        writer_u16be(&w, (uint16_t)n);
        writer_bytes(&w, text, n);
        return frame_done(&w, out_size);
}

const char *host_error_code_name(uint16_t code) {
        switch (code) {
        case HOST_ERROR_MALFORMED:
                return "malformed request";
        case HOST_ERROR_RATE_LIMITED:
                return "rate limited";
        case HOST_ERROR_BUSY:
                return "busy";
        case HOST_ERROR_REFUSED:
                return "refused";
        case HOST_ERROR_HOST_TPM:
                return "host TPM";
        }
        return "unknown error";
}
