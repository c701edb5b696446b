#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H

#include <zlib.h>

// inflateInit2 is a macro that Swift does not import; this calls the function behind it.
static inline int czlib_inflate_init2(z_streamp stream, int window_bits) {
    return inflateInit2_(stream, window_bits, ZLIB_VERSION, (int)sizeof(z_stream));
}

// deflateInit2 is a macro as well.
static inline int czlib_deflate_init2(z_streamp stream, int level, int window_bits) {
    return deflateInit2_(stream, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, (int)sizeof(z_stream));
}

#endif
