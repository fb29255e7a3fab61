/* libcurl, loaded when the first HTTP request is made rather than at program start: libcurl
 * pulls some thirty libraries (TLS, Kerberos, LDAP, HTTP/2, ...) into the process, which would
 * double the memory of every `vmattest quote` or `vmattest serve` that never speaks HTTP as a
 * client. Only the calls http_client.c makes are bound. */
#pragma once

#include <curl/curl.h>

struct curl_api {
        CURL *(*easy_init)(void);
        CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
        CURLcode (*easy_perform)(CURL *curl);
        CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
        void (*easy_cleanup)(CURL *curl);
        const char *(*easy_strerror)(CURLcode code);
        struct curl_slist *(*slist_append)(struct curl_slist *list, const char *string);
        void (*slist_free_all)(struct curl_slist *list);
        /* the multi interface: the verifier polls many agents at once */
        CURLM *(*multi_init)(void);
        CURLMcode (*multi_add_handle)(CURLM *multi, CURL *curl);
        CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *curl);
        CURLMcode (*multi_perform)(CURLM *multi, int *running);
        CURLMcode (*multi_poll)(CURLM *multi, struct curl_waitfd *extra, unsigned n, int timeout_ms, int *numfds);
        CURLMsg *(*multi_info_read)(CURLM *multi, int *queued);
        CURLMcode (*multi_cleanup)(CURLM *multi);
};

/* The bound API (loaded once, kept for the process's life), or an error naming the library. */
int curl_api_get(const struct curl_api **api);
