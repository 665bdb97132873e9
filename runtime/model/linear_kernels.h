// The two products of the linear models (softmax and logistic regression), written for their
// shapes: a batch of n rows (tens) against k weight rows (a few classes) of d features (up to
// millions). A general GEMM (Eigen) spends most of its time packing these long, thin operands into
// blocks; here both operands are read in place, row by row, in chunks of features that stay in
// L1/L2 while every (row, class) pair uses them, and the batch's rows are read where they are (a
// sampler's gather view, Batch::row_index), so nothing is copied.
//
// Results are a fixed function of the inputs: each dot product keeps 16 partial sums (feature f
// goes to sum f mod 16, in increasing f), added in a fixed tree at the end, and the gradient adds
// the rows' contributions one row after the other. The order does not depend on the instruction
// set (no FMA; the lanes are the same on SSE, AVX2 or AVX-512), so peers on different x86 CPUs
// compute the same bits.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

#include "runtime/data/dataset.h"

namespace hearsay {

// out[i * k + c] = dot(row i of the batch, w + c * d) for i < batch.rows, c < k (rows have d
// features: batch.cols when rows > 0).
void RowWeightDots(const Batch& batch, const float* w, int64_t d, int32_t k, float* out);

// gw[c * d + f] = l2 * w[c * d + f] + sum over i (in order) of g[i * k + c] * row_i[f], for the
// k x d weights (an empty batch gives l2 * w).
void WeightGradient(const Batch& batch, const float* g, int64_t d, int32_t k, float l2,
                    const float* w, float* gw);

}  // namespace hearsay
