/* Loading libmicrohttpd on demand (see mhd.h). The soname is the one
 * Debian's libmicrohttpd12 installs; the unversioned name (the -dev
 * package's link) is the fallback for a build against another version. */
#define PUB_MHD_LOADER
#include "mhd.h"
#include <dlfcn.h>
#include <stdbool.h>

pub_mhd_api pub_mhd;

pub_diag *pub_mhd_load(void)
{
    static bool loaded;
    if (loaded) return NULL;
    void *lib = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libmicrohttpd.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return pub_diag_new(PUB_ERROR, NULL, 0, 0,
                            "serve needs libmicrohttpd (Debian: libmicrohttpd12): %s", dlerror());
    const char *missing = NULL;
    /* POSIX's way to take a function from dlsym's void pointer. */
#define PUB_MHD_SYMBOL(name)                                                                        \
    if (!missing && !(*(void **)&pub_mhd.name = dlsym(lib, #name))) missing = #name;
    PUB_MHD_FUNCTIONS(PUB_MHD_SYMBOL)
#undef PUB_MHD_SYMBOL
    if (missing) {
        dlclose(lib);
        return pub_diag_new(PUB_ERROR, NULL, 0, 0, "serve needs libmicrohttpd: '%s' is missing from it",
                            missing);
    }
    loaded = true; /* the library stays loaded until the process ends */
    return NULL;
}
