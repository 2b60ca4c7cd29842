// The OpenBLAS trait's C interface: cblas_sgemm and openblas_set_num_threads (Debian: libopenblas-dev).
#include <cblas.h>
