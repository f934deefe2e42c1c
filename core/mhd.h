/* libmicrohttpd, loaded when `publish serve` starts instead of when any
 * publish command starts. Linked in, it pulled GnuTLS and eight more
 * shared libraries into every process: ~2 ms of loading, relocation and
 * library start-up on each build, a no-op build included (~30 ms at 10k
 * posts). serve.c includes this header instead of <microhttpd.h> and
 * calls the library by its usual names, which here are macros for the
 * functions pub_mhd_load found. The package stays a dependency (the
 * README, scripts/setup.sh): only the moment of loading moves. */
#ifndef PUB_MHD_H
#define PUB_MHD_H
#include "diag.h"
#include <microhttpd.h>

/* Every function serve.c calls. */
#define PUB_MHD_FUNCTIONS(X)                                                                        \
    X(MHD_start_daemon)                                                                            \
    X(MHD_stop_daemon)                                                                             \
    X(MHD_create_response_from_buffer)                                                             \
    X(MHD_create_response_from_fd)                                                                 \
    X(MHD_create_response_from_callback)                                                           \
    X(MHD_add_response_header)                                                                     \
    X(MHD_queue_response)                                                                          \
    X(MHD_destroy_response)                                                                        \
    X(MHD_get_connection_info)                                                                     \
    X(MHD_lookup_connection_value)

#define PUB_MHD_FIELD(name) __typeof__(&name) name;
typedef struct pub_mhd_api {
    PUB_MHD_FUNCTIONS(PUB_MHD_FIELD)
} pub_mhd_api;
#undef PUB_MHD_FIELD

/* Filled by pub_mhd_load; read only after it returned NULL. */
extern pub_mhd_api pub_mhd;

/* Loads the library (once; later calls return at once). Returns NULL, or
 * an error saying it could not be loaded (caller frees). Call from one
 * thread, before any other thread calls the library. */
pub_diag *pub_mhd_load(void);

#ifndef PUB_MHD_LOADER
#define MHD_start_daemon pub_mhd.MHD_start_daemon
#define MHD_stop_daemon pub_mhd.MHD_stop_daemon
#define MHD_create_response_from_buffer pub_mhd.MHD_create_response_from_buffer
#define MHD_create_response_from_fd pub_mhd.MHD_create_response_from_fd
#define MHD_create_response_from_callback pub_mhd.MHD_create_response_from_callback
#define MHD_add_response_header pub_mhd.MHD_add_response_header
#define MHD_queue_response pub_mhd.MHD_queue_response
#define MHD_destroy_response pub_mhd.MHD_destroy_response
#define MHD_get_connection_info pub_mhd.MHD_get_connection_info
#define MHD_lookup_connection_value pub_mhd.MHD_lookup_connection_value
#endif

#endif
