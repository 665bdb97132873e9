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

// One data file (with its labels file for idx), whole. `features`: libsvm's declared width (the
// test file takes the training file's). `index_dir` (may be empty): where to leave a text file's
// index for the peers (a failure to write it only costs them a parse).
Result<Dataset> LoadFile(const DataConfig& d, const std::string& path, const std::string& labels,
                         int64_t features, const std::string& index_dir = "") {
  if (d.kind == "idx") return LoadIdx(path, labels);
  if (d.kind == "csv") {
    if (index_dir.empty()) return LoadCsv(path, d.csv);
    CsvIndex index;
    HEARSAY_ASSIGN_OR_RETURN(Dataset data, LoadCsv(path, d.csv, 0, &index));
    (void)index.Save(TextIndexPath(index_dir, path));
    return data;
  }
  if (index_dir.empty()) return LoadLibsvm(path, features);
  LibsvmIndex index;
  HEARSAY_ASSIGN_OR_RETURN(Dataset data, LoadLibsvm(path, features, 0, &index));
  (void)index.Save(TextIndexPath(index_dir, path));
  return data;
}

// A data set's labels (num_features, num_classes, every example's label; no features) and a
// reader of any of its examples, in any order: the split and partition are computed from the
// labels, then only the rows wanted are generated or read, straight into their final order.
struct RowSource {
  Dataset labels;
  std::function<Result<Dataset>(const std::vector<int64_t>&)> read;
};

RowSource SourceOf(Dataset labels, std::function<Result<Dataset>(const std::vector<int64_t>&)> f) {
  return RowSource{std::move(labels), std::move(f)};
}

// Every example's label of `data`, without its features.
Dataset LabelsOf(const Dataset& data) {
  return Dataset{data.num_features, data.num_classes, {}, data.labels};
}

