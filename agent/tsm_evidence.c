#include "agent/tsm_evidence.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/azure_imds.h"
#include "agent/azure_report.h"
#include "agent/cc_event_log.h"
#include "agent/tsm_report.h"
#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/tsm_binding.h"

bool tsm_evidence_wanted(const struct agent_config *config, struct tpm *tpm) {
        struct stat st;

        if (strcmp(config->platform_report, "off") == 0)
                return false;
        /* auto on a machine without configfs-tsm or Azure's paravisor: nothing to ask, and no EK
         * to create for it */
        return strcmp(config->platform_report, "required") == 0 || stat(config->tsm_report_dir, &st) == 0 ||
               azure_report_present(tpm);
}

static int add_blob(json_object *evidence, const char *key, const uint8_t *data, size_t size) {
        char *b64;

        if (!data)
                return 0;
        b64 = base64_encode(data, size);
        if (!b64)
                return -ENOMEM;
        json_object_object_add(evidence, key, json_object_new_string(b64));
        free(b64);
        return 0;
}

/* Azure: the binding is the user data the paravisor copies into its runtime data, which the
 * hardware report's REPORT_DATA binds by SHA-256 (verifier/platform_evidence.c checks both). On
 * Azure TDX that report is a TDREPORT, which only this CPU can check: IMDS has it quoted
 * (agent/azure_imds.h), and the quote is served beside the report as "td_quote". */
static int azure_evidence(const struct agent_config *config, struct tpm *tpm, bool required,
                          const uint8_t binding[TSM_BINDING_SIZE], json_object **evidence) {
        _cleanup_(freep) uint8_t *report = NULL;
        _cleanup_(freep) uint8_t *td_quote = NULL;
        const uint8_t *tdreport = NULL;
        size_t size = 0, quote_size = 0;
        json_object *out;
        int ret = azure_report_get(tpm, binding, &report, &size);

        if (ret >= 0)
                ret = azure_report_tdreport(report, size, &tdreport);
        if (ret > 0)
                ret = azure_imds_td_quote(config->azure_imds_url, tdreport, AZURE_TDREPORT_SIZE, &td_quote,
                                          &quote_size);
        if (ret < 0)
                return vm_error(ret, "platform report%s: %s", required ? " (required)" : "", vm_error_detail(ret));
        out = json_object_new_object();
        if (!out)
                return -ENOMEM;
        json_object_object_add(out, "provider", json_object_new_string("azure-hcl"));
        ret = add_blob(out, "outblob", report, size);
        if (ret >= 0)
                ret = add_blob(out, "td_quote", td_quote, quote_size);
        if (ret < 0) {
                json_object_put(out);
                return ret;
        }
        *evidence = out;
        return 0;
}

/* A TD's CC event log, for the verifier to replay RTMR0-3 from: served when the file is there,
 * left out (and the verifier decides whether that is enough) when it is not; a log that cannot
 * be read fails the quote as a failed report does. */
static int add_cc_event_log(json_object *evidence, const char *path, bool required) {
        _cleanup_(freep) uint8_t *log = NULL;
        size_t size = 0;
        int ret = cc_event_log_read(path, &log, &size);

        if (ret == -ENOENT) {
                log_debug("%s: no CC event log served with the TDX quote", path);
                return 0;
        }
        if (ret < 0)
                return vm_error(ret, "platform report%s: %s", required ? " (required)" : "", vm_error_detail(ret));
        return add_blob(evidence, "cc_event_log", log, size);
}

int tsm_evidence_json(const struct tsm_report *report, const char *cc_event_log_path, bool required,
                      json_object **evidence) {
        json_object *out = json_object_new_object();
        int ret;

        *evidence = NULL;
        if (!out)
                return -ENOMEM;
        json_object_object_add(out, "provider", json_object_new_string(report->provider));
        json_object_object_add(out, "generation", json_object_new_int64((int64_t)report->generation));
        ret = add_blob(out, "outblob", report->outblob, report->outblob_size);
        if (ret >= 0)
                ret = add_blob(out, "auxblob", report->auxblob, report->auxblob_size);
        if (ret >= 0)
                ret = add_blob(out, "manifest", report->manifest, report->manifest_size);
        if (ret >= 0 && strcmp(report->provider, "tdx_guest") == 0)
                ret = add_cc_event_log(out, cc_event_log_path, required);
        if (ret < 0) {
                json_object_put(out);
                return ret;
        }
        *evidence = out;
        return 0;
}

int tsm_evidence_take(const struct agent_config *config, struct tpm *tpm, const uint8_t *nonce, size_t nonce_size,
                      const TPM2B_NAME *ak_name, const TPM2B_NAME *ek_name, json_object **evidence) {
        bool required = strcmp(config->platform_report, "required") == 0;
        bool svsm = strcmp(config->tsm_service_provider, "svsm") == 0;
        uint8_t report_data[TSM_BINDING_SIZE];
        struct tsm_report report;
        int ret;

        *evidence = NULL;
        if (!tsm_evidence_wanted(config, tpm))
                return 0;
        if ((ret = tsm_report_binding(nonce, nonce_size, ak_name, ek_name, report_data)) < 0)
                return ret;
        if (azure_report_present(tpm))
                return azure_evidence(config, tpm, required, report_data, evidence);
        ret = tsm_report_get(config->tsm_report_dir, report_data, svsm, &report);
        if (ret == -ENODEV && !required) {
                log_debug("%s: no platform report served", vm_error_detail(ret));
                return 0;
        }
        if (ret < 0)
                return vm_error(ret, "platform report%s: %s", required ? " (required)" : "", vm_error_detail(ret));
        ret = tsm_evidence_json(&report, config->cc_event_log_path, required, evidence);
        tsm_report_done(&report);
        return ret;
}
