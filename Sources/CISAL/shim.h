#pragma once
#include <isa-l/igzip_lib.h>

/* Macro values Swift cannot import (computed from other macros). */
static inline unsigned bioembed_isal_level1_buffer_size(void) { return ISAL_DEF_LVL1_DEFAULT; }
