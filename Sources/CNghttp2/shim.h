// System-library shim for libnghttp2 1.52 (Debian libnghttp2-dev): the HTTP/2 framing engine
// under every h2 connection (spec/06 §7). Debian's backported hardening options are declared
// weak here and applied only when the installed library has them.
#include <nghttp2/nghttp2.h>

#pragma weak nghttp2_option_set_stream_reset_rate_limit
#pragma weak nghttp2_option_set_max_continuations

/// Applies the rapid-reset and CONTINUATION-flood limits when the library provides them;
/// returns a bit set of what was applied (1: reset rate limit, 2: max continuations).
static inline int tm_nghttp2_option_harden(nghttp2_option *option) {
    int applied = 0;
    if (nghttp2_option_set_stream_reset_rate_limit) {
        nghttp2_option_set_stream_reset_rate_limit(option, 1000, 33);
        applied |= 1;
    }
    if (nghttp2_option_set_max_continuations) {
        nghttp2_option_set_max_continuations(option, 8);
        applied |= 2;
    }
    return applied;
}
