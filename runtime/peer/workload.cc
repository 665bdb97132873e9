#include "runtime/peer/workload.h"

#include <functional>
#include <memory>

#include "runtime/data/csv_data.h"
#include "runtime/data/idx.h"
#include "runtime/data/libsvm.h"
#include "runtime/data/partition.h"
#include "runtime/data/synthetic.h"

namespace hearsay {

namespace {

// Data errors name the data file (and its line); the prefix says which experiment setting led
// there.
Status AtData(const RunConfig& run, const Status& s) {
  return run.data_at.empty() ? s : s.WithPrefix(run.data_at + ": data");
}

// One data file (with its labels file for idx). `features`: libsvm's declared width (the test
// file takes the training file's).
Result<Dataset> LoadFile(const DataConfig& d, const std::string& path, const std::string& labels,
                         int64_t features) {
  if (d.kind == "csv") return LoadCsv(path, d.csv);
  if (d.kind == "idx") return LoadIdx(path, labels);
  return LoadLibsvm(path, features);
}

// A data file's labels (num_features, num_classes, every label; no features) and a reader of
// some of its examples: what a peer needs to read its shard alone. Text files are parsed once,
// every line checked (the same errors as LoadFile), keeping where each example is; a shard's
// lines are then parsed again. IDX files read the labels whole and a shard's images alone.
struct IndexedFile {
  Dataset labels;
  std::function<Result<Dataset>(const std::vector<int64_t>&)> read;
};

Result<IndexedFile> IndexFile(const DataConfig& d, const std::string& path,
                              const std::string& labels, int64_t features) {
  IndexedFile f;
  if (d.kind == "idx") {
    HEARSAY_ASSIGN_OR_RETURN(f.labels, LoadIdxLabels(path, labels));
    f.read = [path, labels](const std::vector<int64_t>& rows) {
      return LoadIdxRows(path, labels, rows);
    };
  } else if (d.kind == "csv") {
    HEARSAY_ASSIGN_OR_RETURN(CsvIndex index, CsvIndex::Build(path, d.csv));
    auto shared = std::make_shared<const CsvIndex>(std::move(index));
    f.labels = shared->labels();
    f.read = [shared](const std::vector<int64_t>& rows) { return shared->Rows(rows); };
  } else {
    HEARSAY_ASSIGN_OR_RETURN(LibsvmIndex index, LibsvmIndex::Build(path, features));
    auto shared = std::make_shared<const LibsvmIndex>(std::move(index));
    f.labels = shared->labels();
    f.read = [shared](const std::vector<int64_t>& rows) { return shared->Rows(rows); };
  }
  return f;
}

// Reorders the training rows so that each peer's shard is one contiguous block, in the order of
// its indices, and renumbers the shards accordingly. Every peer draws the same rows with the same
// values as before (its sampler walks positions of its shard), so training is unchanged bit for
// bit; what changes is locality: a shard drawn at random from the whole set put every minibatch
// row on its own cache lines and pages, which the simulator's thousands of peers paid as cache and
// TLB misses in each step (docs/simulator.md). Only the order of the full-training-set evaluation's
// sum changes. Shards that are not a partition of every row are left as they are.
void StoreShardsContiguously(Workload& w) {
  const auto n = static_cast<size_t>(w.train.size());
  std::vector<int64_t> order;
  order.reserve(n);
  for (const auto& shard : w.shards) order.insert(order.end(), shard.begin(), shard.end());
  if (order.size() != n) return;
  std::vector<char> seen(n, 0);
  for (int64_t r : order) {
    if (r < 0 || static_cast<size_t>(r) >= n || seen[static_cast<size_t>(r)]) return;
    seen[static_cast<size_t>(r)] = 1;
  }
  w.train = Gather(w.train, order);
  int64_t next = 0;
  for (auto& shard : w.shards) {
    for (int64_t& r : shard) r = next++;
  }
}

Status CheckShareable(const RunConfig& run, int64_t examples, int num_peers) {
  if (examples >= num_peers) return Status::Ok();
  return InvalidArgument("run '" + run.name + "': " + std::to_string(examples) +
                         " training examples cannot be shared by " + std::to_string(num_peers) +
                         " peers");
}

Status CheckTestFeatures(const DataConfig& d, const Dataset& train, const Dataset& test) {
  if (test.num_features == train.num_features) return Status::Ok();
  return InvalidArgument(d.test_path + ": has " + std::to_string(test.num_features) +
                         " features, the training file " + d.path + " has " +
                         std::to_string(train.num_features));
}

Status ReadData(const RunConfig& run, int num_peers, Workload& w) {
  const DataConfig& d = run.data;
  if (d.kind == "synthetic") {
    HEARSAY_ASSIGN_OR_RETURN(Dataset all, MakeSynthetic(d.synthetic));
    TrainTest split = SplitTrainTest(all, d.test_fraction, d.synthetic.seed);
    w.train = std::move(split.train);
    w.test = std::move(split.test);
  } else {
    HEARSAY_ASSIGN_OR_RETURN(Dataset all, LoadFile(d, d.path, d.labels, d.features));
    if (d.test_path.empty()) {
      TrainTest split = SplitTrainTest(all, d.test_fraction, run.seed);
      w.train = std::move(split.train);
      w.test = std::move(split.test);
    } else {
      w.train = std::move(all);
      HEARSAY_ASSIGN_OR_RETURN(w.test,
                               LoadFile(d, d.test_path, d.test_labels, w.train.num_features));
      HEARSAY_RETURN_IF_ERROR(CheckTestFeatures(d, w.train, w.test));
      w.test.num_classes = std::max(w.test.num_classes, w.train.num_classes);
      w.train.num_classes = w.test.num_classes;
    }
  }
  HEARSAY_RETURN_IF_ERROR(CheckShareable(run, w.train.size(), num_peers));
  w.shards = PartitionIndices(w.train, num_peers, d.partition, run.seed, d.alpha);
  StoreShardsContiguously(w);
  return Status::Ok();
}

// Once w.train holds exactly shard `peer`'s rows, in its order: that shard becomes rows 0..m-1,
// the other shards and the test set are dropped.
void RenumberAsOnlyShard(Workload& w, int peer) {
  for (size_t p = 0; p < w.shards.size(); ++p) {
    std::vector<int64_t>& shard = w.shards[p];
    if (p != static_cast<size_t>(peer)) {
      std::vector<int64_t>().swap(shard);
      continue;
    }
    for (size_t r = 0; r < shard.size(); ++r) shard[r] = static_cast<int64_t>(r);
  }
  w.test = Dataset{w.train.num_features, w.train.num_classes, {}, {}};
}

// Shard `peer`'s examples as indices into the whole data set, from its labels alone (`all`: every
// example's label, num_features and num_classes; no features): the train/test split (unless
// `split` is false: `all` is the training set) and the partition need nothing else. Sets w.shards.
Result<std::vector<int64_t>> PeerRows(const RunConfig& run, int num_peers, int peer,
                                      const Dataset& all, bool split, uint64_t split_seed,
                                      Workload& w) {
  TrainTestRows rows;
  if (split) {
    rows = SplitTrainTestRows(all.size(), run.data.test_fraction, split_seed);
  } else {
    rows.train.resize(all.labels.size());
    for (size_t i = 0; i < rows.train.size(); ++i) rows.train[i] = static_cast<int64_t>(i);
  }
  Dataset train;  // labels only: what the partition reads
  train.num_features = all.num_features;
  train.num_classes = all.num_classes;
  train.labels.reserve(rows.train.size());
  for (int64_t i : rows.train) train.labels.push_back(all.labels[static_cast<size_t>(i)]);
  HEARSAY_RETURN_IF_ERROR(CheckShareable(run, train.size(), num_peers));
  w.shards = PartitionIndices(train, num_peers, run.data.partition, run.seed, run.data.alpha);
  std::vector<int64_t> mine;
  for (int64_t r : w.shards[static_cast<size_t>(peer)]) {
    mine.push_back(rows.train[static_cast<size_t>(r)]);
  }
  return mine;
}

// ReadData cut to shard `peer`, generating or reading only the shard's rows: the split and
// partition need only the labels.
Status ReadPeerData(const RunConfig& run, int num_peers, int peer, Workload& w) {
  const DataConfig& d = run.data;
  if (d.kind == "synthetic") {
    Dataset all;
    all.num_features = d.synthetic.features;
    all.num_classes = d.synthetic.classes;
    HEARSAY_ASSIGN_OR_RETURN(all.labels, SyntheticLabels(d.synthetic));
    HEARSAY_ASSIGN_OR_RETURN(std::vector<int64_t> rows,
                             PeerRows(run, num_peers, peer, all, true, d.synthetic.seed, w));
    HEARSAY_ASSIGN_OR_RETURN(w.train, MakeSyntheticRows(d.synthetic, rows));
  } else {
    HEARSAY_ASSIGN_OR_RETURN(IndexedFile file, IndexFile(d, d.path, d.labels, d.features));
    Dataset& all = file.labels;
    if (!d.test_path.empty()) {
      // The test set's shape and classes only: checked and merged as ReadData does.
      HEARSAY_ASSIGN_OR_RETURN(IndexedFile test,
                               IndexFile(d, d.test_path, d.test_labels, all.num_features));
      HEARSAY_RETURN_IF_ERROR(CheckTestFeatures(d, all, test.labels));
      all.num_classes = std::max(all.num_classes, test.labels.num_classes);
    }
    HEARSAY_ASSIGN_OR_RETURN(std::vector<int64_t> rows,
                             PeerRows(run, num_peers, peer, all, d.test_path.empty(), run.seed, w));
    HEARSAY_ASSIGN_OR_RETURN(w.train, file.read(rows));
    w.train.num_classes = all.num_classes;
  }
  RenumberAsOnlyShard(w, peer);
  return Status::Ok();
}

Status AddModel(const RunConfig& run, Workload& w) {
  auto model = MakeModel(run.model, w.train.num_features, w.train.num_classes);
  if (!model.ok()) {
    return model.status().WithPrefix((run.model_at.empty() ? "" : run.model_at + ": ") + "run '" +
                                     run.name + "'");
  }
  w.model = std::move(model).value();
  return Status::Ok();
}

}  // namespace

Result<Workload> BuildWorkload(const RunConfig& run, int num_peers) {
  Workload w;
  Status data = ReadData(run, num_peers, w);
  if (!data.ok()) return AtData(run, data);
  HEARSAY_RETURN_IF_ERROR(AddModel(run, w));
  return w;
}

Result<Workload> BuildPeerWorkload(const RunConfig& run, int num_peers, int peer) {
  if (peer < 0 || peer >= num_peers) {
    return InvalidArgument("peer id " + std::to_string(peer) + " is not one of the " +
                           std::to_string(num_peers) + " peers");
  }
  Workload w;
  Status data = ReadPeerData(run, num_peers, peer, w);
  if (!data.ok()) return AtData(run, data);
  HEARSAY_RETURN_IF_ERROR(AddModel(run, w));
  return w;
}

}  // namespace hearsay
