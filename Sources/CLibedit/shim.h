// The readline-compatible API of libedit (line editing, history, completion) for the
// tokmesh-cli REPL (spec/09 §7), with accessors for its global variables so Swift 6 code
// does not touch shared mutable C state directly.
#include <stdio.h>
#include <editline/readline.h>

static inline void tm_set_completion(rl_completion_func_t *f) { rl_attempted_completion_function = f; }
static inline void tm_completion_over(void) { rl_attempted_completion_over = 1; }
static inline const char *tm_line_buffer(void) { return rl_line_buffer ? rl_line_buffer : ""; }
static inline int tm_history_base(void) { return history_base; }
/// libedit must not install its own signal handlers (the REPL handles SIGINT itself); call
/// before the first readline call.
static inline void tm_no_signal_handlers(void) { rl_catch_signals = 0; }
/// Ends the current readline() call (it returns NULL): Ctrl+C typed as a key on the prompt.
static inline void tm_set_done(void) { rl_done = 1; }
