// HEARSAY_HD marks functions shared by host code and CUDA device code (the per-element
// arithmetic and the counter-based generator), so a GPU encoder produces the same bytes as the
// CPU encoder for the same key.
#pragma once

#if defined(__CUDACC__)
#define HEARSAY_HD __host__ __device__ __forceinline__
#else
#define HEARSAY_HD inline
#endif
