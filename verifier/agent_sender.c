#include "verifier/agent_sender.h"

#include <openssl/pem.h>
#include <string.h>

#include "lib/error.h"
#include "lib/http_server.h"

/* Whether `cert` is, byte for byte (DER), the PEM certificate the agent registered. */
static bool same_certificate(X509 *cert, const char *registered_pem) {
        BIO *bio = BIO_new_mem_buf(registered_pem, -1);
        X509 *registered = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        unsigned char *der = NULL, *registered_der = NULL;
        int der_size = i2d_X509(cert, &der);
        int registered_size = registered ? i2d_X509(registered, &registered_der) : -1;
        bool same = der_size > 0 && der_size == registered_size && memcmp(der, registered_der, (size_t)der_size) == 0;

        OPENSSL_free(der);
        OPENSSL_free(registered_der);
        X509_free(registered);
        BIO_free(bio);
        return same;
}

int agent_sender_check(struct evhttp_request *req, const struct registered_agent *agent, const char *route) {
        X509 *cert = http_request_peer_certificate(req);

        if (!cert)
                return vm_error(-EACCES, "%s needs the registrar's TLS port and the agent's registered mTLS "
                                         "certificate as client certificate: none was presented",
                                route);
        if (!agent->active || !agent->mtls_cert || !same_certificate(cert, agent->mtls_cert))
                return vm_error(-EACCES, "the client certificate is not the active registered mTLS certificate of agent %s",
                                agent->agent_id);
        return 0;
}

int agent_sender_http_status(int ret) {
        switch (ret) {
        case -EBADMSG:
        case -EINVAL:
                return 400;
        case -EACCES:
                return 403;
        case -ENOENT:
                return 404;
        case -EAGAIN: /* not attested yet: the agent retries */
        case -EEXIST: /* against the write-once rules */
                return 409;
        default:
                return 500;
        }
}
