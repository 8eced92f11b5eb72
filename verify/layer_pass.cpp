// The single pass over a layer: normalize_layer with an observer that records the entries.
#include "verify/layer_pass.hpp"

#include "normalize/entry_observer.hpp"
#include "normalize/pipeline.hpp"
#include "normalize/report.hpp"

#include <unordered_map>

namespace reproimg::verify {

namespace {

// Records every entry as diff does (diff::record_of_entry), its content as a digest.
class Recorder : public normalize::EntryObserver {
public:
  Recorder(diff::LayerIndex& index, int number) : m_index(index), m_number(number) {}

  void on_entry(const readers::SourceEntry& entry, const std::string& content_sha256) override
  {
    const std::uint64_t ordinal = m_ordinal++;
    std::optional<diff::FileRecord> r = diff::record_of_entry(entry, m_number);
    if (!r) {
      return;
    }
    r->position = ordinal;
    if (r->type == readers::EntryType::regular) {
      r->content.kind = diff::ContentHandle::Kind::digest_only;
      r->content.sha256 = content_sha256;
    }
    const auto [it, inserted] = m_slot.emplace(r->path, m_index.records.size());
    if (inserted) {
      m_index.records.push_back(std::move(*r));
    } else {
      ++m_index.duplicates;
      m_index.records[it->second] = std::move(*r);
    }
  }

private:
  diff::LayerIndex& m_index;
  int m_number;
  std::uint64_t m_ordinal = 0;
  std::unordered_map<std::string, size_t> m_slot;
};

// Sees entries for the stored identities alone.
class Nothing : public normalize::EntryObserver {
public:
  bool wants_contents() const override { return false; }
  void on_entry(const readers::SourceEntry&, const std::string&) override {}
};

} // namespace

LayerPass read_layer(const readers::LayerSource& source, const normalize::Policy& policy, FileList files, int number,
                     util::ProgressMode progress, Indexes& indexes)
{
  LayerPass pass;
  auto index = std::make_unique<diff::LayerIndex>();
  Recorder recorder(*index, number);
  Nothing nothing;
  normalize::NormalizeOptions options;
  options.policy = policy;
  options.compression = normalize::Compression::none;
  options.compute_digests = true;
  options.progress = progress;
  if (files == FileList::read) {
    options.observer = &recorder;
  } else if (source.kind == readers::LayerSource::Kind::tar) {
    options.observer = &nothing; // for the stored identities
  }
  normalize::Report report;
  const normalize::LayerResult result = normalize::normalize_layer(source, options, nullptr, report);
  pass.compression = result.input_compression;
  pass.blob_digest = result.input_blob_digest;
  pass.blob_size = result.input_blob_size;
  pass.diff_id = result.input_diff_id;
  pass.canonical_diff_id = result.diff_id;
  if (files == FileList::read) {
    indexes.push_back(std::move(index));
  }
  return pass;
}

} // namespace reproimg::verify
