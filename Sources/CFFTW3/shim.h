#pragma once
/* Do not include <complex.h> before fftw3.h: fftw_complex must stay double[2]. */
#include <fftw3.h>
