// CPUFeatures is header-only (include/CPUFeatures.h); the package manager needs one source file.
