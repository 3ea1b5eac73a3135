// The approximate scan with the training descriptors on disk (scan/descriptor_stream.h): a FAISS
// index (ivf, hnsw or an index_factory string) built without the training set's float matrix in
// memory. The index is trained on a seeded sample of rows (ApproximateIndex::train_rows(), read
// one by one from the files), then every row is added in order, block by block, in one pass over
// the files; that pass also finds the exact top-1 of the recall sample (the measured-recall
// tuning's reference), as scan/stream_scan.h's exact search does. The baseline and duplicate
// counts then search the index with the vectors of their rows, read from the files.
//
// Memory: the index, one block, the training sample while training, the generations. That is
// small next to the training set only for an index of compressed codes (IVF-PQ, OPQ + IVF-PQ:
// `IVF65536,PQ64` holds 64 bytes + an 8-byte id a row); IVF-Flat and HNSW keep every float
// inside FAISS (4 bytes a value, HNSW its graph on top), which streaming saves only the second
// copy of (the in-memory path holds the matrix and FAISS's copy).
//
// Identical results: the sample is the same rows in the same order as build_index() trains on in
// memory, the rows are the same floats (float16 widened, L2-normalised row by row), ids are
// stream rows, and scores are the index's own (no exact rescoring, as in memory). The streamed
// scan therefore equals scan_descriptors() with the same index options over the same rows where
// FAISS's add does not depend on how the rows are batched: IVF-Flat and IVF-PQ assign each row
// to a list with one sgemm against the centroids, whose rounding can differ with the batch's
// shape only for a row within float rounding of two centroids. HNSW is built in parallel and is
// not deterministic, in memory or streamed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "metrics/topk.h"
#include "scan/baseline.h"
#include "scan/descriptor_stream.h"
#include "scan/groups.h"
#include "scan/index.h"
#include "scan/scan_params.h"
#include "scan/stream_scan.h"

namespace repbench::scan {

// `rows` (stream rows, any order) as an L2-normalised [rows.size(), ...] array in that order,
// read in ascending row order (a chunk of rows at a time, for the disk's sake).
FloatArray read_rows_normalised(const DescriptorStream& train, const std::vector<int64_t>& rows);

struct StreamedBuild {
  std::unique_ptr<ApproximateIndex> index;
  metrics::TopKResult reference;  // exact top-1 of each reference query
  double build_seconds = 0;       // sample read, training, adds
  double reference_seconds = 0;   // the exact searches of the reference queries
};

// Builds `kind` (kIvf, kHnsw or kFactory) over every row of `train` (2-D rows), as described
// above, in blocks of options.rows_per_block() rows. `reference`: L2-normalised query rows (may
// be none) whose exact top-1 among all rows is found in the same pass: ids and scores as
// exact_search() over the whole set in memory.
StreamedBuild build_index_streamed(const DescriptorStream& train, IndexKind kind,
                                   const IndexOptions& index_options, const StreamOptions& options,
                                   const FloatArray& reference);

// search_train() over `train` on disk, for an approximate index (`index_options` resolve to one
// for train.rows(); split-product is never approximate). `queries` L2-normalised.
SearchOutcome search_train_streamed(const DescriptorStream& train, const FloatArray& queries,
                                    int64_t k, const IndexOptions& index_options,
                                    const StreamOptions& options,
                                    std::unique_ptr<TrainIndex>* index_out = nullptr);

// The whole scan as scan_descriptors() returns it with an approximate index, plus "stream":
// {"block_rows", "blocks", "peak_rows", "peak_bytes", "passes" (1), "rows_read_singly" (the
// training sample, the baseline sample and the duplicate-counted matches)}. `generated` is
// L2-normalised. `groups` (scan/groups.h; not within groups, which searches exactly): the
// record's per-group counts.
nlohmann::json scan_streamed_approximate(const FloatArray& generated,
                                         const std::vector<std::string>& generated_paths,
                                         const DescriptorStream& train, const ScanParams& params,
                                         const StreamOptions& options,
                                         metrics::TopKResult* matches = nullptr,
                                         const ScanGroups* groups = nullptr);

}  // namespace repbench::scan
