#include "curl_api.h"

#include <dlfcn.h>
#include <stddef.h>

#include "error.h"

#define CURL_LIBRARY "libcurl.so.4" /* Debian's libcurl4 (OpenSSL flavour) */

static struct curl_api api;
static int loaded; /* 0 not tried, 1 loaded, -1 failed */

static int bind_symbol(void *lib, const char *name, void **slot) {
        *slot = dlsym(lib, name);
        return *slot ? 0 : vm_error(-ENOSYS, "%s lacks %s", CURL_LIBRARY, name);
}

int curl_api_get(const struct curl_api **out) {
        void *lib;
        int ret = 0;

        if (loaded < 0)
                return vm_error(-ENOSYS, "%s could not be loaded", CURL_LIBRARY);
        if (loaded == 0) {
                lib = dlopen(CURL_LIBRARY, RTLD_NOW | RTLD_LOCAL);
                if (!lib) {
                        loaded = -1;
                        return vm_error(-ENOSYS, "cannot load %s (install libcurl4): %s", CURL_LIBRARY, dlerror());
                }
                /* POSIX lets a data pointer hold a function pointer returned by dlsym */
                if (ret >= 0) ret = bind_symbol(lib, "curl_easy_init", (void **)&api.easy_init);
                if (ret >= 0) ret = bind_symbol(lib, "curl_easy_setopt", (void **)&api.easy_setopt);
                if (ret >= 0) ret = bind_symbol(lib, "curl_easy_perform", (void **)&api.easy_perform);
                if (ret >= 0) ret = bind_symbol(lib, "curl_easy_getinfo", (void **)&api.easy_getinfo);
                if (ret >= 0) ret = bind_symbol(lib, "curl_easy_cleanup", (void **)&api.easy_cleanup);
                if (ret >= 0) ret = bind_symbol(lib, "curl_easy_strerror", (void **)&api.easy_strerror);
                if (ret >= 0) ret = bind_symbol(lib, "curl_slist_append", (void **)&api.slist_append);
                if (ret >= 0) ret = bind_symbol(lib, "curl_slist_free_all", (void **)&api.slist_free_all);
                if (ret >= 0) ret = bind_symbol(lib, "curl_multi_init", (void **)&api.multi_init);
                if (ret >= 0) ret = bind_symbol(lib, "curl_multi_add_handle", (void **)&api.multi_add_handle);
                if (ret >= 0) ret = bind_symbol(lib, "curl_multi_remove_handle", (void **)&api.multi_remove_handle);
                if (ret >= 0) ret = bind_symbol(lib, "curl_multi_perform", (void **)&api.multi_perform);
                if (ret >= 0) ret = bind_symbol(lib, "curl_multi_poll", (void **)&api.multi_poll);
                if (ret >= 0) ret = bind_symbol(lib, "curl_multi_info_read", (void **)&api.multi_info_read);
                if (ret >= 0) ret = bind_symbol(lib, "curl_multi_cleanup", (void **)&api.multi_cleanup);
                if (ret < 0) {
                        loaded = -1;
                        dlclose(lib);
                        return ret;
                }
                loaded = 1;
        }
        *out = &api;
        return 0;
}
