// System-library shim for libargon2 (Debian libargon2-dev): Argon2id hashing for API secrets.
#include <argon2.h>
