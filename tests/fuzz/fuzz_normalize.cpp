// Fuzz target: a layer (any tar dialect, any compression) through the reader into the canonical
// writer, as `reproimg normalize IN -o OUT` does it.
// Invariants: an input is refused (util::Error) or normalised; a refused input leaves nothing in
// the output directory; read from a pipe it gives the same bytes as read from a file; normalising
// the output again gives the same bytes, whatever compression the output had.
#include "fuzz_support.hpp"
#include "normalize/pipeline.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/spool.hpp"

#include <filesystem>
#include <optional>

using namespace reproimg;
using reproimg::fuzz::check;

namespace {

normalize::NormalizeOptions options(normalize::Compression c)
{
  normalize::NormalizeOptions o;
  o.compression = c;
  o.progress = util::ProgressMode::off;
  // A sparse map may declare gigabytes of holes (--max-sparse-fill refuses more than this).
  o.policy.max_sparse_fill = 1 << 20;
  return o;
}

// Normalises the bytes at path into memory; nullopt if refused.
std::optional<std::string> normalize_to_string(const std::string& path)
{
  fuzz::StringSink sink;
  normalize::Report report;
  try {
    normalize::normalize_layer({readers::LayerSource::Kind::tar, path}, options(normalize::Compression::none), &sink,
                               report);
  } catch (const util::Error& e) {
    fuzz::refused(e);
    return std::nullopt;
  }
  return std::move(sink.bytes);
}

bool dir_is_empty(const std::string& dir)
{
  return std::filesystem::is_empty(dir);
}

const std::string& out_dir()
{
  static util::TempDir dir(util::temp_directory() + "/reproimg-fuzz-normalize.");
  return dir.path();
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
  fuzz::ignore_sigpipe();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size)
{
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The output compression varies with the input, so every compressor's output is read back.
  const normalize::Compression compression = static_cast<normalize::Compression>(size % 3);
  const fuzz::MemFile input(bytes);
  const std::string out_path = out_dir() + "/out.tar";

  // 1. As the CLI writes it (cli::OutputTarget): an atomic output file, committed only on success.
  std::optional<std::string> written;
  std::uint64_t tar_size = 0;
  try {
    util::AtomicFile file(out_path);
    util::FdSink sink(file.fd(), out_path);
    normalize::Report report;
    normalize::normalize_layer({readers::LayerSource::Kind::tar, input.path()}, options(compression), &sink, report);
    sink.finish();
    file.commit();
    tar_size = report.bytes_out;
    written = util::read_file(out_path);
    std::filesystem::remove(out_path);
  } catch (const util::Error& e) {
    fuzz::refused(e);
    check(dir_is_empty(out_dir()), "a refused input left a file in the output directory");
  }
  check(dir_is_empty(out_dir()), "the output directory is not empty after a run");

  // A canonical tar of many MiB (a 26 MB GNU long name expands from a 26 KB gzip) is checked once:
  // three more passes over it would cost seconds under ASan and hit -timeout on a busy machine.
  if (tar_size > (std::uint64_t{4} << 20)) {
    return 0;
  }

  // 2. The same input from a pipe (no seeking, no source offsets) gives the same decision and bytes.
  std::optional<std::string> piped;
  {
    const fuzz::PipeFeed pipe(bytes);
    piped = normalize_to_string(pipe.path());
  }
  check(written.has_value() == piped.has_value(), written ? "refused from a pipe, accepted from a file"
                                                          : "accepted from a pipe, refused from a file");
  if (!written) {
    return 0;
  }
  fuzz::dump("written", *written);
  fuzz::dump("piped", *piped);

  // 3. The canonical form read back (decompressed) is the canonical tar, and a fixed point.
  const fuzz::MemFile first(*written);
  const std::optional<std::string> canonical = normalize_to_string(first.path());
  check(canonical.has_value(), "normalize refused its own output");
  fuzz::dump("canonical", *canonical);
  if (compression == normalize::Compression::none) {
    check(*piped == *written, "the canonical tar differs between file and pipe input");
    check(*canonical == *written, "normalize(normalize(x)) != normalize(x)");
  } else {
    check(*canonical == *piped, "the compressed output, read back, differs from the canonical tar of the pipe input");
    const fuzz::MemFile second(*canonical);
    const std::optional<std::string> again = normalize_to_string(second.path());
    fuzz::dump("again", again.value_or(""));
    check(again && *again == *canonical, "normalize(normalize(x)) != normalize(x)");
  }
  return 0;
}
