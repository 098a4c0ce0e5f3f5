#pragma once
/* OpenSSL libcrypto: SHA-256 with the CPU's SHA extensions where present. */
#include <openssl/evp.h>