// The rows of synthetic data are generated (each is a pure function of the seed and its index)
// and those of an IDX file read alone. `whole`: a text file is parsed once and held (the full
// build reads most of it anyway); otherwise it is indexed -- parsed once, every line checked (the
// same errors as LoadFile), keeping where each example is -- and a shard's lines parsed again.
Result<RowSource> OpenSource(const DataConfig& d, const std::string& path,
                             const std::string& labels, int64_t features, bool whole,
                             const std::string& index_dir) {
  if (d.kind == "synthetic") {
    Dataset all{d.synthetic.features, d.synthetic.classes, {}, {}};
    HEARSAY_ASSIGN_OR_RETURN(all.labels, SyntheticLabels(d.synthetic));
    const SyntheticConfig config = d.synthetic;
    return SourceOf(std::move(all), [config](const std::vector<int64_t>& rows) {
      return MakeSyntheticRows(config, rows);
    });
  }
  if (d.kind == "idx") {
    HEARSAY_ASSIGN_OR_RETURN(Dataset all, LoadIdxLabels(path, labels));
    return SourceOf(std::move(all), [path, labels](const std::vector<int64_t>& rows) {
      return LoadIdxRows(path, labels, rows);
    });
  }
  if (whole) {
    HEARSAY_ASSIGN_OR_RETURN(Dataset data, LoadFile(d, path, labels, features, index_dir));
    auto shared = std::make_shared<const Dataset>(std::move(data));
    return SourceOf(LabelsOf(*shared), [shared](const std::vector<int64_t>& rows) {
      return Result<Dataset>(Gather(*shared, rows));
    });
  }
  // The launcher's index of the file when it is one of the file as it is now, else a parse.
  const std::string saved = index_dir.empty() ? "" : TextIndexPath(index_dir, path);
  if (d.kind == "csv") {
    Result<CsvIndex> index = saved.empty() ? NotFound("") : CsvIndex::Load(saved, path, d.csv);
    if (!index.ok()) index = CsvIndex::Build(path, d.csv);
    if (!index.ok()) return index.status();
    auto shared = std::make_shared<const CsvIndex>(std::move(index).value());
    return SourceOf(shared->labels(),
                    [shared](const std::vector<int64_t>& rows) { return shared->Rows(rows); });
  }
  Result<LibsvmIndex> index =
      saved.empty() ? NotFound("") : LibsvmIndex::Load(saved, path, features);
  if (!index.ok()) index = LibsvmIndex::Build(path, features);
  if (!index.ok()) return index.status();
  auto shared = std::make_shared<const LibsvmIndex>(std::move(index).value());
  return SourceOf(shared->labels(),
                  [shared](const std::vector<int64_t>& rows) { return shared->Rows(rows); });
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

// Which examples go where, computed from the labels alone.
struct RowPlan {
  RowSource source;
  std::vector<int64_t> train;                // training examples, indices into the source
  std::vector<int64_t> test;                 // held-out examples (none with a test file)
  std::vector<std::vector<int64_t>> shards;  // per peer: positions in `train`
  int32_t num_classes = 0;                   // the training and test sets' (merged)
  Dataset test_file;                         // the test file, when there is one and it was read
};

// The source, the train/test split (or the test file's classes merged in) and the partition.
// `whole`: the full build (the test file is read, a text file parsed once and held); otherwise
// a peer's (the test file's classes only, text files indexed).
Result<RowPlan> PlanRows(const RunConfig& run, int num_peers, bool whole,
                         const std::string& index_dir) {
  const DataConfig& d = run.data;
  RowPlan plan;
  HEARSAY_ASSIGN_OR_RETURN(plan.source,
                           OpenSource(d, d.path, d.labels, d.features, whole, index_dir));
  const Dataset& all = plan.source.labels;
  plan.num_classes = all.num_classes;
  if (!d.test_path.empty()) {
    Dataset test_labels;
    if (whole) {
      HEARSAY_ASSIGN_OR_RETURN(
          plan.test_file, LoadFile(d, d.test_path, d.test_labels, all.num_features, index_dir));
      test_labels = LabelsOf(plan.test_file);
    } else {
      // The test set's shape and classes only: checked and merged as the full build does.
      HEARSAY_ASSIGN_OR_RETURN(RowSource test, OpenSource(d, d.test_path, d.test_labels,
                                                          all.num_features, false, index_dir));
      test_labels = std::move(test.labels);
    }
    HEARSAY_RETURN_IF_ERROR(CheckTestFeatures(d, all, test_labels));
    plan.num_classes = std::max(all.num_classes, test_labels.num_classes);
    plan.train.resize(all.labels.size());
    for (size_t i = 0; i < plan.train.size(); ++i) plan.train[i] = static_cast<int64_t>(i);
  } else {
    const uint64_t seed = d.kind == "synthetic" ? d.synthetic.seed : run.seed;
    TrainTestRows split = SplitTrainTestRows(all.size(), d.test_fraction, seed);
    plan.train = std::move(split.train);
    plan.test = std::move(split.test);
  }
  // The training set's labels alone: what the partition reads.
  Dataset train{all.num_features, plan.num_classes, {}, {}};
  train.labels.reserve(plan.train.size());
  for (int64_t i : plan.train) train.labels.push_back(all.labels[static_cast<size_t>(i)]);
  HEARSAY_RETURN_IF_ERROR(CheckShareable(run, train.size(), num_peers));
  plan.shards = PartitionIndices(train, num_peers, d.partition, run.seed, d.alpha);
  return plan;
}

// The full build: the training rows are read in shard order, so that each peer's shard is one
// contiguous block (in the order of its indices), and the shards renumbered accordingly. Every
// peer draws the same rows with the same values as from the set in file order (its sampler walks
// positions of its shard), so training is the same bit for bit; what changes is locality: a shard
// drawn at random from the whole set put every minibatch row on its own cache lines and pages,
// which the simulator's thousands of peers paid as cache and TLB misses in each step
// (docs/simulator.md). Only the order of the full-training-set evaluation's sum changes. The data
// set is never held twice, except a text file (parsed whole, then gathered).
Status ReadData(const RunConfig& run, int num_peers, const std::string& index_dir, Workload& w) {
  HEARSAY_ASSIGN_OR_RETURN(RowPlan plan, PlanRows(run, num_peers, /*whole=*/true, index_dir));
  std::vector<int64_t> order;  // source indices of the training rows, shard after shard
  order.reserve(plan.train.size());
  for (const auto& shard : plan.shards) {
    for (int64_t r : shard) order.push_back(plan.train[static_cast<size_t>(r)]);
  }
  if (order.size() == plan.train.size()) {
    int64_t next = 0;
    for (auto& shard : plan.shards) {
      for (int64_t& r : shard) r = next++;
    }
  } else {
    order = plan.train;  // no peers (no partition): the training set in source order
  }
  w.shards = std::move(plan.shards);
  HEARSAY_ASSIGN_OR_RETURN(w.train, plan.source.read(order));
  if (run.data.test_path.empty()) {
    HEARSAY_ASSIGN_OR_RETURN(w.test, plan.source.read(plan.test));
  } else {
    w.test = std::move(plan.test_file);
  }
  w.train.num_classes = w.test.num_classes = plan.num_classes;
  return Status::Ok();
}

// ReadData cut to shard `peer`, generating or reading only the shard's rows (stored as rows
// 0..m-1); the other shards are left empty and there is no test set.
Status ReadPeerData(const RunConfig& run, int num_peers, int peer, const std::string& index_dir,
                    Workload& w) {
  HEARSAY_ASSIGN_OR_RETURN(RowPlan plan, PlanRows(run, num_peers, /*whole=*/false, index_dir));
  std::vector<int64_t> rows;  // the shard's examples, as source indices
  for (int64_t r : plan.shards[static_cast<size_t>(peer)]) {
    rows.push_back(plan.train[static_cast<size_t>(r)]);
  }
  HEARSAY_ASSIGN_OR_RETURN(w.train, plan.source.read(rows));
  w.train.num_classes = plan.num_classes;
  w.shards = std::move(plan.shards);
  for (size_t p = 0; p < w.shards.size(); ++p) {
    std::vector<int64_t>& shard = w.shards[p];
    if (p != static_cast<size_t>(peer)) {
      std::vector<int64_t>().swap(shard);
      continue;
    }
    for (size_t r = 0; r < shard.size(); ++r) shard[r] = static_cast<int64_t>(r);
  }
  w.test = Dataset{w.train.num_features, w.train.num_classes, {}, {}};
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

Result<Workload> BuildWorkload(const RunConfig& run, int num_peers, const std::string& index_dir) {
  Workload w;
  Status data = ReadData(run, num_peers, index_dir, w);
  if (!data.ok()) return AtData(run, data);
  HEARSAY_RETURN_IF_ERROR(AddModel(run, w));
  return w;
}

Result<Workload> BuildPeerWorkload(const RunConfig& run, int num_peers, int peer,
                                   const std::string& index_dir) {
  if (peer < 0 || peer >= num_peers) {
    return InvalidArgument("peer id " + std::to_string(peer) + " is not one of the " +
                           std::to_string(num_peers) + " peers");
  }
  Workload w;
  Status data = ReadPeerData(run, num_peers, peer, index_dir, w);
  if (!data.ok()) return AtData(run, data);
  HEARSAY_RETURN_IF_ERROR(AddModel(run, w));
  return w;
}

}  // namespace hearsay
