/* Azure's instance metadata service (IMDS) turns a TD's TDREPORT into a TD quote (docs/platforms.md,
 * "Azure"): on an Azure TDX confidential VM the paravisor's HCL report holds a TDREPORT, MAC'd
 * for the local CPU alone, and the guest asks IMDS to have Intel's TD quoting enclave sign it.
 * As Azure's own tooling (azure-cvm-tooling, az-tdx-vtpm get_td_quote) does: POST
 * {"report": base64url(TDREPORT)} to http://169.254.169.254/acc/tdquote with "Content-Type:
 * application/json" (exactly: IMDS answers 415 to a charset parameter) and "Metadata: true";
 * the answer is {"quote": base64url(quote)}. Plain HTTP, as IMDS serves it: the quote is
 * signed through Intel's chain, and the verifier trusts nothing else about it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define AZURE_IMDS_TD_QUOTE_URL "http://169.254.169.254/acc/tdquote"
/* a TD quote with its PEM chain is about 5 KiB; the verifier's bound on one */
#define AZURE_TD_QUOTE_MAX (64 * 1024)
/* how long IMDS may take to answer; the verifier's request_timeout must allow for it and for
 * the paravisor's report (agent/azure_report.h) */
#define AZURE_IMDS_TIMEOUT_MS 5000

/* IMDS's answer `body` (`size` bytes): one JSON object whose "quote" is 1 to AZURE_TD_QUOTE_MAX
 * bytes in base64url (padded or not). *quote is malloc'ed. -EBADMSG naming what is wrong. */
int azure_imds_quote_parse(const char *body, size_t size, uint8_t **quote, size_t *quote_size);

/* POSTs `tdreport` (`size` bytes) to `url` and parses the answer: *quote (malloc'ed). Errors
 * name the step and the URL: the request failing (-ECONNREFUSED, -ETIMEDOUT, ... as
 * lib/http_event_client.h says), an HTTP status other than 200 (-EIO, with an excerpt of the
 * body), an answer that does not parse (-EBADMSG). */
int azure_imds_td_quote(const char *url, const uint8_t *tdreport, size_t size, uint8_t **quote, size_t *quote_size);
